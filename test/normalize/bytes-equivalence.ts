/**
 * Shared checks for the byte decoders (`decode*Klines`): on every body they accept they must give
 * exactly what the general path (`JSON.parse`, the schema, the normaliser) gives, and everything else
 * they must hand back (`undefined`) rather than guess.
 */
import fc from 'fast-check';
import { expect } from 'vitest';

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** What the general path makes of a body: the records, or `ok: false` where it refuses it. */
export type General = (body: Uint8Array) => { ok: true; records: readonly object[] } | { ok: false };

/**
 * The general path from its last steps: `read` gets the parsed body and returns the records, or
 * `undefined` where the schema refuses it; a normaliser's throw counts as a refusal too.
 */
export function generalPath(read: (data: unknown) => readonly object[] | undefined): General {
  return (body) => {
    try {
      const records = read(JSON.parse(new TextDecoder().decode(body)));
      return records === undefined ? { ok: false } : { ok: true, records };
    } catch {
      return { ok: false };
    }
  };
}

/** Field by field with `Object.is`, so `-0`/`0` and the last bit of every double count. */
export function expectSame(fast: readonly object[], expected: readonly object[]): void {
  expect(fast.length).toBe(expected.length);
  fast.forEach((record, i) => {
    expect(Object.keys(record)).toEqual(Object.keys(expected[i]!));
    for (const [k, v] of Object.entries(record)) expect(Object.is(v, (expected[i] as never)[k])).toBe(true);
  });
}

/** Decimal strings: mostly plain, some long (past the fast path), a few the decoders must hand back. */
export const DECIMAL = fc.oneof(
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

/** Compares a decoder with the general path on one body; says whether the decoder accepted it. */
export function agrees(
  decode: (body: Uint8Array) => readonly object[] | undefined,
  general: General,
  body: Uint8Array,
): boolean {
  const fast = decode(body);
  if (fast === undefined) return false;
  const slow = general(body);
  expect(slow.ok).toBe(true);
  if (slow.ok) expectSame(fast, slow.records);
  return true;
}

/** Random one-to-three-byte edits of `body` from a JSON-ish alphabet: the decoder must never disagree. */
export function fuzzEdits(
  body: Uint8Array,
  decode: (body: Uint8Array) => readonly object[] | undefined,
  general: General,
  numRuns = 3000,
): void {
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
        agrees(decode, general, Uint8Array.from(b));
      },
    ),
    { numRuns },
  );
}
