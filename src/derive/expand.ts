import type { Interval } from '../core/intervals.js';
import type { BaseRecord } from '../core/types.js';
import { assertTimestamp, fail, gridOffset, iso, minuteMultipleMs } from './internal.js';

const MINUTE = 60_000;

/** A record of a fixed period (open interest, long/short ratio, taker volume, candles…). */
export type PeriodRecord = BaseRecord & { readonly interval: Interval };

/**
 * Which 1m rows a bucket's value is written to.
 * - `'start'`: the minutes inside the bucket, `ts … ts + (n-1)m` (how the seeds stored OI and
 *   long/short ratio). **Looks ahead**: the value of a bucket is only known at its end, so the row at
 *   `ts` carries a number that was not yet published at `ts`.
 * - `'close'`: the minutes after the bucket, `ts + n·1m … ts + (2n-1)m`: the value applies from the
 *   moment it is known. Use this for backtests and live signals.
 */
export type ExpandAlignment = 'start' | 'close';

/** Options of `expandTo1m`. */
export interface ExpandOptions {
  /**
   * Where each bucket's value lands; see `ExpandAlignment`.
   * @default 'start'
   */
  readonly align?: ExpandAlignment;
}

/**
 * Every record of an interval of n minutes (5m, 15m, 1h…) becomes n identical `1m` records, the way
 * the seeds stored 5m open interest and long/short ratio for joining with 1m candles.
 *
 * **Look-ahead**: a 5m value describes (or is sampled at the end of) the bucket `[ts, ts + 5m)` and is
 * published only when the bucket closes. The default `align: 'start'` writes it to `ts … ts + 4m`, so a
 * backtest reading the 1m rows sees each value up to five minutes before it existed. `align: 'close'`
 * writes it to `ts + 5m … ts + 9m` instead (the value applies from the bucket's close), which is what a
 * live system could actually have known; the last bucket's rows then extend past the input range.
 *
 * Only `ts` and `interval` change; every other field is copied. `1m` records are copied unchanged
 * (`'start'`) or shifted by one minute (`'close'`). Works on a single record, so the live pipeline can
 * call it per new 5m row.
 * @param records One series in strictly ascending `ts`, one interval, each `ts` a period start.
 * @example
 * import type { OpenInterest } from 'perpdata';
 * import { expandTo1m } from 'perpdata/derive';
 *
 * declare const oi5m: OpenInterest[]; // one series at 5m
 * const oi1m = expandTo1m(oi5m); // seeds' layout (looks ahead)
 * const safe = expandTo1m(oi5m, { align: 'close' }); // known-at-the-time layout
 */
export function expandTo1m<T extends PeriodRecord>(records: readonly T[], options: ExpandOptions = {}): T[] {
  const fn = 'expandTo1m';
  const { align = 'start' } = options;
  if (align !== 'start' && align !== 'close') {
    fail(fn, `align must be 'start' or 'close', got ${JSON.stringify(align)}`);
  }
  const first = records[0];
  if (first === undefined) return [];
  const interval = first.interval;
  const ms = minuteMultipleMs(fn, interval, 'record');
  const factor = ms / MINUTE;
  const shift = align === 'close' ? ms : 0;
  const offset = gridOffset(interval, ms);
  const out: T[] = new Array<T>(records.length * factor);
  let prevTs = Number.NEGATIVE_INFINITY;
  let k = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as T;
    if (record.interval !== interval) {
      fail(fn, `mixed intervals: ${interval} and ${String(record.interval)}`, { Index: i });
    }
    const ts = record.ts;
    assertTimestamp(fn, 'ts', ts, i);
    if (ts <= prevTs) {
      fail(fn, 'records must be one series in strictly ascending ts order without duplicates', {
        Index: i,
        Previous: iso(prevTs),
        Got: iso(ts),
      });
    }
    if ((ts - offset) % ms !== 0) {
      fail(fn, `ts is not a period start of ${interval}: ${iso(ts)}`, { Index: i });
    }
    prevTs = ts;
    const start = ts + shift;
    for (let j = 0; j < factor; j++) {
      out[k++] = { ...record, ts: start + j * MINUTE, interval: '1m' };
    }
  }
  return out;
}
