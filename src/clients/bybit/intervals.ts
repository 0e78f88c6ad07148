/**
 * Canonical `Interval` ↔ Bybit v5 spellings. Klines use bare minutes and letters (`1`, `60`, `D`);
 * open interest (`intervalTime`) and the account ratio (`period`) use `5min`, `1h`, `1d`.
 */
import type { Interval } from '../../core/intervals.js';
import { type IntervalSpellings, intervalOfSpelling, spellInterval } from '../interval-spellings.js';

/** `/v5/market/kline` `interval` per canonical interval (no 8h, no 3d on Bybit). */
export const BYBIT_KLINE_INTERVALS: IntervalSpellings = {
  '1m': '1',
  '3m': '3',
  '5m': '5',
  '15m': '15',
  '30m': '30',
  '1h': '60',
  '2h': '120',
  '4h': '240',
  '6h': '360',
  '12h': '720',
  '1d': 'D',
  '1w': 'W',
  '1M': 'M',
};

/** `intervalTime` of `/v5/market/open-interest` and `period` of `/v5/market/account-ratio`. */
export const BYBIT_STATS_INTERVALS: IntervalSpellings = {
  '5m': '5min',
  '15m': '15min',
  '30m': '30min',
  '1h': '1h',
  '4h': '4h',
  '1d': '1d',
};

/**
 * The kline `interval` for a canonical interval; throws `UnsupportedError` for `8h` and `3d`.
 * @example bybitKlineInterval('1h') // '60'
 */
export function bybitKlineInterval(interval: Interval): string {
  return spellInterval(BYBIT_KLINE_INTERVALS, interval, 'Bybit kline');
}

/**
 * The open-interest `intervalTime` / account-ratio `period`; throws `UnsupportedError` outside 5m–1d.
 * @example bybitStatsInterval('5m') // '5min'
 */
export function bybitStatsInterval(interval: Interval): string {
  return spellInterval(BYBIT_STATS_INTERVALS, interval, 'Bybit open interest / account ratio');
}

/** The canonical interval of a kline spelling (`'60'` → `'1h'`), or `undefined`. */
export function fromBybitKlineInterval(spelling: string): Interval | undefined {
  return intervalOfSpelling(BYBIT_KLINE_INTERVALS, spelling);
}

/** The canonical interval of an open-interest / account-ratio spelling (`'5min'` → `'5m'`), or `undefined`. */
export function fromBybitStatsInterval(spelling: string): Interval | undefined {
  return intervalOfSpelling(BYBIT_STATS_INTERVALS, spelling);
}
