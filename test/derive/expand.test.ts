import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Interval,
  InvalidArgumentError,
  intervalMs,
  type LongShortRatio,
  type OpenInterest,
} from '../../src/core/index.js';
import { expandTo1m } from '../../src/derive/index.js';
import { MINUTE, T0 } from './helpers.js';

function oi(ts: number, openInterest: number, interval: Interval = '5m'): OpenInterest {
  return {
    source: 'binance',
    exchange: 'binance',
    symbol: 'BTC',
    ts,
    interval,
    openInterest,
    openInterestUsd: 2 * openInterest,
  };
}

describe('expandTo1m', () => {
  it("default: a 5m record becomes five identical 1m records at ts … ts+4m (the seeds' layout)", () => {
    const out = expandTo1m([oi(T0, 10), oi(T0 + 5 * MINUTE, 11)]);
    expect(out.map((r) => r.ts)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + i * MINUTE));
    expect(out[0]).toEqual({ ...oi(T0, 10), interval: '1m' });
    expect(out[4]).toEqual({ ...oi(T0, 10), ts: T0 + 4 * MINUTE, interval: '1m' });
    expect(out[5]?.openInterest).toBe(11);
  });

  it("behavior: align 'close' writes each value from the bucket's close on (no look-ahead)", () => {
    const out = expandTo1m([oi(T0, 10), oi(T0 + 5 * MINUTE, 11)], { align: 'close' });
    expect(out.map((r) => r.ts)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + (5 + i) * MINUTE));
    // The value of [T0, T0+5m) is first visible at T0+5m, when it was published.
    expect(out.find((r) => r.ts === T0 + 5 * MINUTE)?.openInterest).toBe(10);
    expect(out.some((r) => r.ts < T0 + 5 * MINUTE)).toBe(false);
  });

  it('behavior: every field but ts and interval is copied; other kinds and intervals work', () => {
    const ratio: LongShortRatio = {
      source: 'binance',
      exchange: 'binance',
      symbol: 'ETH',
      ts: T0,
      interval: '1h',
      kind: 'topPosition',
      ratio: 1.5,
      longShare: 0.6,
      shortShare: 0.4,
    };
    const out = expandTo1m([ratio]);
    expect(out).toHaveLength(60);
    expect(out.every((r) => r.kind === 'topPosition' && r.ratio === 1.5 && r.interval === '1m')).toBe(true);
    expect(ratio.interval).toBe('1h'); // input untouched
  });

  it("behavior: 1m records are copied ('start') or shifted one minute ('close'); empty input gives []", () => {
    const one = oi(T0, 3, '1m');
    expect(expandTo1m([one])).toEqual([one]);
    expect(expandTo1m([one], { align: 'close' })).toEqual([{ ...one, ts: T0 + MINUTE }]);
    expect(expandTo1m([])).toEqual([]);
  });

  it('property: expansion round-trips (every n-th row restores the input) and covers each bucket once', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Interval>('1m', '3m', '5m', '15m', '1h'),
        fc.uniqueArray(fc.integer({ min: 0, max: 200 }), { maxLength: 30 }),
        fc.constantFrom<'start' | 'close'>('start', 'close'),
        (interval, slots, align) => {
          const ms = intervalMs(interval);
          const input = [...slots].sort((a, b) => a - b).map((k) => oi(T0 + k * ms, k + 0.5, interval));
          const out = expandTo1m(input, { align });
          const n = ms / MINUTE;
          expect(out).toHaveLength(input.length * n);
          const shift = align === 'close' ? ms : 0;
          const back = out.filter((_, i) => i % n === 0).map((r) => ({ ...r, ts: r.ts - shift, interval }));
          expect(back).toEqual(input);
          // Strictly ascending 1m rows, each carrying the value of the bucket it came from.
          out.forEach((r, i) => {
            if (i > 0) expect(r.ts).toBeGreaterThan((out[i - 1] as OpenInterest).ts);
            const bucket = Math.floor((r.ts - T0 - shift) / ms);
            expect(r.openInterest).toBe(bucket + 0.5);
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('error: 1M, mixed intervals, unsorted, duplicate or misaligned records are refused', () => {
    expect(() => expandTo1m([oi(T0, 1, '1M')])).toThrow(/1M/);
    expect(() => expandTo1m([oi(T0, 1), oi(T0 + 15 * MINUTE, 1, '15m')])).toThrow(/mixed intervals/);
    expect(() => expandTo1m([oi(T0 + 5 * MINUTE, 1), oi(T0, 1)])).toThrow(/ascending/);
    expect(() => expandTo1m([oi(T0, 1), oi(T0, 1)])).toThrow(/ascending/);
    expect(() => expandTo1m([oi(T0 + MINUTE, 1)])).toThrow(/not a period start/);
    expect(() => expandTo1m([oi(T0, 1)], { align: 'end' as 'close' })).toThrow(InvalidArgumentError);
  });
});
