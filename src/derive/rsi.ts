/**
 * Wilder's RSI as TA-Lib defines it (`TA_RSI`; the definition and the flat policy are on `rsi`): a batch
 * function over closes, an incremental calculator, and both forms over candles writing `rsi14` records.
 *
 * The batch function and the incremental calculator run the same arithmetic in the same order, so
 * feeding closes one at a time reproduces the batch output bit for bit.
 */
import type { Interval } from '../core/intervals.js';
import type { Candle, Exchange, IndicatorValue, Source } from '../core/types.js';
import { assertFinite, assertPositiveInteger, fail, iso } from './internal.js';

/** RSI written when both averages are 0 (a series that has not moved). */
export const RSI_FLAT_VALUE = 50;

/** Default RSI period (Wilder's). */
export const RSI_DEFAULT_PERIOD = 14;

/** RSI from the two Wilder averages; throws when the closes are so large that the sums overflow. */
function rsiValue(fn: string, avgGain: number, avgLoss: number): number {
  const sum = avgGain + avgLoss;
  if (sum === 0) return RSI_FLAT_VALUE;
  const value = 100 * (avgGain / sum);
  if (!(value >= 0 && value <= 100)) fail(fn, 'closes are too large: the average changes overflow');
  return value;
}

function changeOf(fn: string, close: number, prev: number, index: number): number {
  const change = close - prev;
  if (!Number.isFinite(change)) {
    assertFinite(fn, 'close', close, index);
    fail(fn, 'closes are too large: the change between two closes overflows', { Index: index });
  }
  return change;
}

/**
 * Wilder's RSI of a series of closes, as TA-Lib defines it (`TA_RSI`).
 *
 * Gains and losses are the positive and negative close-to-close changes. The first value is at index
 * `period`, from the plain means of the first `period` gains and losses; after that each average is
 * Wilder-smoothed, `avg = (avg * (period - 1) + current) / period`, and
 * `RSI = 100 * avgGain / (avgGain + avgLoss)`: 100 with only gains, 0 with only losses.
 * **Flat policy**: when both averages are 0 (no close has moved yet) the RSI is 50 (`RSI_FLAT_VALUE`),
 * where TA-Lib writes 0 and pandas `NaN`.
 *
 * The result is shorter than the input: `result[k]` is the RSI at `closes[k + period]`, so it has
 * `closes.length - period` values (none when there are at most `period` closes).
 * @param closes Closes in ascending time order (an array or a typed array), all finite.
 * @param period Number of changes averaged; a positive integer.
 * @example
 * import { rsi } from 'perpdata/derive';
 *
 * const values = rsi([44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.1], 3);
 * values.length; // 4, the first at index 3
 */
export function rsi(closes: ArrayLike<number>, period: number = RSI_DEFAULT_PERIOD): number[] {
  const fn = 'rsi';
  assertPositiveInteger(fn, 'period', period);
  const n = closes.length;
  if (n === 0) return [];
  let prev = closes[0] as number;
  assertFinite(fn, 'close', prev, 0);
  const out: number[] = new Array<number>(Math.max(0, n - period));
  const warm = Math.min(period, n - 1);
  let avgGain = 0;
  let avgLoss = 0;
  for (let i = 1; i <= warm; i++) {
    const close = closes[i] as number;
    const change = changeOf(fn, close, prev, i);
    avgGain += Math.max(change, 0);
    avgLoss += Math.max(-change, 0);
    prev = close;
  }
  if (n <= period) return out;
  avgGain = avgGain / period;
  avgLoss = avgLoss / period;
  out[0] = rsiValue(fn, avgGain, avgLoss);
  const keep = period - 1;
  for (let i = period + 1; i < n; i++) {
    const close = closes[i] as number;
    const change = changeOf(fn, close, prev, i);
    avgGain = (avgGain * keep + Math.max(change, 0)) / period;
    avgLoss = (avgLoss * keep + Math.max(-change, 0)) / period;
    out[i - period] = rsiValue(fn, avgGain, avgLoss);
    prev = close;
  }
  return out;
}

/**
 * Everything an incremental RSI needs to continue, as plain numbers (store it, resume with it).
 * While `count <= period` the two sums are running totals of gains and losses; after that they are
 * the Wilder averages.
 */
export interface RsiState {
  readonly period: number;
  /** Closes consumed so far. */
  readonly count: number;
  /** The last close consumed (0 before the first). */
  readonly prevClose: number;
  /** Sum of gains while warming up, then the average gain. */
  readonly gain: number;
  /** Sum of losses while warming up, then the average loss. */
  readonly loss: number;
}

/** An RSI kept current one close at a time; see `createRsi`. */
export interface RsiCalculator {
  /** Number of changes averaged. */
  readonly period: number;
  /** Closes consumed so far. */
  readonly count: number;
  /** The latest RSI, or `undefined` until `period + 1` closes have been consumed. */
  readonly value: number | undefined;
  /** Consumes the next close; returns its RSI, or `undefined` while warming up (the first `period` closes). */
  next(close: number): number | undefined;
  /** The RSI `close` would produce, without consuming it (for a candle that is still forming). */
  peek(close: number): number | undefined;
  /** The state to resume from with `createRsi(period, state)`. */
  snapshot(): RsiState;
}

function checkState(fn: string, period: number, state: RsiState): void {
  if (state.period !== period) fail(fn, `state is for period ${state.period}, not ${period}`);
  if (!Number.isInteger(state.count) || state.count < 0) {
    fail(fn, `state.count must be a non-negative integer, got ${String(state.count)}`);
  }
  for (const key of ['prevClose', 'gain', 'loss'] as const) assertFinite(fn, `state.${key}`, state[key]);
  if (state.gain < 0 || state.loss < 0) fail(fn, 'state.gain and state.loss must not be negative');
}

/**
 * An incremental RSI: feed closes one at a time and get exactly the values `rsi()` computes over the
 * whole series, without keeping the history.
 * @param period Number of changes averaged; a positive integer.
 * @param state A `snapshot()` of an earlier calculator to continue from.
 * @example
 * import { createRsi, rsi } from 'perpdata/derive';
 *
 * const history = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.1, 45.42, 45.84, 46.08, 45.89, 46.03, 45.61, 46.28];
 * const live = createRsi(14);
 * for (const close of history) live.next(close);
 * const latest = live.next(46.28); // the same as rsi([...history, 46.28], 14).at(-1)
 */
// Long by design: Wilder's recurrence with its warm-up and state snapshot in one closure, kept together so `next` and `state` cannot drift apart.
export function createRsi(period: number = RSI_DEFAULT_PERIOD, state?: RsiState): RsiCalculator {
  const fn = 'createRsi';
  assertPositiveInteger(fn, 'period', period);
  if (state !== undefined) checkState(fn, period, state);
  let count = state?.count ?? 0;
  let prev = state?.prevClose ?? 0;
  let gain = state?.gain ?? 0;
  let loss = state?.loss ?? 0;
  let value = count > period ? rsiValue(fn, gain, loss) : undefined;
  const keep = period - 1;

  // `step` computes the state after `close` into these, without committing it (no allocation per close).
  let nextGain = 0;
  let nextLoss = 0;
  const step = (close: number): number | undefined => {
    assertFinite(fn, 'close', close, count);
    if (count === 0) {
      nextGain = 0;
      nextLoss = 0;
      return undefined;
    }
    const change = changeOf(fn, close, prev, count);
    const up = Math.max(change, 0);
    const down = Math.max(-change, 0);
    if (count < period) {
      nextGain = gain + up;
      nextLoss = loss + down;
      return undefined;
    }
    if (count === period) {
      nextGain = (gain + up) / period;
      nextLoss = (loss + down) / period;
    } else {
      nextGain = (gain * keep + up) / period;
      nextLoss = (loss * keep + down) / period;
    }
    return rsiValue(fn, nextGain, nextLoss);
  };

  return {
    period,
    get count() {
      return count;
    },
    get value() {
      return value;
    },
    next(close) {
      const v = step(close);
      gain = nextGain;
      loss = nextLoss;
      prev = close;
      count++;
      value = v;
      return v;
    },
    peek(close) {
      return step(close);
    },
    snapshot() {
      return { period, count, prevClose: prev, gain, loss };
    },
  };
}

/**
 * Indicator name of an RSI period, as written in `IndicatorValue.name`.
 * @example
 * import { rsiName } from 'perpdata/derive';
 *
 * rsiName(14); // 'rsi14'
 */
export function rsiName(period: number): string {
  return `rsi${period}`;
}

interface SeriesIdentity {
  readonly source: Source;
  readonly exchange: Exchange;
  readonly symbol: string;
  readonly interval: Interval;
}

/** Checks that `candle` continues the series of `first` after `prevTs`. */
function checkCandle(
  fn: string,
  first: SeriesIdentity,
  candle: Candle,
  prevTs: number | undefined,
  index: number,
): void {
  if (candle.interval !== first.interval) {
    fail(fn, `mixed intervals: ${first.interval} and ${String(candle.interval)}`, { Index: index });
  }
  if (
    candle.symbol !== first.symbol ||
    candle.exchange !== first.exchange ||
    candle.source !== first.source
  ) {
    fail(fn, 'candles of more than one series: pass one source/exchange/symbol at a time', {
      Index: index,
      Expected: `${first.source}/${first.exchange}/${first.symbol}`,
      Got: `${candle.source}/${candle.exchange}/${candle.symbol}`,
    });
  }
  if (!Number.isInteger(candle.ts))
    fail(fn, `candle ts is not an integer: ${String(candle.ts)}`, { Index: index });
  if (prevTs !== undefined && candle.ts <= prevTs) {
    fail(fn, 'candles must be in strictly ascending ts order without duplicates', {
      Index: index,
      Previous: iso(prevTs),
      Got: iso(candle.ts),
    });
  }
}

function indicator(candle: Candle, name: string, value: number): IndicatorValue {
  return {
    source: candle.source,
    exchange: candle.exchange,
    symbol: candle.symbol,
    ts: candle.ts,
    interval: candle.interval,
    name,
    value,
  };
}

/**
 * RSI of a candle series as indicator records (`name: 'rsi14'` for period 14), one per candle from
 * the `period`-th on, each with the `ts` of the candle whose close it was computed at.
 *
 * Candles are taken as consecutive: a missing candle is not filled in (heal holes first, see `findGaps`).
 * @param candles One series (one source, exchange, symbol and interval) in strictly ascending `ts`.
 * @example
 * import type { Candle } from 'perpdata';
 * import { rsiFromCandles } from 'perpdata/derive';
 *
 * declare const candles: Candle[]; // one series, ascending
 * const rsi14 = rsiFromCandles(candles); // IndicatorValue[] named 'rsi14', from the 15th candle on
 * const rsi7 = rsiFromCandles(candles, 7); // named 'rsi7'
 */
export function rsiFromCandles(
  candles: readonly Candle[],
  period: number = RSI_DEFAULT_PERIOD,
): IndicatorValue[] {
  const fn = 'rsiFromCandles';
  assertPositiveInteger(fn, 'period', period);
  const first = candles[0];
  if (first === undefined) return [];
  const closes = new Float64Array(candles.length);
  let prevTs: number | undefined;
  for (let i = 0; i < candles.length; i++) {
    const candle = candles[i] as Candle;
    checkCandle(fn, first, candle, prevTs, i);
    assertFinite(fn, 'close', candle.close, i);
    closes[i] = candle.close;
    prevTs = candle.ts;
  }
  const values = rsi(closes, period);
  const name = rsiName(period);
  const out: IndicatorValue[] = new Array<IndicatorValue>(values.length);
  for (let k = 0; k < values.length; k++) {
    out[k] = indicator(candles[k + period] as Candle, name, values[k] as number);
  }
  return out;
}

/** An RSI of closed candles kept current one candle at a time; see `createCandleRsi`. */
export interface CandleRsiCalculator {
  readonly period: number;
  /** Indicator name, e.g. `'rsi14'`. */
  readonly name: string;
  /** Consumes the next closed candle; returns its RSI record, or `undefined` while warming up. */
  next(candle: Candle): IndicatorValue | undefined;
}

/**
 * An incremental `rsiFromCandles`: feed closed candles of one series in order and get the same records.
 * Throws on a candle of another series or interval, or one that is not newer than the last.
 * @example
 * import { BinanceClient, MemoryStorage } from 'perpdata';
 * import { createCandleRsi } from 'perpdata/derive';
 *
 * const client = new BinanceClient();
 * const storage = new MemoryStorage();
 * const live = createCandleRsi(14);
 * for await (const candle of client.watchCandles({ symbols: ['BTC'], interval: '1m' })) {
 *   const record = live.next(candle); // undefined for the first 14 candles
 *   if (record) await storage.write('indicators', [record]);
 * }
 */
export function createCandleRsi(period: number = RSI_DEFAULT_PERIOD): CandleRsiCalculator {
  const fn = 'createCandleRsi';
  assertPositiveInteger(fn, 'period', period);
  const calc = createRsi(period);
  const name = rsiName(period);
  let first: SeriesIdentity | undefined;
  let prevTs: number | undefined;
  return {
    period,
    name,
    next(candle) {
      first ??= candle;
      checkCandle(fn, first, candle, prevTs, calc.count);
      const value = calc.next(candle.close);
      prevTs = candle.ts;
      return value === undefined ? undefined : indicator(candle, name, value);
    },
  };
}
