import type { Interval } from '../core/intervals.js';
import type {
  Candle,
  FundingRate,
  LongShortKind,
  LongShortRatio,
  OpenInterest,
  PredictedFunding,
  Source,
  TakerVolume,
} from '../core/types.js';
import { JsonBytes } from './json-bytes.js';
import { num, numOrUndefined } from './numbers.js';
import type { LiquidationFill } from './records.js';
import { type InstrumentInfo, splitMultiplier } from './symbols.js';

/** What a Binance normaliser needs besides the payload. */
export interface BinanceContext {
  /** The instrument the rows belong to (from the symbol registry). */
  readonly instrument: InstrumentInfo;
  /** The period of the rows, for kinds that have one. */
  readonly interval?: Interval;
  /** Who served the rows. @default 'binance' */
  readonly source?: Source;
}

/** One hour: every Binance funding interval (1 h, 4 h, 8 h) lands on this grid. */
const FUNDING_GRID = 3_600_000;

/** Funding times arrive a few ms after the boundary (…002, …005): snap them to the hour grid. */
export function snapFundingTime(ts: number): number {
  return Math.round(ts / FUNDING_GRID) * FUNDING_GRID;
}

/** What every candle of one kline page shares. */
interface KlineSeries {
  readonly source: Source;
  readonly symbol: string;
  readonly interval: Interval;
  /** Contract multiplier: prices are divided by it, volumes multiplied. */
  readonly m: number;
}

function klineSeries(ctx: BinanceContext & { interval: Interval }): KlineSeries {
  const { instrument, interval } = ctx;
  return { source: ctx.source ?? 'binance', symbol: instrument.symbol, interval, m: instrument.multiplier };
}

/**
 * One candle from kline values: the one Binance candle builder, for the REST rows, the REST bytes and
 * the live `kline` events, so their candles share one shape.
 */
function klineCandle(
  k: KlineSeries,
  ts: number,
  open: number,
  high: number,
  low: number,
  close: number,
  volume: number,
  quoteVolume: number | undefined,
  trades: number,
  takerBuy: number,
): Candle {
  return {
    source: k.source,
    exchange: 'binance',
    symbol: k.symbol,
    interval: k.interval,
    ts,
    open: open / k.m,
    high: high / k.m,
    low: low / k.m,
    close: close / k.m,
    volume: volume * k.m,
    quoteVolume,
    trades,
    takerBuyVolume: takerBuy * k.m,
  };
}

/**
 * Kline rows (`/fapi/v1/klines`) to candles, prices per one base unit, volumes in base units.
 * Taker buy volume comes from column 9. The caller drops the still-forming candle.
 * @example
 * import { binanceCandles, type InstrumentInfo } from 'perpdata/normalize';
 *
 * const instrument: InstrumentInfo = { exchange: 'binance', instrument: 'BTCUSDT', symbol: 'BTC', quote: 'USDT', multiplier: 1 };
 * binanceCandles(
 *   [[1717200000000, '67500.1', '67530', '67480.2', '67512.4', '152.381', 1717200059999, '10289123.55', 2143, '80.114', '5409123.11', '0']],
 *   { instrument, interval: '1m' },
 * ); // [{ ts: 1717200000000, open: 67500.1, …, takerBuyVolume: 80.114 }]
 */
export function binanceCandles(
  rows: readonly (readonly [
    number,
    string,
    string,
    string,
    string,
    string,
    number,
    string,
    number,
    string,
    string,
    ...unknown[],
  ])[],
  ctx: BinanceContext & { interval: Interval },
): Candle[] {
  const series = klineSeries(ctx);
  const out: Candle[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const open = +r[1];
    const high = +r[2];
    const low = +r[3];
    const close = +r[4];
    const volume = +r[5];
    const quoteVolume = +r[7];
    const takerBuy = +r[9];
    // `+''` is 0: blank fields must fail like any other non-number (see `num`). One check per row.
    if (
      !Number.isFinite(open + high + low + close + volume + quoteVolume + takerBuy) ||
      r[1].length * r[2].length * r[3].length * r[4].length * r[5].length * r[7].length * r[9].length === 0
    ) {
      for (const [i, field] of [
        [1, 'open'],
        [2, 'high'],
        [3, 'low'],
        [4, 'close'],
        [5, 'volume'],
        [7, 'quoteVolume'],
        [9, 'takerBuyVolume'],
      ] as const) {
        num(r[i], field);
      }
    }
    out[i] = klineCandle(series, r[0], open, high, low, close, volume, quoteVolume, r[8], takerBuy);
  }
  return out;
}

/**
 * A `/fapi/v1/klines` body, as bytes, straight to candles: the same candles `binanceCandles` makes of
 * `JSON.parse(body)`, without building the intermediate strings and arrays. Returns `undefined` when
 * the body is not a plain kline page (escapes, exponents, a blank or odd field, an error object), so
 * the caller takes the general path, which validates it and says what is wrong.
 * @example decodeBinanceKlines(new TextEncoder().encode('[[1717200000000,"67500.1","67530","67480.2","67512.4","152.381",1717200059999,"10289123.55",2143,"80.114","5409123.11","0"]]'), { instrument, interval: '1m' })
 */
export function decodeBinanceKlines(
  body: Uint8Array,
  ctx: BinanceContext & { interval: Interval },
): Candle[] | undefined {
  const series = klineSeries(ctx);
  const s = new JsonBytes(body);
  const out: Candle[] = [];
  const read = s.rows(() => {
    const ts = s.int();
    const open = s.nextDecimal();
    const high = s.nextDecimal();
    const low = s.nextDecimal();
    const close = s.nextDecimal();
    const volume = s.nextDecimal();
    s.nextInt(); // close time
    const quoteVolume = s.nextDecimal();
    const trades = s.nextInt();
    const takerBuy = s.nextDecimal();
    s.comma();
    s.skipString(); // taker buy quote volume: not kept, so only its type is checked, as in `klineRow`
    // A row that fails later fails the whole page, so pushing before the row is done is safe.
    out.push(klineCandle(series, ts, open, high, low, close, volume, quoteVolume, trades, takerBuy));
    return !s.failed;
  });
  return read && s.atEnd() ? out : undefined;
}

/** The `k` of a `<symbol>@kline_<interval>` event; decimals are strings (numbers are accepted). */
export interface BinanceWsKline {
  /** Open time, epoch ms. */
  readonly t: number;
  readonly o: string | number;
  readonly h: string | number;
  readonly l: string | number;
  readonly c: string | number;
  readonly v: string | number;
  /** Quote volume; a blank one leaves `quoteVolume` undefined. */
  readonly q: string | number;
  /** Taker buy base volume. */
  readonly V: string | number;
  /** Number of trades. */
  readonly n: number;
}

/**
 * A closed live kline (`k.x: true`) to a candle, built as `binanceCandles` builds a REST row's.
 * @example
 * import { binanceWsCandle, type InstrumentInfo } from 'perpdata/normalize';
 *
 * const instrument: InstrumentInfo = { exchange: 'binance', instrument: 'BTCUSDT', symbol: 'BTC', quote: 'USDT', multiplier: 1 };
 * binanceWsCandle(
 *   { t: 1786173300000, o: '64970.8', h: '64970.9', l: '64969.4', c: '64969.4', v: '9.09', q: '590577.9688', V: '3.46', n: 194 },
 *   { instrument, interval: '1m' },
 * );
 */
export function binanceWsCandle(k: BinanceWsKline, ctx: BinanceContext & { interval: Interval }): Candle {
  return klineCandle(
    klineSeries(ctx),
    k.t,
    num(k.o, 'open'),
    num(k.h, 'high'),
    num(k.l, 'low'),
    num(k.c, 'close'),
    num(k.v, 'volume'),
    numOrUndefined(k.q),
    k.n,
    num(k.V, 'takerBuyVolume'),
  );
}

/** Funding-rate history rows to `FundingRate`s, `ts` snapped to the funding grid. */
export function binanceFunding(
  rows: readonly { fundingTime: number; fundingRate: string; markPrice?: string | undefined }[],
  ctx: BinanceContext,
): FundingRate[] {
  const m = ctx.instrument.multiplier;
  return rows.map((r) => {
    const mark = numOrUndefined(r.markPrice);
    return {
      source: ctx.source ?? 'binance',
      exchange: 'binance',
      symbol: ctx.instrument.symbol,
      ts: snapFundingTime(r.fundingTime),
      rate: num(r.fundingRate, 'fundingRate'),
      markPrice: mark === undefined ? undefined : mark / m,
    };
  });
}

/** One accruing-funding observation; the REST snapshot and the live `markPriceUpdate` both build it here. */
function predictedFunding(ctx: BinanceContext, ts: number, rate: number, next: number): PredictedFunding {
  return {
    source: ctx.source ?? 'binance',
    exchange: 'binance',
    symbol: ctx.instrument.symbol,
    ts,
    rate,
    nextFundingTime: next,
  };
}

/** The `premiumIndex` snapshot: `lastFundingRate` is the rate accruing for `nextFundingTime`. */
export function binancePredictedFunding(
  raw: { lastFundingRate: string; nextFundingTime: number; time: number },
  ctx: BinanceContext,
): PredictedFunding {
  return predictedFunding(ctx, raw.time, num(raw.lastFundingRate, 'lastFundingRate'), raw.nextFundingTime);
}

/** A live `markPriceUpdate` event: `r` is the rate accruing for `T`, observed at `E`. */
export function binanceWsFunding(
  event: { readonly E: number; readonly r: string | number; readonly T: number },
  ctx: BinanceContext,
): PredictedFunding {
  return predictedFunding(ctx, event.E, num(event.r, 'r'), event.T);
}

/**
 * A live `forceOrder` event's order to a liquidation. Binance gives the liquidation **order**'s side:
 * `SELL` closes a long (a long was liquidated), `BUY` closes a short. Notional = filled quantity
 * (`z`, else the order's `q`) × average price (`ap`, else the order's `p`).
 */
export function binanceWsLiquidation(
  o: {
    readonly S: 'BUY' | 'SELL';
    readonly q: string | number;
    readonly p: string | number;
    readonly ap?: string | number | undefined;
    readonly z?: string | number | undefined;
    readonly T: number;
  },
  instrument: InstrumentInfo,
): LiquidationFill {
  const qty = numOrUndefined(o.z) ?? num(o.q, 'q');
  const price = numOrUndefined(o.ap) || num(o.p, 'p');
  return { symbol: instrument.symbol, ts: o.T, side: o.S === 'SELL' ? 'long' : 'short', usd: qty * price };
}

/** `openInterestHist` rows: `sumOpenInterest` is one-sided, in (bundles of) the base asset. */
export function binanceOpenInterest(
  rows: readonly { sumOpenInterest: string; sumOpenInterestValue?: string | undefined; timestamp: number }[],
  ctx: BinanceContext & { interval: Interval },
): OpenInterest[] {
  const m = ctx.instrument.multiplier;
  return rows.map((r) => ({
    source: ctx.source ?? 'binance',
    exchange: 'binance',
    symbol: ctx.instrument.symbol,
    interval: ctx.interval,
    ts: r.timestamp,
    openInterest: num(r.sumOpenInterest, 'sumOpenInterest') * m,
    openInterestUsd: numOrUndefined(r.sumOpenInterestValue),
  }));
}

/** Long/short ratio rows of any of the three populations (`longAccount` is the long *position* share for `topPosition`). */
export function binanceLongShortRatio(
  rows: readonly { longShortRatio: string; longAccount: string; shortAccount: string; timestamp: number }[],
  ctx: BinanceContext & { interval: Interval; kind: LongShortKind },
): LongShortRatio[] {
  return rows.map((r) => ({
    source: ctx.source ?? 'binance',
    exchange: 'binance',
    symbol: ctx.instrument.symbol,
    interval: ctx.interval,
    kind: ctx.kind,
    ts: r.timestamp,
    ratio: num(r.longShortRatio, 'longShortRatio'),
    longShare: numOrUndefined(r.longAccount),
    shortShare: numOrUndefined(r.shortAccount),
  }));
}

/** `takerlongshortRatio` rows: taker buy and sell volume in base units. */
export function binanceTakerVolume(
  rows: readonly { buyVol: string; sellVol: string; timestamp: number }[],
  ctx: BinanceContext & { interval: Interval },
): TakerVolume[] {
  const m = ctx.instrument.multiplier;
  return rows.map((r) => ({
    source: ctx.source ?? 'binance',
    exchange: 'binance',
    symbol: ctx.instrument.symbol,
    interval: ctx.interval,
    ts: r.timestamp,
    buyVolume: num(r.buyVol, 'buyVol') * m,
    sellVolume: num(r.sellVol, 'sellVol') * m,
  }));
}

/** USDT-quoted perpetuals of an `exchangeInfo` body (including TradFi perpetuals), mapped to canonical symbols. */
export function binanceInstruments(
  symbols: readonly {
    symbol: string;
    contractType: string;
    status: string;
    baseAsset: string;
    quoteAsset: string;
    onboardDate?: number | undefined;
  }[],
): InstrumentInfo[] {
  const out: InstrumentInfo[] = [];
  for (const s of symbols) {
    if (!s.contractType.endsWith('PERPETUAL') || s.quoteAsset !== 'USDT') continue;
    const { symbol, multiplier } = splitMultiplier(s.baseAsset);
    out.push({
      exchange: 'binance',
      instrument: s.symbol,
      symbol,
      quote: s.quoteAsset,
      multiplier,
      listedAt: s.onboardDate,
      status: s.status,
    });
  }
  return out;
}
