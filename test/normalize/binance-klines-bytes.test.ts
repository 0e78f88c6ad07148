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
import { agrees, bytes, DECIMAL, fuzzEdits, generalPath } from './bytes-equivalence.js';
import { PEPE } from './instruments.js';

const ctx = { instrument: PEPE, interval: '1m' as const };

/** The general path: what the transport does with a body the decoder hands back. */
const general = generalPath((data) => {
  const rows = raw.klines.safeParse(data);
  return rows.success ? binanceCandles(rows.data, ctx) : undefined;
});
const decode = (body: Uint8Array) => decodeBinanceKlines(body, ctx);

const int = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 2 ** 48 }), weight: 12 },
  { arbitrary: fc.constantFrom(-1, 0, 1.5, 1e21), weight: 1 },
);
const row = fc.tuple(
  int,
  DECIMAL,
  DECIMAL,
  DECIMAL,
  DECIMAL,
  DECIMAL,
  int,
  DECIMAL,
  int,
  DECIMAL,
  fc.oneof(DECIMAL, fc.constant('')),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 2 }),
);
const page = fc
  .array(row, { maxLength: 6 })
  .map((rows) => rows.map(([...r]) => [...r.slice(0, 11), ...r[11]!]));

describe('decodeBinanceKlines', () => {
  it('default: recorded pages decode to exactly what the general path gives', () => {
    for (const name of ['klines.json', 'klines-1m.json']) {
      const body = readFileSync(new URL(`../fixtures/binance/${name}`, import.meta.url));
      expect(agrees(decode, general, body)).toBe(true);
      expect(decode(body)!.length).toBeGreaterThan(0);
    }
  });

  it('behavior: any page, in any JSON layout, decodes exactly as the general path or is handed back', () => {
    let compared = 0;
    fc.assert(
      fc.property(page, fc.constantFrom(undefined, 1, '\t'), (rows, space) => {
        const body = bytes(JSON.stringify(rows, null, space));
        if (agrees(decode, general, body) && rows.length > 0) compared++;
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
    fuzzEdits(body, decode, general);
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
