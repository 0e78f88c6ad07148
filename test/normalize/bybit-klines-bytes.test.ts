/**
 * `decodeBybitKlines` reads `/v5/market/kline` bodies from bytes in one pass. It must agree with the
 * general path (`JSON.parse`, the `kline` schema, `bybitCandles`) on every body it accepts, and hand
 * everything else back.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as raw from '../../src/clients/bybit/schemas.js';
import { bybitCandles, decodeBybitKlines } from '../../src/normalize/bybit.js';
import { agrees, bytes, DECIMAL, fuzzEdits, generalPath } from './bytes-equivalence.js';
import { BYBIT_PEPE } from './instruments.js';

const HOUR = 3_600_000;
const PEPE = BYBIT_PEPE;
/** 20 minutes into the 1786820400000 hour, as when the fixture was recorded: its first row is forming. */
const ctx = { instrument: PEPE, interval: '1h' as const, now: 1786820637599 };

const general = generalPath((data) => {
  if (raw.envelopeError(data)) return undefined;
  const page = raw.kline.safeParse(data);
  return page.success ? bybitCandles(page.data.result.list, ctx) : undefined;
});
const decode = (body: Uint8Array) => decodeBybitKlines(body, ctx);

const start = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 1786816800000 / HOUR }).map((h) => String(h * HOUR)), weight: 8 },
  { arbitrary: fc.integer({ min: 0, max: 1786816800000 / HOUR }).map((h) => h * HOUR), weight: 2 },
  { arbitrary: fc.constantFrom('1786820400000', '-1', '', '1e3', 1.5, -0), weight: 1 },
);
const row = fc.tuple(
  start,
  fc.array(DECIMAL, { minLength: 6, maxLength: 6 }),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 1 }),
);
const extra = fc.dictionary(
  fc.constantFrom('retExtInfo', 'nextPageCursor', 'x'),
  fc.oneof(fc.constant({}), fc.integer(), fc.string(), fc.constant(null), fc.constant([1, { a: [true] }])),
  { maxKeys: 2 },
);
const envelope = fc.record({
  rows: fc.array(row, { maxLength: 5 }),
  retCode: fc.oneof(
    { arbitrary: fc.constant(0), weight: 8 },
    { arbitrary: fc.constantFrom(10001, '0'), weight: 1 },
  ),
  time: fc.oneof(
    { arbitrary: fc.constant(1786820637599), weight: 8 },
    { arbitrary: fc.constantFrom(1.5, '1'), weight: 1 },
  ),
  symbol: fc.constantFrom(undefined, '1000PEPEUSDT', 5),
  extra,
  order: fc.boolean(),
});

describe('decodeBybitKlines', () => {
  it('default: the recorded page decodes to exactly what the general path gives, forming candle dropped', () => {
    const body = readFileSync(new URL('../fixtures/bybit/kline.json', import.meta.url));
    expect(agrees(decode, general, body)).toBe(true);
    expect(decode(body)!.map((c) => c.ts)).toEqual([1786816800000]);
  });

  it('behavior: any envelope, key order and layout decodes exactly as the general path or is handed back', () => {
    let compared = 0;
    fc.assert(
      fc.property(envelope, fc.constantFrom(undefined, 1), (e, space) => {
        const list = e.rows.map(([ts, values, rest]) => [ts, ...values, ...rest]);
        const result = e.symbol === undefined ? { list } : { symbol: e.symbol, category: 'linear', list };
        const fields: [string, unknown][] = [
          ['retCode', e.retCode],
          ['retMsg', 'OK'],
          ['result', result],
          ['time', e.time],
          ...Object.entries(e.extra),
        ];
        if (e.order) fields.reverse();
        const body = bytes(JSON.stringify(Object.fromEntries(fields), null, space));
        if (agrees(decode, general, body) && e.rows.length > 0) compared++;
      }),
      { numRuns: 2000 },
    );
    expect(compared).toBeGreaterThan(300);
  });

  it('behavior: a corrupted page is never decoded into something the general path would not give', () => {
    const body = readFileSync(new URL('../fixtures/bybit/kline.json', import.meta.url));
    fuzzEdits(body, decode, general);
  });

  it('edge: errors, repeated keys, missing fields and deep nesting are handed back', () => {
    const ok = '"retMsg":"OK","result":{"list":[]},"time":1';
    expect(decode(bytes(`{"retCode":0,${ok}}`))).toEqual([]);
    for (const text of [
      `{"retCode":10001,${ok}}`,
      `{"retCode":0,"retCode":0,${ok}}`,
      '{"retCode":0,"retMsg":"OK","result":{},"time":1}',
      '{"retCode":0,"retMsg":"OK","result":{"list":[]}}',
      `{"retCode":0,${ok},"x":${'['.repeat(40)}${']'.repeat(40)}}`,
      `{"retCode":0,${ok},"retMsg2":"a\\"b"}`,
      `[{"retCode":0,${ok}}]`,
      '',
    ]) {
      expect(decode(bytes(text)), text).toBeUndefined();
    }
    // Deep nesting is handed back, not a stack overflow; the general path reads it.
    const deep = `{"retCode":0,${ok},"x":${'['.repeat(40)}${']'.repeat(40)}}`;
    expect(general(bytes(deep)).ok).toBe(true);
  });
});
