import { isValid, parseISO } from 'date-fns';
import { InvalidArgumentError } from './errors.js';

/** A point in time as epoch milliseconds, a `Date`, or an ISO-8601 string (`'2024-01-01'`, UTC unless it says otherwise). */
export type TimeInput = number | Date | string;

/** Smallest and largest epoch ms perpdata accepts: 2009-01-03 (the genesis block) to 2100-01-01. */
const MIN_TS = Date.UTC(2009, 0, 3);
const MAX_TS = Date.UTC(2100, 0, 1);

/**
 * Epoch milliseconds for a time input. Date-only and zone-less ISO strings are read as UTC.
 * @example
 * import { toEpochMs } from 'perpdata';
 *
 * toEpochMs('2024-06-01'); // 1717200000000
 */
export function toEpochMs(input: TimeInput, name = 'time'): number {
  let ms: number;
  if (typeof input === 'number') ms = input;
  else if (input instanceof Date) ms = input.getTime();
  else {
    const text = /[zZ]|[+-]\d\d:?\d\d$/.test(input) || !/T|\d\d:\d\d/.test(input) ? input : `${input}Z`;
    const date = parseISO(/^\d{4}-\d\d-\d\d$/.test(text) ? `${text}T00:00:00Z` : text);
    ms = isValid(date) ? date.getTime() : Number.NaN;
  }
  if (!Number.isFinite(ms) || !Number.isInteger(ms)) {
    throw new InvalidArgumentError(`${name} is not a valid time: ${JSON.stringify(input)}`);
  }
  if (ms < MIN_TS || ms > MAX_TS) {
    throw new InvalidArgumentError(
      `${name} is out of range (epoch milliseconds expected): ${JSON.stringify(input)}`,
      {
        meta: {
          Hint:
            ms * 1000 >= MIN_TS && ms * 1000 <= MAX_TS ? 'looks like seconds; pass milliseconds' : undefined,
        },
      },
    );
  }
  return ms;
}

/** A half-open time range `[from, to)` in epoch ms. */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

/**
 * Validates and converts a `[from, to)` range; `from` must not be after `to`. `[t, t)` is the empty
 * range (a resume loop that is up to date asks for it): callers serve it without a request.
 * @example
 * import { toRange } from 'perpdata';
 *
 * toRange('2024-01-01', '2024-01-02'); // { from: 1704067200000, to: 1704153600000 }
 */
export function toRange(from: TimeInput, to: TimeInput): TimeRange {
  const range = { from: toEpochMs(from, 'from'), to: toEpochMs(to, 'to') };
  if (range.from > range.to) {
    throw new InvalidArgumentError(
      'from must be before to, or equal for an empty range ([from, to) is half-open)',
      {
        meta: { From: new Date(range.from).toISOString(), To: new Date(range.to).toISOString() },
      },
    );
  }
  return range;
}
