/**
 * `decodeOkxCandles` reads `history-candles` bodies from bytes in one pass. It must agree with the
 * general path (`JSON.parse`, the `candles` schema, `okxCandles`) on every body it accepts, and hand
 * everything else back.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as raw from '../../src/clients/okx/schemas.js';
import { decodeOkxCandles, okxCandles } from '../../src/normalize/okx.js';
import type { InstrumentInfo } from '../../src/normalize/symbols.js';
import { agrees, bytes, DECIMAL, fuzzEdits, generalPath } from './bytes-equivalence.js';
import { OKX_PEPE } from './instruments.js';

const PEPE = OKX_PEPE;
const { contractSize: _, ...NO_CT_VAL } = PEPE;

const reader = (instrument: InstrumentInfo) => {
  const ctx = { instrument, interval: '1h' as const };
  return {
    decode: (body: Uint8Array) => decodeOkxCandles(body, ctx),
    general: generalPath((data) => {
      if (raw.envelopeError(data)) return undefined;
      const page = raw.candles.safeParse(data);
      return page.success ? okxCandles(page.data.data, ctx) : undefined;
    }),
  };
};
const { decode, general } = reader(PEPE);

const row = fc.tuple(
  fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 2 ** 40 }).map(String), weight: 8 },
    { arbitrary: fc.integer({ min: 0, max: 2 ** 40 }), weight: 2 },
    { arbitrary: fc.constantFrom('-1', '', 1.5), weight: 1 },
  ),
  fc.array(DECIMAL, { minLength: 5, maxLength: 5 }),
  fc.array(fc.oneof({ arbitrary: DECIMAL, weight: 3 }, { arbitrary: fc.constant(''), weight: 1 }), {
    minLength: 2,
    maxLength: 2,
  }),
  fc.oneof(
    { arbitrary: fc.constantFrom('1', '0'), weight: 8 },
    { arbitrary: fc.constantFrom('2', 1, ''), weight: 1 },
  ),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 1 }),
);
const body = fc.record({
  rows: fc.array(row, { maxLength: 5 }),
  code: fc.oneof(
    { arbitrary: fc.constant('0'), weight: 8 },
    { arbitrary: fc.constantFrom(0, '51001', '00'), weight: 1 },
  ),
  extra: fc.dictionary(fc.constantFrom('x', 'y'), fc.oneof(fc.constant({ a: [null, false] }), fc.double()), {
    maxKeys: 1,
  }),
  order: fc.boolean(),
});

describe('decodeOkxCandles', () => {
  it('default: recorded pages decode to exactly what the general path gives, unconfirmed candles dropped', () => {
    for (const name of ['candles-1H.json', 'history-candles.doc-example.json']) {
      const page = readFileSync(new URL(`../fixtures/okx/${name}`, import.meta.url));
      expect(agrees(decode, general, page), name).toBe(true);
    }
    const page = readFileSync(new URL('../fixtures/okx/candles-1H.json', import.meta.url));
    expect(decode(page)!.map((c) => c.ts)).toEqual([1786816800000]);
  });

  it('behavior: any body, key order and layout decodes exactly as the general path or is handed back', () => {
    let compared = 0;
    fc.assert(
      fc.property(body, fc.constantFrom(undefined, 1), (b, space) => {
        const data = b.rows.map(([ts, prices, volumes, confirm, rest]) => [
          ts,
          ...prices,
          ...volumes,
          confirm,
          ...rest,
        ]);
        const fields: [string, unknown][] = [
          ['code', b.code],
          ['msg', ''],
          ['data', data],
          ...Object.entries(b.extra),
        ];
        if (b.order) fields.reverse();
        const text = bytes(JSON.stringify(Object.fromEntries(fields), null, space));
        if (agrees(decode, general, text) && b.rows.length > 0) compared++;
      }),
      { numRuns: 2000 },
    );
    expect(compared).toBeGreaterThan(300);
  });

  it('behavior: a corrupted page is never decoded into something the general path would not give', () => {
    const page = readFileSync(new URL('../fixtures/okx/candles-1H.json', import.meta.url));
    fuzzEdits(page, decode, general);
  });

  it('edge: volume in contracts needs ctVal; without it the page is handed back, not thrown', () => {
    const text = bytes('{"code":"0","msg":"","data":[["1786816800000","1","2","0.5","1.5","3","","","1"]]}');
    expect(decode(text)![0]!.volume).toBe(30_000_000);
    const bare = reader(NO_CT_VAL);
    expect(bare.decode(text)).toBeUndefined();
    expect(bare.general(text).ok).toBe(false);
  });
});
