import { InvalidArgumentError } from '../core/errors.js';
import { addInterval, type Interval } from '../core/intervals.js';
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
import { ascending, type LiquidationFill, multipliedCandle } from './records.js';
import type { InstrumentInfo } from './symbols.js';

/** What an OKX normaliser needs besides the payload. */
export interface OkxContext {
  /** The instrument the rows belong to; `contractSize` (ctVal) converts contract counts to base units. */
  readonly instrument: InstrumentInfo;
  /** The period of the rows, for kinds that have one. */
  readonly interval?: Interval;
  /** Who served the rows. @default 'okx' */
  readonly source?: Source;
}

/** Unit of the rubik taker-volume rows, as asked with the `unit` param (`0` coin, `1` contracts). */
export type OkxTakerUnit = 'coin' | 'contracts';

/** Base units per contract of the instrument, or a `TypeError` when the registry entry has none. */
function contractSize(instrument: InstrumentInfo): number {
  const size = instrument.contractSize;
  if (size === undefined || !(size > 0)) {
    throw new TypeError(`OKX instrument ${instrument.instrument} has no contract size (ctVal)`);
  }
  return size;
}

/**
 * An OKX candle row `[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`, `ts` as `T` (a number over
 * REST after validation, a digit string live).
 */
export type OkxCandleTuple<T = number> = readonly [
  T,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  ...unknown[],
];

/**
 * Candle rows (`/api/v5/market/history-candles`, newest first) to closed candles in ascending order.
 * `confirm` decides: rows with `confirm:"0"` are still forming and yield nothing. Volume is `volCcy`
 * (base coin for swaps) and `volCcyQuote` the quote volume; when `volCcy` is empty the contract count
 * `vol` is converted with the instrument's `contractSize`.
 * @example
 * import { type InstrumentInfo, okxCandles } from 'perpdata/normalize';
 *
 * const instrument: InstrumentInfo = {
 *   exchange: 'okx',
 *   instrument: 'BTC-USDT-SWAP',
 *   symbol: 'BTC',
 *   quote: 'USDT',
 *   multiplier: 1,
 *   contractSize: 0.01, // ctVal: BTC per contract
 * };
 * okxCandles([[1786816800000, '63045.5', '63081.5', '63013.7', '63028', '32101.18', '321.0118', '20234523.14448', '1']], {
 *   instrument,
 *   interval: '1h',
 * }); // volume in BTC
 */
export function okxCandles(
  rows: readonly OkxCandleTuple[],
  ctx: OkxContext & { interval: Interval },
): Candle[] {
  const out: Candle[] = [];
  for (const r of rows) {
    if (r[8] === '1') out.push(okxCandle(r[0], r, ctx));
  }
  return ascending(out);
}

/**
 * The one OKX candle builder, for REST rows and live rows alike: volume is `volCcy`, or the contract
 * count `vol` × `contractSize` when `volCcy` is empty; `volCcyQuote` is the quote volume.
 */
function okxCandle(ts: number, r: OkxCandleTuple<unknown>, ctx: OkxContext & { interval: Interval }): Candle {
  return multipliedCandle(
    'okx',
    ctx,
    ts,
    num(r[1], 'open'),
    num(r[2], 'high'),
    num(r[3], 'low'),
    num(r[4], 'close'),
    numOrUndefined(r[6]) ?? num(r[5], 'vol') * contractSize(ctx.instrument),
    numOrUndefined(r[7]),
  );
}

/**
 * A confirmed live candle row (`candle{bar}` push, `confirm: "1"`; the caller checks it) to a candle,
 * built as `okxCandles` builds a REST row's, `volCcy` fallback included.
 * @example
 * import { type InstrumentInfo, okxWsCandle } from 'perpdata/normalize';
 *
 * const instrument: InstrumentInfo = {
 *   exchange: 'okx',
 *   instrument: 'BTC-USDT-SWAP',
 *   symbol: 'BTC',
 *   quote: 'USDT',
 *   multiplier: 1,
 *   contractSize: 0.01,
 * };
 * okxWsCandle(['1597026383085', '8533.02', '8553.74', '8527.17', '8548.26', '45247', '529.5858061', '5064.48756', '1'], {
 *   instrument,
 *   interval: '1d',
 * });
 */
export function okxWsCandle(row: OkxCandleTuple<string>, ctx: OkxContext & { interval: Interval }): Candle {
  return okxCandle(num(row[0], 'ts'), row, ctx);
}

/** Keys of the candles body. */
const BODY_KEYS = JsonBytes.names('code', 'msg', 'data');

/**
 * A `history-candles` body, as bytes, straight to its closed candles in ascending order: the same
 * candles `okxCandles` makes of the parsed body's rows, without building their strings and arrays.
 * Returns `undefined` for anything but a plain successful page (`code` `"0"`, rows of digit-string
 * times, plain decimals and `"0"`/`"1"` confirms, no escapes, no repeated keys), so the caller takes
 * the general path, which validates it and says what is wrong.
 * @example decodeOkxCandles(new TextEncoder().encode('{"code":"0","msg":"","data":[["1786816800000","63045.5","63081.5","63013.7","63028","32101.18","321.0118","20234523.14448","1"]]}'), { instrument, interval: '1h' })
 */
export function decodeOkxCandles(
  body: Uint8Array,
  ctx: OkxContext & { interval: Interval },
): Candle[] | undefined {
  const s = new JsonBytes(body);
  const out: Candle[] = [];
  const seen = s.object(BODY_KEYS, (k) => {
    if (k === 0) return s.digitString() === 0;
    if (k === 1) s.skipString();
    else return readCandleRows(s, ctx, out);
    return !s.failed;
  });
  // `code`, `msg` and `data` are all required.
  return seen === 0b111 && s.atEnd() ? ascending(out) : undefined;
}

/** The rows of `data`, confirmed ones as candles into `out`; false when they leave the subset. */
function readCandleRows(s: JsonBytes, ctx: OkxContext & { interval: Interval }, out: Candle[]): boolean {
  return s.rows(() => {
    const ts = s.millis();
    const open = s.nextDecimal();
    const high = s.nextDecimal();
    const low = s.nextDecimal();
    const close = s.nextDecimal();
    const vol = s.nextDecimal();
    const volCcy = s.nextDecimalOrEmpty();
    const volCcyQuote = s.nextDecimalOrEmpty();
    s.comma();
    const confirm = s.digitString();
    if (s.failed || confirm > 1) return false;
    if (confirm === 0) return true;
    // Contracts are converted only without `volCcy`; an instrument without ctVal is the general path's error.
    const size = ctx.instrument.contractSize;
    if (volCcy === undefined && !(size !== undefined && size > 0)) return false;
    out.push(multipliedCandle('okx', ctx, ts, open, high, low, close, volCcy ?? vol * size!, volCcyQuote));
    return true;
  });
}

/**
 * Funding-history rows (newest first) to settled `FundingRate`s, ascending. `realizedRate` (what was
 * actually charged) is preferred; `fundingRate` (the rate predicted at settlement) fills in when it is
 * empty or absent.
 */
export function okxFunding(
  rows: readonly { fundingRate: string; realizedRate?: string | undefined; fundingTime: number }[],
  ctx: OkxContext,
): FundingRate[] {
  return ascending(
    rows.map((r) => ({
      source: ctx.source ?? 'okx',
      exchange: 'okx' as const,
      symbol: ctx.instrument.symbol,
      ts: r.fundingTime,
      rate: numOrUndefined(r.realizedRate) ?? num(r.fundingRate, 'fundingRate'),
    })),
  );
}

/**
 * The current-funding row of the instrument (`/api/v5/public/funding-rate`): `fundingRate` is the
 * current period's rate and settles at `fundingTime` (not at `nextFundingTime`, which is the one
 * after); `ts` is when it was observed. Rows of other instruments yield nothing.
 */
export function okxPredictedFunding(
  rows: readonly { instId: string; fundingRate: string; fundingTime: number; ts: number }[],
  ctx: OkxContext,
): PredictedFunding[] {
  return rows.filter((r) => r.instId === ctx.instrument.instrument).map((r) => okxCurrentFunding(r, ctx));
}

/**
 * One current-funding row (REST `funding-rate` row or live `funding-rate` push row): `fundingRate`
 * settles at `fundingTime`, observed at `ts`. Times are numbers over REST, digit strings live.
 */
export function okxCurrentFunding(
  r: { readonly fundingRate: string; readonly fundingTime: number | string; readonly ts: number | string },
  ctx: OkxContext,
): PredictedFunding {
  return {
    source: ctx.source ?? 'okx',
    exchange: 'okx',
    symbol: ctx.instrument.symbol,
    ts: num(r.ts, 'ts'),
    rate: num(r.fundingRate, 'fundingRate'),
    nextFundingTime: numOrUndefined(r.fundingTime),
  };
}

/**
 * One open-interest observation, for the rubik history rows and the live `open-interest` rows: base
 * units from `oiCcy` (coins), or contracts `oi` × `contractSize` when `oiCcy` is empty; `oiUsd` as USD.
 */
function openInterestRecord(
  ctx: OkxContext & { interval: Interval },
  ts: number,
  oi: string,
  oiCcy: string,
  oiUsd: string | undefined,
): OpenInterest {
  return {
    source: ctx.source ?? 'okx',
    exchange: 'okx',
    symbol: ctx.instrument.symbol,
    interval: ctx.interval,
    ts,
    openInterest:
      (numOrUndefined(oiCcy) ?? num(oi, 'oi') * contractSize(ctx.instrument)) * ctx.instrument.multiplier,
    openInterestUsd: numOrUndefined(oiUsd),
  };
}

/** A live `open-interest` row (`{ instId, oi, oiCcy, oiUsd, ts }`, strings) to open interest, as the REST rows. */
export function okxWsOpenInterest(
  r: {
    readonly oi: string;
    readonly oiCcy: string;
    readonly oiUsd?: string | undefined;
    readonly ts: string;
  },
  ctx: OkxContext & { interval: Interval },
): OpenInterest {
  return openInterestRecord(ctx, num(r.ts, 'ts'), r.oi, r.oiCcy, r.oiUsd);
}

/**
 * A live `liquidation-orders` row to its liquidations. `posSide: "long"` (or, without a position side,
 * `side: "sell"`) = a long was liquidated; notional = `sz` (contracts) × `contractSize` × `bkPx`.
 */
export function okxWsLiquidations(
  row: {
    readonly details: readonly {
      readonly side: 'buy' | 'sell';
      readonly posSide?: string | undefined;
      readonly bkPx: string;
      readonly sz: string;
      readonly ts: string;
    }[];
  },
  instrument: InstrumentInfo,
): LiquidationFill[] {
  const ctVal = instrument.contractSize ?? 1;
  return row.details.map((d) => {
    const long = d.posSide === 'long' || (d.posSide !== 'short' && d.side === 'sell');
    return {
      symbol: instrument.symbol,
      ts: num(d.ts, 'ts'),
      side: long ? 'long' : 'short',
      usd: num(d.sz, 'sz') * ctVal * num(d.bkPx, 'bkPx'),
    };
  });
}

/**
 * Rubik open-interest rows `[ts, oi, oiCcy, oiUsd]` (newest first) to open interest in base units,
 * ascending: `oiCcy` (coins), or contracts × `contractSize` when `oiCcy` is empty; `oiUsd` as USD.
 */
export function okxOpenInterest(
  rows: readonly (readonly [number, string, string, string, ...unknown[]])[],
  ctx: OkxContext & { interval: Interval },
): OpenInterest[] {
  return ascending(rows.map((r) => openInterestRecord(ctx, r[0], r[1], r[2], r[3])));
}

/**
 * Rubik long/short rows `[ts, ratio]` (newest first) to `LongShortRatio`s, ascending. `kind` says
 * which endpoint they came from: `global` (long-short-account-ratio-contract), `topAccount`
 * (…-contract-top-trader) or `topPosition` (long-short-position-ratio-contract-top-trader). OKX
 * reports no shares, so `longShare`/`shortShare` stay undefined.
 */
export function okxLongShortRatio(
  rows: readonly (readonly [number, string, ...unknown[]])[],
  ctx: OkxContext & { interval: Interval; kind: LongShortKind },
): LongShortRatio[] {
  return ascending(
    rows.map((r) => ({
      source: ctx.source ?? 'okx',
      exchange: 'okx' as const,
      symbol: ctx.instrument.symbol,
      interval: ctx.interval,
      kind: ctx.kind,
      ts: r[0],
      ratio: num(r[1], 'longShortRatio'),
    })),
  );
}

/**
 * Rubik taker-volume rows `[ts, sellVol, buyVol]` (**sell first**, newest first) to `TakerVolume` in
 * base units, ascending. `unit` is what the request asked for: `'coin'` (`unit=0`, base units already)
 * or `'contracts'` (`unit=1`, the venue default: × `contractSize`). Periods not ended by `ctx.now`
 * are dropped (the rows carry no closed flag).
 */
export function okxTakerVolume(
  rows: readonly (readonly [number, string, string, ...unknown[]])[],
  ctx: OkxContext & { interval: Interval; unit: OkxTakerUnit; now: number },
): TakerVolume[] {
  if (ctx.unit !== 'coin' && ctx.unit !== 'contracts') {
    throw new InvalidArgumentError(
      `OKX taker volume unit must be 'coin' or 'contracts', got ${String(ctx.unit)}`,
    );
  }
  const scale = (ctx.unit === 'contracts' ? contractSize(ctx.instrument) : 1) * ctx.instrument.multiplier;
  const out: TakerVolume[] = [];
  for (const r of rows) {
    if (addInterval(r[0], ctx.interval, 1) > ctx.now) continue;
    out.push({
      source: ctx.source ?? 'okx',
      exchange: 'okx',
      symbol: ctx.instrument.symbol,
      interval: ctx.interval,
      ts: r[0],
      sellVolume: num(r[1], 'sellVol') * scale,
      buyVolume: num(r[2], 'buyVol') * scale,
    });
  }
  return ascending(out);
}

/**
 * USDT-settled linear swaps of `/api/v5/public/instruments?instType=SWAP` with `contractSize` =
 * `ctVal × ctMult` (base units per contract). OKX never bundles coins in the name, so the multiplier
 * is 1. Inverse swaps and rows without a contract value (`preopen` listings with `""` fields) are left out.
 */
export function okxInstruments(
  rows: readonly {
    instId: string;
    instType: string;
    instFamily?: string | undefined;
    uly?: string | undefined;
    settleCcy: string;
    ctType: string;
    ctVal: string;
    ctMult?: string | undefined;
    ctValCcy: string;
    listTime?: number | '' | undefined;
    state: string;
  }[],
): InstrumentInfo[] {
  const out: InstrumentInfo[] = [];
  for (const r of rows) {
    if (r.instType !== 'SWAP' || r.ctType !== 'linear' || r.settleCcy !== 'USDT') continue;
    const ctVal = numOrUndefined(r.ctVal);
    if (ctVal === undefined || !(ctVal > 0)) continue;
    const ctMult = numOrUndefined(r.ctMult) ?? 1;
    const family = r.instFamily || r.uly || r.instId;
    const symbol = r.ctValCcy || family.split('-')[0] || family;
    out.push({
      exchange: 'okx',
      instrument: r.instId,
      symbol,
      quote: r.settleCcy,
      multiplier: 1,
      contractSize: ctVal * ctMult,
      listedAt: typeof r.listTime === 'number' && r.listTime > 0 ? r.listTime : undefined,
      status: r.state,
    });
  }
  return out;
}

/** The venue clock of `/api/v5/public/time` in epoch ms. */
export function okxServerTime(data: readonly { ts: number }[]): number {
  const first = data[0];
  if (!first) throw new TypeError('OKX server time body has no rows');
  return first.ts;
}
