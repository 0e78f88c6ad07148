/**
 * Shared argument checks of the derivations. Not exported from `perpdata/derive`: every failure is an
 * `InvalidArgumentError` whose message names the function, the argument and, where it helps, the index.
 */
import { InvalidArgumentError } from '../core/errors.js';
import { floorToInterval, type Interval, intervalMs, isInterval } from '../core/intervals.js';

const MINUTE = 60_000;

/** Throws an `InvalidArgumentError` with `fn: message` and optional meta lines. */
export function fail(
  fn: string,
  message: string,
  meta?: Readonly<Record<string, string | number | undefined>>,
): never {
  throw new InvalidArgumentError(`${fn}: ${message}`, meta === undefined ? {} : { meta });
}

/** A positive integer option (periods, member counts). */
export function assertPositiveInteger(fn: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    fail(fn, `${name} must be a positive integer, got ${String(value)}`);
  }
}

/** A finite number (a price, a volume, a rate). */
export function assertFinite(fn: string, name: string, value: number, index?: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail(fn, `${name} is not a finite number: ${String(value)}`, { Index: index });
  }
}

/** A timestamp: a finite integer number of epoch milliseconds. */
export function assertTimestamp(fn: string, name: string, value: number, index?: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    fail(fn, `${name} is not an integer epoch-millisecond timestamp: ${String(value)}`, { Index: index });
  }
}

/**
 * Length of a fixed interval that is a whole number of minutes (every canonical interval but `1M`).
 * Throws for `1M` and for values that are not intervals.
 */
export function minuteMultipleMs(fn: string, interval: Interval, what: string): number {
  if (!isInterval(interval)) fail(fn, `${what} has an unknown interval ${JSON.stringify(interval)}`);
  if (interval === '1M') fail(fn, `${what} has interval 1M, which has no fixed length in minutes`);
  const ms = intervalMs(interval);
  if (ms % MINUTE !== 0) fail(fn, `${what} interval ${interval} is not a multiple of 1m`);
  return ms;
}

/** ISO-8601 form of a timestamp for error meta lines; the raw value when it is not a valid time. */
export function iso(ts: number): string {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? String(ts) : d.toISOString();
}

/**
 * Offset of the grid of a fixed interval from the epoch (non-zero only for weeks, which start on
 * Monday): `ts` is a period start exactly when `(ts - offset) % ms === 0`. A cheap per-element check.
 */
export function gridOffset(interval: Interval, ms: number): number {
  return ((floorToInterval(0, interval) % ms) + ms) % ms;
}
