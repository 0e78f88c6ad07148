/**
 * `decodeBinanceKlines` reads kline bodies from bytes in one pass. It must agree with the general path
 * (`JSON.parse`, the `klines` schema, `binanceCandles`) on every body it accepts, and hand everything
 * else back (`undefined`) rather than guess.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as raw from '../../src/clients/binance/schemas.js';
import { binanceCandles, decodeBinanceKlines } from '../../src/normalize/binance.js';
import { JsonBytes } from '../../src/normalize/json-bytes.js';
import { PEPE } from './instruments.js';

const ctx = { instrument: PEPE, interval: '1m' as const };
const bytes = (text: string) => new TextEncoder().encode(text);

/** The general path: what the transport does with a body the decoder hands back. */
function general(body: Uint8Array): { ok: true; candles: unknown } | { ok: false } {
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return { ok: false };
  }
  const rows = raw.klines.safeParse(data);
  if (!rows.success) return { ok: false };
  try {
    return { ok: true, candles: binanceCandles(rows.data, ctx) };
  } catch {
    return { ok: false };
  }
}

/** Field by field with `Object.is`, so `-0`/`0` and the last bit of every double count. */
function expectSame(fast: readonly object[], slow: unknown) {
  const expected = slow as readonly object[];
  expect(fast.length).toBe(expected.length);
  fast.forEach((candle, i) => {
    expect(Object.keys(candle)).toEqual(Object.keys(expected[i]!));
    for (const [k, v] of Object.entries(candle)) expect(Object.is(v, (expected[i] as never)[k])).toBe(true);
  });
}

const decimal = fc.oneof(
  { arbitrary: fc.stringMatching(/^-?(0|[1-9]\d{0,7})(\.\d{1,10})?$/), weight: 12 },
  // Long ones: past 2^53 in digits or 22 fraction places, where the fast path hands over to Number().
  { arbitrary: fc.stringMatching(/^\d{10,20}\.\d{5,30}$/), weight: 2 },
  {
    arbitrary: fc.constantFrom(
      '0',
      '0.00000000',
      '-0',
      '00012.50',
      '9007199254740993',
      '0.1',
      '1e5',
      ' 1',
      '',
      'NaN',
    ),
    weight: 1,
  },
);
const int = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 2 ** 48 }), weight: 12 },
  { arbitrary: fc.constantFrom(-1, 0, 1.5, 1e21), weight: 1 },
);
const row = fc.tuple(
  int,
  decimal,
  decimal,
  decimal,
  decimal,
  decimal,
  int,
  decimal,
  int,
  decimal,
  fc.oneof(decimal, fc.constant('')),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 2 }),
);
const page = fc
  .array(row, { maxLength: 6 })
  .map((rows) => rows.map(([...r]) => [...r.slice(0, 11), ...r[11]!]));

describe('decodeBinanceKlines', () => {
  it('default: recorded pages decode to exactly what the general path gives', () => {
    for (const name of ['klines.json', 'klines-1m.json']) {
      const body = readFileSync(new URL(`../fixtures/binance/${name}`, import.meta.url));
      const fast = decodeBinanceKlines(body, ctx);
      const slow = general(body);
      expect(fast).toBeDefined();
      expect(slow.ok).toBe(true);
      expect((fast ?? []).length).toBeGreaterThan(0);
      if (slow.ok) expectSame(fast!, slow.candles);
    }
  });

  it('behavior: any page, in any JSON layout, decodes exactly as the general path or is handed back', () => {
    let compared = 0;
    fc.assert(
      fc.property(page, fc.constantFrom(undefined, 1, '\t'), (rows, space) => {
        const body = bytes(JSON.stringify(rows, null, space));
        const fast = decodeBinanceKlines(body, ctx);
        const slow = general(body);
        if (fast === undefined) return;
        expect(slow.ok).toBe(true);
        if (slow.ok) expectSame(fast, slow.candles);
        if (fast.length > 0) compared++;
      }),
      { numRuns: 2000 },
    );
    // The generator must reach the decoder's accepting path often enough for this to mean something.
    expect(compared).toBeGreaterThan(400);
  });

  it('behavior: plain pages are never handed back', () => {
    const plain = fc.array(
      fc.tuple(
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.array(fc.stringMatching(/^(0|[1-9]\d{0,6})(\.\d{1,8})?$/), { minLength: 9, maxLength: 9 }),
        fc.nat(),
      ),
      { maxLength: 5 },
    );
    fc.assert(
      fc.property(plain, (rows) => {
        const json = rows.map(([ts, d, trades]) => [
          ts,
          ...d.slice(0, 5),
          ts + 59_999,
          d[5],
          trades,
          d[6],
          d[7],
          '0',
        ]);
        expect(decodeBinanceKlines(bytes(JSON.stringify(json)), ctx)).toBeDefined();
      }),
    );
  });

  it('behavior: a corrupted page is never decoded into something the general path would not give', () => {
    const body = readFileSync(new URL('../fixtures/binance/klines-1m.json', import.meta.url));
    const alphabet = bytes('[]{},:"\\-.0123456789eE \n\tnul\u0001x');
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            at: fc.nat({ max: body.length - 1 }),
            op: fc.constantFrom('replace', 'insert', 'delete'),
            byte: fc.constantFrom(...alphabet),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        (edits) => {
          const b = Array.from(body);
          for (const { at, op, byte } of edits) {
            const i = Math.min(at, b.length - 1);
            if (op === 'replace') b[i] = byte;
            else if (op === 'insert') b.splice(i, 0, byte);
            else b.splice(i, 1);
          }
          const mutated = Uint8Array.from(b);
          const fast = decodeBinanceKlines(mutated, ctx);
          if (fast === undefined) return;
          const slow = general(mutated);
          expect(slow.ok).toBe(true);
          if (slow.ok) expectSame(fast, slow.candles);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('edge: empty pages, error bodies and trailing bytes', () => {
    expect(decodeBinanceKlines(bytes('[]'), ctx)).toEqual([]);
    expect(decodeBinanceKlines(bytes(' [ ] \n'), ctx)).toEqual([]);
    expect(decodeBinanceKlines(bytes(''), ctx)).toBeUndefined();
    expect(decodeBinanceKlines(bytes('{"code":-1121,"msg":"Invalid symbol."}'), ctx)).toBeUndefined();
    expect(decodeBinanceKlines(bytes('[]x'), ctx)).toBeUndefined();
    expect(decodeBinanceKlines(bytes('[[]]'), ctx)).toBeUndefined();
    // A blank price: the general path turns it into a ValidationError, the decoder never into 0.
    expect(decodeBinanceKlines(bytes('[[1,"","2","3","4","5",2,"6",7,"8","9","0"]]'), ctx)).toBeUndefined();
  });
});

describe('JsonBytes', () => {
  it('default: decimals read exactly as Number() reads them', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^-?\d{1,25}(\.\d{1,30})?$/), (text) => {
        const reader = new JsonBytes(bytes(`"${text}"`));
        expect(Object.is(reader.decimalString(), Number(text))).toBe(true);
        expect(reader.failed).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  it('edge: what is outside the subset fails instead of being read', () => {
    for (const text of [
      '""',
      '"."',
      '"1."',
      '".5"',
      '"1e5"',
      '" 1"',
      '"1 "',
      '"+1"',
      '"0x1A"',
      '"Infinity"',
      '1.5',
      `"${'9'.repeat(400)}"`,
    ]) {
      const reader = new JsonBytes(bytes(text));
      expect(Number.isNaN(reader.decimalString()), text).toBe(true);
      expect(reader.failed, text).toBe(true);
    }
    for (const text of ['01', '-', '1234567890123456', '"1"', '']) {
      const reader = new JsonBytes(bytes(text));
      expect(Number.isNaN(reader.int()), text).toBe(true);
      expect(reader.failed, text).toBe(true);
    }
    const reader = new JsonBytes(bytes('"a\\"b"'));
    reader.skipString();
    expect(reader.failed).toBe(true);
  });
});
