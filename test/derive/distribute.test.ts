import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Candle, InvalidArgumentError, type TakerVolume } from '../../src/core/index.js';
import { distributeByVolume } from '../../src/derive/index.js';
import { allFinite, candle, close, MINUTE, T0, taker } from './helpers.js';

const BUCKET = 5 * MINUTE;

function minutes(volumes: readonly number[], start = T0): Candle[] {
  return volumes.map((volume, i) => candle(start + i * MINUTE, 100, { volume }));
}

describe('distributeByVolume', () => {
  it('default: a 5m bucket is split over its five 1m candles in proportion to their volume', () => {
    const { volumes, uncovered, equalSplit } = distributeByVolume(
      [taker(T0, 15, 30)],
      minutes([1, 2, 3, 4, 5]),
    );
    expect(volumes.map((v) => [v.ts - T0, v.buyVolume, v.sellVolume])).toEqual([
      [0, 1, 2],
      [MINUTE, 2, 4],
      [2 * MINUTE, 3, 6],
      [3 * MINUTE, 4, 8],
      [4 * MINUTE, 5, 10],
    ]);
    expect(volumes[0]).toEqual({
      source: 'binance',
      exchange: 'binance',
      symbol: 'BTC',
      ts: T0,
      interval: '1m',
      buyVolume: 1,
      sellVolume: 2,
    });
    expect(uncovered).toEqual([]);
    expect(equalSplit).toEqual([]);
  });

  it('behavior: zero total volume falls back to an equal split and is reported', () => {
    const { volumes, equalSplit } = distributeByVolume([taker(T0, 10, 5)], minutes([0, 0, 0, 0, 0]));
    expect(volumes.map((v) => v.buyVolume)).toEqual([2, 2, 2, 2, 2]);
    expect(volumes.map((v) => v.sellVolume)).toEqual([1, 1, 1, 1, 1]);
    expect(equalSplit).toEqual([T0]);
  });

  it('behavior: missing candles fall back to an equal split over the candles present', () => {
    const present = minutes([1, 9, 1, 9, 1]).filter((_, i) => i !== 2);
    const { volumes, equalSplit } = distributeByVolume([taker(T0, 8, 4)], present);
    expect(volumes.map((v) => v.ts - T0)).toEqual([0, MINUTE, 3 * MINUTE, 4 * MINUTE]);
    expect(volumes.map((v) => v.buyVolume)).toEqual([2, 2, 2, 2]);
    expect(equalSplit).toEqual([T0]);
  });

  it('behavior: a bucket with no candle is reported in uncovered, never dropped silently', () => {
    const buckets = [taker(T0, 5, 5), taker(T0 + BUCKET, 7, 3), taker(T0 + 2 * BUCKET, 1, 1)];
    const candles = [...minutes([1, 1, 1, 1, 1]), ...minutes([2, 2, 2, 2, 2], T0 + 2 * BUCKET)];
    const result = distributeByVolume(buckets, candles);
    expect(result.uncovered).toEqual([buckets[1]]);
    expect(result.volumes).toHaveLength(10);
    expect(distributeByVolume(buckets, []).uncovered).toEqual(buckets);
  });

  it('behavior: candles outside every bucket are ignored; coarser buckets over coarser candles work', () => {
    const list = minutes([5, 1, 1, 1, 1, 1, 5]).map((c) => ({ ...c, ts: c.ts - MINUTE }));
    const { volumes } = distributeByVolume([taker(T0, 5, 0)], list);
    expect(volumes.map((v) => v.ts)).toEqual([0, 1, 2, 3, 4].map((m) => T0 + m * MINUTE));
    expect(volumes.every((v) => v.buyVolume === 1)).toBe(true);

    const fiveMinute = [0, 1, 2].map((k) => candle(T0 + k * BUCKET, 1, { interval: '5m', volume: k + 1 }));
    const split = distributeByVolume([taker(T0, 6, 12, '15m')], fiveMinute).volumes;
    expect(split.map((v) => [v.interval, v.buyVolume, v.sellVolume])).toEqual([
      ['5m', 1, 2],
      ['5m', 2, 4],
      ['5m', 3, 6],
    ]);
  });

  it('property: buy and sell totals of every covered bucket are conserved to 1e-9 relative', () => {
    const arbitrary = fc.array(
      fc.record({
        buy: fc.double({ min: 0, max: 1e9, noNaN: true }),
        sell: fc.double({ min: 0, max: 1e9, noNaN: true }),
        candles: fc.array(fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: undefined }), {
          minLength: 5,
          maxLength: 5,
        }),
      }),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(arbitrary, (buckets) => {
        const takers: TakerVolume[] = [];
        const candles: Candle[] = [];
        buckets.forEach((b, k) => {
          const start = T0 + k * BUCKET;
          takers.push(taker(start, b.buy, b.sell));
          b.candles.forEach((volume, m) => {
            if (volume !== undefined) candles.push(candle(start + m * MINUTE, 1, { volume }));
          });
        });
        const { volumes, uncovered, equalSplit } = distributeByVolume(takers, candles);
        expect(allFinite(volumes)).toBe(true);
        const covered = new Set(candles.map((c) => c.ts - ((c.ts - T0) % BUCKET)));
        expect(uncovered.map((t) => t.ts)).toEqual(takers.filter((t) => !covered.has(t.ts)).map((t) => t.ts));
        expect(volumes).toHaveLength(candles.length);
        for (const t of takers) {
          if (!covered.has(t.ts)) continue;
          const parts = volumes.filter((v) => v.ts >= t.ts && v.ts < t.ts + BUCKET);
          expect(
            close(
              parts.reduce((s, v) => s + v.buyVolume, 0),
              t.buyVolume,
            ),
          ).toBe(true);
          expect(
            close(
              parts.reduce((s, v) => s + v.sellVolume, 0),
              t.sellVolume,
            ),
          ).toBe(true);
          expect(parts.every((v) => v.buyVolume >= 0 && v.sellVolume >= 0)).toBe(true);
        }
        for (const ts of equalSplit) {
          const inBucket = candles.filter((c) => c.ts >= ts && c.ts < ts + BUCKET);
          expect(inBucket.length < 5 || inBucket.every((c) => c.volume === 0)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('error: mismatched intervals, series, order or volumes are refused', () => {
    const five = minutes([1, 1, 1, 1, 1]);
    expect(() => distributeByVolume([taker(T0, 1, 1)], [candle(T0, 1, { interval: '3m' })])).toThrow(
      /does not divide/,
    );
    expect(() => distributeByVolume([taker(T0, 1, 1, '1M')], five)).toThrow(/1M/);
    expect(() => distributeByVolume([taker(T0, 1, 1)], [candle(T0, 1, { symbol: 'ETH' })])).toThrow(
      /more than one series/,
    );
    expect(() => distributeByVolume([taker(T0 + BUCKET, 1, 1), taker(T0, 1, 1)], five)).toThrow(/ascending/);
    expect(() => distributeByVolume([taker(T0, 1, 1)], [five[1] as Candle, five[0] as Candle])).toThrow(
      /ascending/,
    );
    expect(() => distributeByVolume([taker(T0, 1, 1), taker(T0 + BUCKET, 1, 1, '15m')], five)).toThrow(
      /mixed intervals/,
    );
    expect(() => distributeByVolume([taker(T0, -1, 1)], five)).toThrow(/buyVolume/);
    expect(() => distributeByVolume([taker(T0, 1, Number.NaN)], five)).toThrow(/sellVolume/);
    expect(() => distributeByVolume([taker(T0, 1, 1)], [candle(T0, 1, { volume: -2 })])).toThrow(
      InvalidArgumentError,
    );
    expect(() => distributeByVolume([taker(T0 + MINUTE, 1, 1)], five)).toThrow(/not a period start/);
  });
});
