/**
 * A forward-only reader of JSON tokens in a byte buffer, for hot payloads of one fixed shape (kline
 * pages). It accepts a strict subset of JSON: plain decimals in strings (`"-12.5"`), integers, strings
 * without escapes, whitespace between tokens. Anything else sets `failed`, and the caller gives the
 * whole body to `JSON.parse` and the schema instead, so this reader never decides what is an error:
 * it only recognises the common case, and everything it accepts reads exactly as `JSON.parse` and
 * `Number()` would read it.
 */

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const DOT = 0x2e;
const COMMA = 0x2c;
const ZERO = 0x30;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COLON = 0x3a;
const PLUS = 0x2b;
const LITERALS: readonly Uint8Array[] = ['true', 'false', 'null'].map((w) => new TextEncoder().encode(w));

/** Powers of ten that are exact doubles. */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
/** Integers up to this are exact doubles, and so are `m * 10 + d` steps below it. */
const EXACT = 2 ** 53;

/** See the module comment. Methods return `NaN` (numbers) or nothing, and set `failed` on a mismatch. */
export class JsonBytes {
  /** Byte offset of the next token. */
  pos = 0;
  /** The input left the accepted subset; values read since are meaningless. */
  failed = false;
  readonly #b: Uint8Array;
  /** The number `#digits` accumulates. */
  #value = 0;

  constructor(bytes: Uint8Array) {
    this.#b = bytes;
  }

  /** The next byte after whitespace, without consuming it; `-1` at the end. */
  peek(): number {
    const b = this.#b;
    let p = this.pos;
    while (p < b.length) {
      const c = b[p]!;
      if (c !== SPACE && c !== LF && c !== CR && c !== TAB) break;
      p++;
    }
    this.pos = p;
    return p < b.length ? b[p]! : -1;
  }

  /** Consumes `byte` if it comes next and says whether it did. */
  take(byte: number): boolean {
    // Compact JSON has no whitespace: look at the next byte before skipping any.
    if (this.#b[this.pos] === byte || this.peek() === byte) {
      this.pos++;
      return true;
    }
    return false;
  }

  /** Consumes `byte`, which must come next. */
  expect(byte: number): void {
    if (!this.take(byte)) this.failed = true;
  }

  /** Consumes `[`. */
  open(): void {
    this.expect(OPEN_BRACKET);
  }

  /** Consumes `]` if it comes next and says whether it did. */
  close(): boolean {
    return this.take(CLOSE_BRACKET);
  }

  /** Consumes `,`. */
  comma(): void {
    this.expect(COMMA);
  }

  /** Consumes `,` if it comes next and says whether it did. */
  more(): boolean {
    return this.take(COMMA);
  }

  /** True when only whitespace is left. */
  atEnd(): boolean {
    return this.peek() === -1;
  }

  /** A JSON number without fraction or exponent, of at most 15 digits. */
  int(): number {
    const b = this.#b;
    const negative = this.peek() === MINUS;
    const start = negative ? this.pos + 1 : this.pos;
    this.#value = 0;
    const p = this.#digits(start);
    const n = this.#value;
    const digits = p - start;
    this.pos = p;
    // No digits, more than an exact double holds, or a leading zero. A fraction or exponent that
    // follows fails at the caller's next `comma()`/`close()`.
    if (digits === 0 || digits > 15 || (digits > 1 && b[start] === ZERO)) return this.#fail();
    return negative ? -n : n;
  }

  /**
   * A string holding a plain decimal, `-?digits(.digits)?`, as the number `Number(string)` gives:
   * while the digits fit in 2^53 and the fraction in 22 places, one division of two exact doubles is
   * correctly rounded (Clinger's fast path); longer ones are read by `Number()` itself.
   */
  decimalString(): number {
    if (!this.take(QUOTE)) return this.#fail();
    const b = this.#b;
    const start = this.pos;
    const negative = b[start] === MINUS;
    const intStart = negative ? start + 1 : start;
    this.#value = 0;
    let p = this.#digits(intStart);
    const intDigits = p - intStart;
    let fraction = -1;
    if (b[p] === DOT) {
      const fracStart = p + 1;
      p = this.#digits(fracStart);
      fraction = p - fracStart;
    }
    const m = this.#value;
    this.pos = p + 1;
    // `""`, `"."`, `"1."`, `".5"` and anything with other characters are left to the general path.
    if (intDigits === 0 || fraction === 0 || p >= b.length || b[p] !== QUOTE) return this.#fail();
    if (fraction < 0) fraction = 0;
    if (m < EXACT && fraction < POW10.length) {
      const v = m / POW10[fraction]!;
      return negative ? -v : v;
    }
    // Too many digits for the fast path: the text is ASCII, so this is cheap, and it is rare.
    if (p - start > 64) return this.#fail();
    const v = Number(String.fromCharCode(...b.subarray(start, p)));
    return Number.isFinite(v) ? v : this.#fail();
  }

  /** Reads the ASCII digits from `p` on into `#value` (continuing it); returns where they end. */
  #digits(p: number): number {
    const b = this.#b;
    let v = this.#value;
    for (; p < b.length; p++) {
      const d = b[p]! - ZERO;
      if (d >>> 0 > 9) break; // not a digit (a byte below '0' wraps to a large number)
      v = v * 10 + d;
    }
    this.#value = v;
    return p;
  }

  #fail(): number {
    this.failed = true;
    return Number.NaN;
  }

  /** `,` then `decimalString()`: the next value of a row. */
  nextDecimal(): number {
    this.comma();
    return this.decimalString();
  }

  /** `,` then `int()`: the next value of a row. */
  nextInt(): number {
    this.comma();
    return this.int();
  }

  /** Skips a string without escapes or control characters. */
  skipString(): void {
    if (!this.take(QUOTE)) {
      this.failed = true;
      return;
    }
    const b = this.#b;
    let p = this.pos;
    while (p < b.length) {
      const c = b[p]!;
      if (c === QUOTE) {
        this.pos = p + 1;
        return;
      }
      if (c === BACKSLASH || c < SPACE) break;
      p++;
    }
    this.failed = true;
    this.pos = b.length;
  }

  /** Consumes `{`. */
  openObject(): void {
    this.expect(OPEN_BRACE);
  }

  /** Consumes `}` if it comes next and says whether it did. */
  closeObject(): boolean {
    return this.take(CLOSE_BRACE);
  }

  /**
   * Reads an object key and its `:`, and says which of `names` it is: its index, or `-1` for any
   * other key. Keys with escapes fail.
   */
  key(names: readonly Uint8Array[]): number {
    const start = this.peek() === QUOTE ? this.pos + 1 : -1;
    this.skipString();
    const end = this.pos - 1;
    this.expect(COLON);
    if (this.failed) return -1;
    const b = this.#b;
    next: for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (name.length !== end - start) continue;
      for (let j = 0; j < name.length; j++) if (b[start + j] !== name[j]) continue next;
      return i;
    }
    return -1;
  }

  /** `,` then a decimal string or `""`: `undefined` for the empty string. */
  nextDecimalOrEmpty(): number | undefined {
    this.comma();
    const b = this.#b;
    if (this.peek() === QUOTE && b[this.pos + 1] === QUOTE) {
      this.pos += 2;
      return undefined;
    }
    return this.decimalString();
  }

  /** A one-digit string, `"0"` to `"9"` (OKX's `code` and `confirm`), as its digit. */
  digitString(): number {
    const b = this.#b;
    if (this.peek() !== QUOTE || b[this.pos + 2] !== QUOTE) return this.#fail();
    const d = b[this.pos + 1]! - ZERO;
    if (d >>> 0 > 9) return this.#fail();
    this.pos += 3;
    return d;
  }

  /** Object keys as `key()` and `object()` compare them. */
  static names(...names: string[]): readonly Uint8Array[] {
    const utf8 = new TextEncoder();
    return names.map((name) => utf8.encode(name));
  }

  /**
   * Reads an object: for each key in `names`, `read` gets its index and reads the value (and says
   * false to give up); other keys' values are skipped. Returns the bit set of the names read (bit i
   * for `names[i]`), or `-1` when the object leaves the subset, repeats a name, or `read` gives up.
   */
  object(names: readonly Uint8Array[], read: (index: number) => boolean): number {
    let seen = 0;
    this.openObject();
    if (this.closeObject()) return this.failed ? -1 : 0;
    do {
      const k = this.key(names);
      if (k < 0) this.skipValue();
      else if (seen & (1 << k) || !read(k)) return -1;
      else seen |= 1 << k;
    } while (!this.failed && this.more());
    return this.closeObject() && !this.failed ? seen : -1;
  }

  /**
   * Reads an array of arrays (a page of rows): opens each row, lets `read` take the values it wants
   * from its start (and say false to give up), then skips the rest of the row through its `]`. Returns
   * whether the whole array was read within the subset.
   */
  rows(read: () => boolean): boolean {
    this.open();
    if (this.close()) return !this.failed;
    do {
      this.open();
      if (!read()) return false;
      this.skipRest();
    } while (!this.failed && this.more());
    return this.close() && !this.failed;
  }

  /** A start time: a JSON integer or a string of at most 15 digits (`"1670608800000"`), not negative. */
  millis(): number {
    if (this.peek() !== QUOTE) {
      const n = this.int();
      return n >= 0 && !Object.is(n, -0) ? n : this.#fail();
    }
    this.pos++;
    const start = this.pos;
    this.#value = 0;
    const p = this.#digits(start);
    this.pos = p + 1;
    if (p === start || p - start > 15 || this.#b[p] !== QUOTE) return this.#fail();
    return this.#value;
  }

  /**
   * Skips any JSON value: strings without escapes, numbers, `true`/`false`/`null`, and arrays and
   * objects of those, nested at most 32 deep.
   */
  skipValue(depth = 0): void {
    const c = this.peek();
    if (c === QUOTE) this.skipString();
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (depth >= 32) {
        this.#fail();
        return;
      }
      this.pos++;
      const object = c === OPEN_BRACE;
      if (object ? this.closeObject() : this.close()) return;
      do {
        if (object) this.key([]);
        this.skipValue(depth + 1);
      } while (!this.failed && this.more());
      if (!(object ? this.closeObject() : this.close())) this.failed = true;
    } else if (c === MINUS || (c >= ZERO && c <= ZERO + 9)) this.#skipNumber();
    else this.#skipLiteral();
  }

  /** A JSON number: `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`. */
  #skipNumber(): void {
    const b = this.#b;
    let p = this.pos;
    if (b[p] === MINUS) p++;
    const intStart = p;
    p = this.#digits(p);
    if (p === intStart || (p - intStart > 1 && b[intStart] === ZERO)) {
      this.#fail();
      return;
    }
    if (b[p] === DOT) {
      const fracStart = p + 1;
      p = this.#digits(fracStart);
      if (p === fracStart) this.#fail();
    }
    if ((b[p]! | 0x20) === 0x65) {
      p++;
      if (b[p] === PLUS || b[p] === MINUS) p++;
      const expStart = p;
      p = this.#digits(p);
      if (p === expStart) this.#fail();
    }
    this.pos = p;
  }

  #skipLiteral(): void {
    const b = this.#b;
    for (const word of LITERALS) {
      let j = 0;
      while (j < word.length && b[this.pos + j] === word[j]) j++;
      if (j === word.length) {
        this.pos += j;
        return;
      }
    }
    this.#fail();
  }

  /** Skips the rest of an array of strings and integers, through its `]`. */
  skipRest(): void {
    while (!this.failed && this.more()) {
      if (this.peek() === QUOTE) this.skipString();
      else this.int();
    }
    if (!this.close()) this.failed = true;
  }
}
