import { addInterval, type Interval } from '../core/intervals.js';
import type {
  Candle,
  FundingRate,
  LongShortRatio,
  OpenInterest,
  PredictedFunding,
  Source,
} from '../core/types.js';
import { JsonBytes } from './json-bytes.js';
import { num, numOrUndefined } from './numbers.js';
import { ascending, type LiquidationFill, multipliedCandle } from './records.js';
import { type InstrumentInfo, splitMultiplier } from './symbols.js';

/** What a Bybit normaliser needs besides the payload. */
export interface BybitContext {
  /** The instrument the rows belong to (from the symbol registry). */
  readonly instrument: InstrumentInfo;
  /** The period of the rows, for kinds that have one. */
  readonly interval?: Interval;
  /** Who served the rows. @default 'bybit' */
  readonly source?: Source;
}

/**
 * Kline rows (`/v5/market/kline`, newest first) to closed candles in ascending order. Bybit has no
 * closed flag in REST and lists the forming candle first: rows whose period has not ended by
 * `ctx.now` are dropped. Prices per one base unit (÷ multiplier), volume in base units (× multiplier),
 * `turnover` becomes `quoteVolume`.
 * @example
 * import { bybitCandles, type InstrumentInfo } from 'perpdata/normalize';
 *
 * const instrument: InstrumentInfo = { exchange: 'bybit', instrument: 'BTCUSDT', symbol: 'BTC', quote: 'USDT', multiplier: 1 };
 * bybitCandles([[1786816800000, '63044.4', '63089.6', '63000.1', '63027.8', '385.721', '24314058.6517']], {
 *   instrument,
 *   interval: '1h',
 *   now: Date.now(), // a candle that has not closed by `now` is dropped
 * }); // ts as numbers: the response schema converts them
 */
export function bybitCandles(
  rows: readonly (readonly [number, string, string, string, string, string, string, ...unknown[]])[],
  ctx: BybitContext & { interval: Interval; now: number },
): Candle[] {
  const { interval, now } = ctx;
  const out: Candle[] = [];
  for (const r of rows) {
    if (addInterval(r[0], interval, 1) > now) continue;
    out.push(
      multipliedCandle(
        'bybit',
        ctx,
        r[0],
        num(r[1], 'open'),
        num(r[2], 'high'),
        num(r[3], 'low'),
        num(r[4], 'close'),
        num(r[5], 'volume'),
        num(r[6], 'turnover'),
      ),
    );
  }
  return ascending(out);
}

/** A live `kline.{interval}.{symbol}` row; decimals are strings (numbers are accepted). */
export interface BybitWsKline {
  /** Period start, epoch ms. */
  readonly start: number;
  readonly open: string | number;
  readonly high: string | number;
  readonly low: string | number;
  readonly close: string | number;
  readonly volume: string | number;
  /** Quote volume; a blank one leaves `quoteVolume` undefined. */
  readonly turnover: string | number;
}

/**
 * A closed live kline row (`confirm: true`; the caller checks it) to a candle, built as
 * `bybitCandles` builds a REST row's.
 * @example
 * import { bybitWsCandle, type InstrumentInfo } from 'perpdata/normalize';
 *
 * const instrument: InstrumentInfo = { exchange: 'bybit', instrument: 'BTCUSDT', symbol: 'BTC', quote: 'USDT', multiplier: 1 };
 * bybitWsCandle(
 *   { start: 1719667560000, open: '61035.1', high: '61035.1', low: '61029.9', close: '61029.9', volume: '10.798', turnover: '659051.6264' },
 *   { instrument, interval: '1m' },
 * );
 */
export function bybitWsCandle(row: BybitWsKline, ctx: BybitContext & { interval: Interval }): Candle {
  return multipliedCandle(
    'bybit',
    ctx,
    row.start,
    num(row.open, 'open'),
    num(row.high, 'high'),
    num(row.low, 'low'),
    num(row.close, 'close'),
    num(row.volume, 'volume'),
    numOrUndefined(row.turnover),
  );
}

/** Keys of the `/v5/market/kline` envelope and of its `result`. */
const ENVELOPE_KEYS = JsonBytes.names('retCode', 'retMsg', 'result', 'time');
const RESULT_KEYS = JsonBytes.names('list', 'symbol', 'category');

/**
 * A `/v5/market/kline` body, as bytes, straight to closed candles in ascending order: the same
 * candles `bybitCandles` makes of the parsed body, without building its strings and arrays. Returns
 * `undefined` for anything but a plain successful page (`retCode` 0, rows of digit-string start times
 * and plain decimals, no escapes, no repeated keys), so the caller takes the general path, which
 * validates it and says what is wrong.
 * @example decodeBybitKlines(new TextEncoder().encode('{"retCode":0,"retMsg":"OK","result":{"list":[["1786816800000","63044.4","63089.6","63000.1","63027.8","385.721","24314058.6517"]]},"time":1786820637599}'), { instrument, interval: '1h', now: Date.now() })
 */
export function decodeBybitKlines(
  body: Uint8Array,
  ctx: BybitContext & { interval: Interval; now: number },
): Candle[] | undefined {
  const s = new JsonBytes(body);
  const out: Candle[] = [];
  const readResult = (k: number) => {
    if (k === 0) return readRows(s, ctx, out);
    s.skipString(); // `symbol`, `category`
    return !s.failed;
  };
  const seen = s.object(ENVELOPE_KEYS, (k) => {
    if (k === 0) return s.int() === 0;
    if (k === 1) s.skipString();
    else if (k === 2)
      return (s.object(RESULT_KEYS, readResult) & 1) === 1; // `list` is required
    else s.int();
    return !s.failed;
  });
  // Every envelope key is required.
  return seen === 0b1111 && s.atEnd() ? ascending(out) : undefined;
}

/** The kline rows of `list`, closed ones as candles into `out`; false when they leave the subset. */
function readRows(s: JsonBytes, ctx: BybitContext & { interval: Interval; now: number }, out: Candle[]) {
  return s.rows(() => {
    const ts = s.millis();
    const open = s.nextDecimal();
    const high = s.nextDecimal();
    const low = s.nextDecimal();
    const close = s.nextDecimal();
    const volume = s.nextDecimal();
    const turnover = s.nextDecimal();
    if (s.failed) return false;
    if (addInterval(ts, ctx.interval, 1) <= ctx.now)
      out.push(multipliedCandle('bybit', ctx, ts, open, high, low, close, volume, turnover));
    return true;
  });
}

/** Funding-history rows (newest first) to settled `FundingRate`s in ascending order; Bybit reports no mark price. */
export function bybitFunding(
  rows: readonly { fundingRate: string; fundingRateTimestamp: number }[],
  ctx: BybitContext,
): FundingRate[] {
  return ascending(
    rows.map((r) => ({
      source: ctx.source ?? 'bybit',
      exchange: 'bybit' as const,
      symbol: ctx.instrument.symbol,
      ts: r.fundingRateTimestamp,
      rate: num(r.fundingRate, 'fundingRate'),
    })),
  );
}

/** The funding and open-interest fields of a ticker (`/v5/market/tickers` row, or a `tickers.{symbol}` push merged with its deltas). */
export interface BybitTicker {
  readonly fundingRate?: string | undefined;
  /** Epoch ms (a digit string live, a number or `""` over REST). */
  readonly nextFundingTime?: string | number | undefined;
  /** Two-sided open interest, base units. */
  readonly openInterest?: string | undefined;
  readonly openInterestValue?: string | undefined;
  /** One side's open interest; missing from the history bodies, present in tickers. */
  readonly singleOpenInterest?: string | undefined;
  readonly singleOpenInterestValue?: string | undefined;
}

/**
 * A ticker's accruing funding: `fundingRate` settles at `nextFundingTime`, observed at `ctx.time`. A
 * ticker with an empty `fundingRate` (pre-listing) yields `undefined`. Shared by REST and live.
 */
export function bybitTickerFunding(
  t: BybitTicker,
  ctx: BybitContext & { time: number },
): PredictedFunding | undefined {
  const rate = numOrUndefined(t.fundingRate);
  if (rate === undefined) return undefined;
  const next = numOrUndefined(t.nextFundingTime);
  return {
    source: ctx.source ?? 'bybit',
    exchange: 'bybit',
    symbol: ctx.instrument.symbol,
    ts: ctx.time,
    rate,
    nextFundingTime: next !== undefined && next > 0 ? next : undefined,
  };
}

/**
 * The ticker row of the instrument (`/v5/market/tickers`): `fundingRate` is the rate that settles at
 * `nextFundingTime`; `ctx.time` (the envelope's `time`) is when it was observed. Rows of other
 * symbols and rows with an empty `fundingRate` (pre-listing) yield nothing.
 */
export function bybitPredictedFunding(
  rows: readonly (BybitTicker & { symbol: string })[],
  ctx: BybitContext & { time: number },
): PredictedFunding[] {
  const out: PredictedFunding[] = [];
  for (const r of rows) {
    if (r.symbol !== ctx.instrument.instrument) continue;
    const record = bybitTickerFunding(r, ctx);
    if (record) out.push(record);
  }
  return out;
}

/**
 * Bybit's one rule for one-sided open interest: `single` (`singleOpenInterest`) when it is a number,
 * else half of `both` (`openInterest` counts both sides; longs = shorts, so one side is exactly half),
 * else `undefined`. The REST history, the live tickers and their USD values all go through it.
 */
function oneSided(single: string | undefined, both: string | undefined): number | undefined {
  const one = numOrUndefined(single);
  if (one !== undefined) return one;
  const two = numOrUndefined(both);
  return two === undefined ? undefined : two / 2;
}

/**
 * Open-interest rows (`/v5/market/open-interest`, newest first) to one-sided open interest in base
 * units, ascending. `singleOpenInterest` is missing from live history bodies (recorded 2025-02 and
 * 2026-08), so the two-sided figure is halved (see `oneSided`). No USD value in these rows.
 */
export function bybitOpenInterest(
  rows: readonly { openInterest: string; singleOpenInterest?: string | undefined; timestamp: number }[],
  ctx: BybitContext & { interval: Interval },
): OpenInterest[] {
  const m = ctx.instrument.multiplier;
  return ascending(
    rows.map((r) => ({
      source: ctx.source ?? 'bybit',
      exchange: 'bybit' as const,
      symbol: ctx.instrument.symbol,
      interval: ctx.interval,
      ts: r.timestamp,
      // `num` only runs when `openInterest` is no number, to throw the error that names it.
      openInterest:
        (oneSided(r.singleOpenInterest, r.openInterest) ?? num(r.openInterest, 'openInterest')) * m,
    })),
  );
}

/**
 * A ticker's one-sided open interest in base units and USD, observed at `ctx.time` (see `oneSided`);
 * `undefined` when the ticker has neither figure (a delta that changed other fields).
 */
export function bybitTickerOpenInterest(
  t: BybitTicker,
  ctx: BybitContext & { interval: Interval; time: number },
): OpenInterest | undefined {
  const oi = oneSided(t.singleOpenInterest, t.openInterest);
  if (oi === undefined) return undefined;
  return {
    source: ctx.source ?? 'bybit',
    exchange: 'bybit',
    symbol: ctx.instrument.symbol,
    interval: ctx.interval,
    ts: ctx.time,
    openInterest: oi * ctx.instrument.multiplier,
    openInterestUsd: oneSided(t.singleOpenInterestValue, t.openInterestValue),
  };
}

/**
 * A live `allLiquidation` row to a liquidation. Bybit's `S` is the side of the **position**: `Buy` = a
 * long was liquidated (the opposite of Binance's order side). Notional = `v` × `p`.
 */
export function bybitWsLiquidation(
  row: {
    readonly T: number;
    readonly S: 'Buy' | 'Sell';
    readonly v: string | number;
    readonly p: string | number;
  },
  instrument: InstrumentInfo,
): LiquidationFill {
  return {
    symbol: instrument.symbol,
    ts: row.T,
    side: row.S === 'Buy' ? 'long' : 'short',
    usd: num(row.v, 'v') * num(row.p, 'p'),
  };
}

/**
 * Account-ratio rows (`/v5/market/account-ratio`, newest first) to the all-accounts (`global`) ratio,
 * ascending: `ratio = buyRatio / sellRatio`, shares as given. A row with `sellRatio` 0 has no finite
 * ratio and is dropped.
 */
export function bybitLongShortRatio(
  rows: readonly { buyRatio: string; sellRatio: string; timestamp: number }[],
  ctx: BybitContext & { interval: Interval },
): LongShortRatio[] {
  const out: LongShortRatio[] = [];
  for (const r of rows) {
    const long = num(r.buyRatio, 'buyRatio');
    const short = num(r.sellRatio, 'sellRatio');
    if (short === 0) continue;
    out.push({
      source: ctx.source ?? 'bybit',
      exchange: 'bybit',
      symbol: ctx.instrument.symbol,
      interval: ctx.interval,
      kind: 'global',
      ts: r.timestamp,
      ratio: long / short,
      longShare: long,
      shortShare: short,
    });
  }
  return ascending(out);
}

/**
 * Canonical symbol and multiplier of a Bybit instrument. `baseCoin` is `'1000PEPE'` for
 * `1000PEPEUSDT`; should a listing give the bare coin instead, the symbol's stem (symbol minus quote)
 * is split, and accepted only when what remains is the base coin, so `1INCHUSDT` stays whole.
 */
function bybitBase(
  symbol: string,
  baseCoin: string,
  quoteCoin: string,
): { symbol: string; multiplier: number } {
  const fromBase = splitMultiplier(baseCoin);
  if (fromBase.multiplier !== 1) return fromBase;
  const stem = symbol.endsWith(quoteCoin) ? symbol.slice(0, -quoteCoin.length) : baseCoin;
  if (stem !== baseCoin) {
    const fromStem = splitMultiplier(stem);
    if (fromStem.multiplier !== 1 && fromStem.symbol === baseCoin) return fromStem;
  }
  return fromBase;
}

/**
 * USDT linear perpetuals of `/v5/market/instruments-info` pages, mapped to canonical symbols:
 * `1000PEPEUSDT` → PEPE ×1000, `SHIB1000USDT` → SHIB ×1000. Dated futures (`LinearFutures`) and
 * USDC perpetuals are left out.
 */
export function bybitInstruments(
  list: readonly {
    symbol: string;
    contractType: string;
    status: string;
    baseCoin: string;
    quoteCoin: string;
    settleCoin?: string | undefined;
    launchTime?: number | undefined;
  }[],
): InstrumentInfo[] {
  const out: InstrumentInfo[] = [];
  for (const s of list) {
    if (s.contractType !== 'LinearPerpetual' || s.quoteCoin !== 'USDT') continue;
    if (s.settleCoin !== undefined && s.settleCoin !== 'USDT') continue;
    const { symbol, multiplier } = bybitBase(s.symbol, s.baseCoin, s.quoteCoin);
    out.push({
      exchange: 'bybit',
      instrument: s.symbol,
      symbol,
      quote: s.quoteCoin,
      multiplier,
      listedAt: s.launchTime !== undefined && s.launchTime > 0 ? s.launchTime : undefined,
      status: s.status,
    });
  }
  return out;
}

/** The venue clock of `/v5/market/time` in epoch ms (from `timeNano`, floored). */
export function bybitServerTime(result: { timeSecond: string; timeNano: string }): number {
  const nano = result.timeNano;
  // Whole milliseconds from the digit string, without passing through a float of 19 digits.
  return nano.length > 6 ? Number(nano.slice(0, -6)) : num(result.timeSecond, 'timeSecond') * 1000;
}
