import {
  addInterval,
  ceilToInterval,
  floorToInterval,
  type Interval,
  intervalMs,
  isInterval,
} from '../core/intervals.js';
import type { TimeRange } from '../core/time.js';
import { assertTimestamp, fail, gridOffset, iso } from './internal.js';

/**
 * The missing ranges of a series: the periods of `interval` that start in `[from, to)` and have no
 * timestamp in `timestamps`, merged into maximal half-open ranges.
 *
 * Each gap runs from the first missing period start to the start of the next present period, or to
 * `to` when the gap reaches the end, so every gap lies inside `[from, to)` and can be passed straight
 * to a client's `{ from, to }`. `from` is rounded up to the grid. Input may be unsorted and contain
 * duplicates; timestamps outside `[from, to)` are ignored. A timestamp that is not a period start of
 * `interval` is an error (it would otherwise hide a real hole).
 * @param timestamps Period starts of the series as epoch ms (an array or a typed array).
 * @param interval The period of the series; `1M` steps by calendar month.
 * @param from Start of the range to check (inclusive).
 * @param to End of the range to check (exclusive).
 * @example
 * import { findGaps } from 'perpdata/derive';
 *
 * findGaps([0, 60_000, 240_000], '1m', 0, 300_000);
 * // [{ from: 120_000, to: 240_000 }]: 2m and 3m are missing
 */
export function findGaps(
  timestamps: ArrayLike<number>,
  interval: Interval,
  from: number,
  to: number,
): TimeRange[] {
  const fn = 'findGaps';
  if (!isInterval(interval)) fail(fn, `unknown interval ${JSON.stringify(interval)}`);
  assertTimestamp(fn, 'from', from);
  assertTimestamp(fn, 'to', to);
  if (from > to) fail(fn, 'from must not be after to', { From: iso(from), To: iso(to) });

  // Keep the in-range timestamps, checking alignment and noting whether they are already sorted.
  const n = timestamps.length;
  const inRange = new Float64Array(n);
  let m = 0;
  let sorted = true;
  const ms = interval === '1M' ? 0 : intervalMs(interval);
  // Offset of the grid from the epoch (weeks start on Monday): aligned <=> (ts - offset) % ms === 0.
  const offset = ms === 0 ? 0 : gridOffset(interval, ms);
  for (let i = 0; i < n; i++) {
    const ts = timestamps[i] as number;
    assertTimestamp(fn, 'timestamp', ts, i);
    const aligned = ms === 0 ? floorToInterval(ts, interval) === ts : (ts - offset) % ms === 0;
    if (!aligned) fail(fn, `timestamp is not a period start of ${interval}: ${iso(ts)}`, { Index: i });
    if (ts < from || ts >= to) continue;
    if (m > 0 && ts < (inRange[m - 1] as number)) sorted = false;
    inRange[m++] = ts;
  }
  const present = inRange.subarray(0, m);
  if (!sorted) present.sort();

  const gaps: TimeRange[] = [];
  let expected = ceilToInterval(from, interval);
  for (let i = 0; i < m; i++) {
    const ts = present[i] as number;
    if (ts < expected) continue; // a duplicate
    if (ts > expected) gaps.push({ from: expected, to: ts });
    expected = ms === 0 ? addInterval(ts, interval, 1) : ts + ms;
  }
  if (expected < to) gaps.push({ from: expected, to });
  return gaps;
}
