import { InvalidArgumentError } from './errors.js';

/** Canonical interval spellings (Binance's). Venue spellings live in each venue's folder. */
export const INTERVALS = [
  '1m',
  '3m',
  '5m',
  '15m',
  '30m',
  '1h',
  '2h',
  '4h',
  '6h',
  '8h',
  '12h',
  '1d',
  '3d',
  '1w',
  '1M',
] as const;
/** A candle or statistics period. `1M` is one calendar month (UTC). */
export type Interval = (typeof INTERVALS)[number];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** 1970-01-05, the first Monday after the epoch: weekly periods start on Monday 00:00 UTC. */
const WEEK_ANCHOR = 4 * DAY;

const FIXED_MS: Record<Exclude<Interval, '1M'>, number> = {
  '1m': MINUTE,
  '3m': 3 * MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  '1h': HOUR,
  '2h': 2 * HOUR,
  '4h': 4 * HOUR,
  '6h': 6 * HOUR,
  '8h': 8 * HOUR,
  '12h': 12 * HOUR,
  '1d': DAY,
  '3d': 3 * DAY,
  '1w': 7 * DAY,
};

/** True when `value` is a canonical interval. */
export function isInterval(value: unknown): value is Interval {
  return typeof value === 'string' && (INTERVALS as readonly string[]).includes(value);
}

/** Asserts a canonical interval, with a message that lists the valid ones. */
export function assertInterval(value: unknown): asserts value is Interval {
  if (!isInterval(value)) {
    throw new InvalidArgumentError(`Unknown interval ${JSON.stringify(value)}`, {
      meta: { Expected: INTERVALS.join(' ') },
    });
  }
}

/**
 * Length of an interval in milliseconds.
 * `1M` has no fixed length: use `addInterval` / `floorToInterval` for it.
 * @example
 * import { intervalMs } from 'perpdata';
 *
 * intervalMs('5m'); // 300000
 */
export function intervalMs(interval: Interval): number {
  if (interval === '1M') {
    throw new InvalidArgumentError('Interval 1M has no fixed length; use addInterval()');
  }
  const ms = FIXED_MS[interval];
  if (ms === undefined) assertInterval(interval);
  return ms;
}

/**
 * Start of the period of `interval` that contains `ts` (UTC; weeks start on Monday).
 * @example
 * import { floorToInterval } from 'perpdata';
 *
 * floorToInterval(Date.UTC(2024, 0, 1, 10, 7), '5m') === Date.UTC(2024, 0, 1, 10, 5); // true
 */
export function floorToInterval(ts: number, interval: Interval): number {
  if (interval === '1M') {
    const d = new Date(ts);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
  const ms = intervalMs(interval);
  const anchor = interval === '1w' ? WEEK_ANCHOR : 0;
  return Math.floor((ts - anchor) / ms) * ms + anchor;
}

/** Smallest period start of `interval` that is `>= ts`. */
export function ceilToInterval(ts: number, interval: Interval): number {
  const floor = floorToInterval(ts, interval);
  return floor === ts ? ts : addInterval(floor, interval, 1);
}

/**
 * `ts` moved by `n` periods of `interval` (calendar months for `1M`).
 * @example
 * import { addInterval } from 'perpdata';
 *
 * addInterval(Date.UTC(2024, 0, 31), '1M') === Date.UTC(2024, 1, 29); // true: clamped to month end
 */
export function addInterval(ts: number, interval: Interval, n = 1): number {
  if (interval !== '1M') return ts + n * intervalMs(interval);
  const d = new Date(ts);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return target.getTime() + (ts - Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

/** True when `ts` is the start of a period of `interval`. */
export function isAligned(ts: number, interval: Interval): boolean {
  return floorToInterval(ts, interval) === ts;
}

/**
 * Number of whole periods in `[from, to)` once `from` is rounded up to the grid.
 * @example
 * import { countPeriods } from 'perpdata';
 *
 * countPeriods(0, 3_600_000, '1m'); // 60
 */
export function countPeriods(from: number, to: number, interval: Interval): number {
  let start = ceilToInterval(from, interval);
  if (interval !== '1M') return Math.max(0, Math.ceil((to - start) / intervalMs(interval)));
  let n = 0;
  while (start < to) {
    n++;
    start = addInterval(start, interval, 1);
  }
  return n;
}
