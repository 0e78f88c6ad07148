/**
 * Canonical `Interval` ↔ OKX v5 spellings. Minutes are lower-case `m`, hours upper-case `H`
 * (`1h` is rejected with 51000). Periods of 6 hours and more come in a UTC+8-aligned form (`1D`
 * opens at 16:00 UTC) and a UTC-aligned form (`1Dutc`): perpdata always uses the `utc` form so
 * that `ts` lands on the canonical grid. The rubik statistics take the same spellings, but start
 * at 5 minutes.
 */
import type { Interval } from '../../core/intervals.js';
import { type IntervalSpellings, intervalOfSpelling, spellInterval } from '../interval-spellings.js';

/** `bar` of `/api/v5/market/history-candles` and `/market/candles` (no 8h on OKX). */
export const OKX_BARS: IntervalSpellings = {
  '1m': '1m',
  '3m': '3m',
  '5m': '5m',
  '15m': '15m',
  '30m': '30m',
  '1h': '1H',
  '2h': '2H',
  '4h': '4H',
  '6h': '6Hutc',
  '12h': '12Hutc',
  '1d': '1Dutc',
  '3d': '3Dutc',
  '1w': '1Wutc',
  '1M': '1Mutc',
};

/** `period` of the rubik endpoints (open interest, long/short ratios, taker volume): no 1m/3m, no 8h. */
export const OKX_RUBIK_PERIODS: IntervalSpellings = {
  '5m': '5m',
  '15m': '15m',
  '30m': '30m',
  '1h': '1H',
  '2h': '2H',
  '4h': '4H',
  '6h': '6Hutc',
  '12h': '12Hutc',
  '1d': '1Dutc',
  '3d': '3Dutc',
  '1w': '1Wutc',
  '1M': '1Mutc',
};

/**
 * The candle `bar` for a canonical interval (UTC-aligned for 6h and longer); throws `UnsupportedError` for `8h`.
 * @example okxBar('1d') // '1Dutc'
 */
export function okxBar(interval: Interval): string {
  return spellInterval(OKX_BARS, interval, 'OKX candles');
}

/**
 * The rubik `period` for a canonical interval; throws `UnsupportedError` for `1m`, `3m` and `8h`.
 * @example okxRubikPeriod('1h') // '1H'
 */
export function okxRubikPeriod(interval: Interval): string {
  return spellInterval(OKX_RUBIK_PERIODS, interval, 'OKX trading statistics');
}

/** The canonical interval of a UTC-aligned candle `bar` (`'1H'` → `'1h'`), or `undefined` (also for UTC+8 bars). */
export function fromOkxBar(spelling: string): Interval | undefined {
  return intervalOfSpelling(OKX_BARS, spelling);
}

/** The canonical interval of a UTC-aligned rubik `period`, or `undefined`. */
export function fromOkxRubikPeriod(spelling: string): Interval | undefined {
  return intervalOfSpelling(OKX_RUBIK_PERIODS, spelling);
}
