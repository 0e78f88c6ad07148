import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addInterval,
  type Interval,
  InvalidArgumentError,
  intervalMs,
  type TimeRange,
} from '../../src/core/index.js';
import { findGaps } from '../../src/derive/index.js';
import { MINUTE, T0 } from './helpers.js';

/** Brute force: walk every period start in [from, to) and group the missing ones. */
function bruteForce(
  timestamps: readonly number[],
  interval: Interval,
  from: number,
  to: number,
): TimeRange[] {
  const have = new Set(timestamps);
  const gaps: TimeRange[] = [];
  let open: number | undefined;
  let slot = from;
  // from is aligned in these calls
  for (; slot < to; slot = addInterval(slot, interval, 1)) {
    if (!have.has(slot)) open ??= slot;
    else if (open !== undefined) {
      gaps.push({ from: open, to: slot });
      open = undefined;
    }
  }
  if (open !== undefined) gaps.push({ from: open, to });
  return gaps;
}

describe('findGaps', () => {
  it('default: a complete series has no gaps', () => {
    const ts = Array.from({ length: 60 }, (_, i) => T0 + i * MINUTE);
    expect(findGaps(ts, '1m', T0, T0 + 60 * MINUTE)).toEqual([]);
  });

  it('behavior: holes at the start, middle and end become half-open ranges', () => {
    const ts = [2, 3, 6, 7].map((m) => T0 + m * MINUTE);
    expect(findGaps(ts, '1m', T0, T0 + 10 * MINUTE)).toEqual([
      { from: T0, to: T0 + 2 * MINUTE },
      { from: T0 + 4 * MINUTE, to: T0 + 6 * MINUTE },
      { from: T0 + 8 * MINUTE, to: T0 + 10 * MINUTE },
    ]);
  });

  it('behavior: unsorted input with duplicates gives the same gaps as sorted input', () => {
    const sorted = [0, 1, 4, 5, 9].map((m) => T0 + m * MINUTE);
    const messy = [9, 1, 0, 5, 1, 4, 9, 0].map((m) => T0 + m * MINUTE);
    expect(findGaps(messy, '1m', T0, T0 + 10 * MINUTE)).toEqual(findGaps(sorted, '1m', T0, T0 + 10 * MINUTE));
    expect(findGaps(Float64Array.from(messy), '1m', T0, T0 + 10 * MINUTE)).toEqual([
      { from: T0 + 2 * MINUTE, to: T0 + 4 * MINUTE },
      { from: T0 + 6 * MINUTE, to: T0 + 9 * MINUTE },
    ]);
  });

  it('behavior: an empty series is one gap over the whole range; an empty range has none', () => {
    expect(findGaps([], '5m', T0, T0 + 3_600_000)).toEqual([{ from: T0, to: T0 + 3_600_000 }]);
    expect(findGaps([], '5m', T0, T0)).toEqual([]);
  });

  it('behavior: from is rounded up to the grid, gaps end at to, outside timestamps are ignored', () => {
    const ts = [-5, 0, 1, 3, 20].map((m) => T0 + m * 5 * MINUTE);
    expect(findGaps(ts, '5m', T0 - 2 * MINUTE, T0 + 22 * MINUTE)).toEqual([
      { from: T0 + 10 * MINUTE, to: T0 + 15 * MINUTE },
      { from: T0 + 20 * MINUTE, to: T0 + 22 * MINUTE },
    ]);
  });

  it('behavior: weeks start on Monday and months are calendar months', () => {
    const monday = Date.UTC(2024, 0, 1); // a Monday
    const week = intervalMs('1w');
    expect(findGaps([monday, monday + 2 * week], '1w', monday, monday + 3 * week)).toEqual([
      { from: monday + week, to: monday + 2 * week },
    ]);
    const months = [0, 1, 3].map((m) => Date.UTC(2024, m, 1));
    expect(findGaps(months, '1M', Date.UTC(2024, 0, 1), Date.UTC(2024, 5, 1))).toEqual([
      { from: Date.UTC(2024, 2, 1), to: Date.UTC(2024, 3, 1) },
      { from: Date.UTC(2024, 4, 1), to: Date.UTC(2024, 5, 1) },
    ]);
  });

  it('property: matches a brute-force scan for unsorted input with duplicates', () => {
    const intervals: Interval[] = ['1m', '5m', '1h', '1d', '1w', '1M'];
    fc.assert(
      fc.property(
        fc.constantFrom(...intervals),
        fc.array(fc.integer({ min: -3, max: 40 }), { maxLength: 60 }),
        fc.integer({ min: 0, max: 36 }),
        (interval, slots, length) => {
          const from = interval === '1w' ? Date.UTC(2024, 0, 1) : T0;
          const to = addInterval(from, interval, length);
          const ts = slots.map((k) => addInterval(from, interval, k));
          expect(findGaps(ts, interval, from, to)).toEqual(bruteForce(ts, interval, from, to));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('error: timestamps off the grid, non-integers and reversed ranges are refused', () => {
    expect(() => findGaps([T0 + 1], '1m', T0, T0 + MINUTE)).toThrow(/not a period start/);
    expect(() => findGaps([T0 + 0.5], '1m', T0, T0 + MINUTE)).toThrow(InvalidArgumentError);
    expect(() => findGaps([Number.NaN], '1m', T0, T0 + MINUTE)).toThrow(/Index: 0/);
    expect(() => findGaps([], '1m', T0 + MINUTE, T0)).toThrow(/from must not be after to/);
    expect(() => findGaps([], '1m', Number.NaN, T0)).toThrow(InvalidArgumentError);
    expect(() => findGaps([], '7m' as Interval, T0, T0 + MINUTE)).toThrow(/unknown interval/);
  });
});
