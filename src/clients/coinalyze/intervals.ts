/**
 * Canonical `Interval` ↔ Coinalyze v1 `interval` spellings (`1min` … `12hour`, `daily`). The same
 * list serves every history endpoint. Intraday intervals keep only the latest 1,500–2,000 points;
 * `daily` is kept forever.
 */
import type { Interval } from '../../core/intervals.js';
import { type IntervalSpellings, intervalOfSpelling, spellInterval } from '../interval-spellings.js';

/** `interval` of the Coinalyze history endpoints (no 3m, 8h, 3d, 1w, 1M). */
export const COINALYZE_INTERVALS: IntervalSpellings = {
  '1m': '1min',
  '5m': '5min',
  '15m': '15min',
  '30m': '30min',
  '1h': '1hour',
  '2h': '2hour',
  '4h': '4hour',
  '6h': '6hour',
  '12h': '12hour',
  '1d': 'daily',
};

/**
 * The Coinalyze `interval` for a canonical interval; throws `UnsupportedError` for the ones it lacks.
 * @example coinalyzeInterval('1h') // '1hour'
 */
export function coinalyzeInterval(interval: Interval): string {
  return spellInterval(COINALYZE_INTERVALS, interval, 'Coinalyze');
}

/** The canonical interval of a Coinalyze spelling (`'daily'` → `'1d'`), or `undefined`. */
export function fromCoinalyzeInterval(spelling: string): Interval | undefined {
  return intervalOfSpelling(COINALYZE_INTERVALS, spelling);
}

/** Whether Coinalyze keeps only a rolling 1,500–2,000 points of this interval (every one but `daily`). */
export function isCoinalyzeIntraday(interval: Interval): boolean {
  return interval !== '1d';
}
