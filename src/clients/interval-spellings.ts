/** Shared lookups for the venues' interval tables (`src/clients/<venue>/intervals.ts`). */
import { UnsupportedError } from '../core/errors.js';
import { assertInterval, type Interval } from '../core/intervals.js';

/** How one endpoint family of a venue spells the intervals it serves. */
export type IntervalSpellings = Readonly<Partial<Record<Interval, string>>>;

/**
 * `interval` as `table` spells it. An interval the venue lacks is an `UnsupportedError` naming what
 * lacks it (`name`, e.g. `OKX candles`) and what it does support.
 */
export function spellInterval(table: IntervalSpellings, interval: Interval, name: string): string {
  assertInterval(interval);
  const spelling = table[interval];
  if (spelling === undefined) {
    throw new UnsupportedError(`${name} has no ${interval} interval`, {
      meta: { Supported: Object.keys(table).join(' ') },
    });
  }
  return spelling;
}

/** The canonical interval that `table` spells as `spelling`, or `undefined`. */
export function intervalOfSpelling(table: IntervalSpellings, spelling: string): Interval | undefined {
  for (const [interval, venue] of Object.entries(table)) if (venue === spelling) return interval as Interval;
  return undefined;
}
