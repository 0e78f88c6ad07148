import { InvalidArgumentError } from '../core/errors.js';
import { addInterval, floorToInterval, type Interval, intervalMs } from '../core/intervals.js';
import type {
  Candle,
  Exchange,
  FundingRate,
  Liquidation,
  LongShortRatio,
  OpenInterest,
  PredictedFunding,
  Source,
} from '../core/types.js';
import { num, numOrUndefined } from './numbers.js';
import { type InstrumentInfo, splitMultiplier } from './symbols.js';

/**
 * Coinalyze exchange codes of the venues perpdata maps (`BTCUSDT_PERP.A`, `BTCUSDT.6`, `BTCUSDT_PERP.3`).
 * Partial: an exchange of the registry without a code here is not served through Coinalyze (its
 * markets are left out of the instrument list), so adding an exchange needs no entry here.
 */
export const COINALYZE_EXCHANGE_CODES: Readonly<Partial<Record<Exchange, string>>> = {
  binance: 'A',
  bybit: '6',
  okx: '3',
};

const EXCHANGE_OF_CODE: Readonly<Record<string, Exchange>> = Object.fromEntries(
  Object.entries(COINALYZE_EXCHANGE_CODES).map(([exchange, code]) => [code, exchange as Exchange]),
);

/** Eight hours: the funding grid assumed when a context does not say otherwise. */
const DEFAULT_FUNDING_INTERVAL = 8 * 3_600_000;

/**
 * What a Coinalyze normaliser needs besides the payload. Coinalyze history comes in buckets and
 * includes the still-forming one, so every normaliser drops buckets whose period has not ended by
 * `now`.
 */
export interface CoinalyzeContext {
  /** The Coinalyze instrument (`instrument` = `'BTCUSDT.6'`, `exchange` = the venue it lists). */
  readonly instrument: InstrumentInfo;
  /** The bucket size the history was asked with. */
  readonly interval: Interval;
  /** The present, epoch ms: buckets ending after it are still forming and yield nothing. */
  readonly now: number;
  /** Who served the rows. @default 'coinalyze' */
  readonly source?: Source;
}

/**
 * A percent figure as a fraction, shifting the decimal exponent instead of dividing so that
 * `0.005149` becomes exactly `0.00005149` (a division gives `0.000051489999999999997`).
 */
function fromPercent(value: number, field: string): number {
  const [mantissa, exponent = '0'] = String(num(value, field)).split('e');
  return Number(`${mantissa}e${Number(exponent) - 2}`);
}

/** Epoch ms of a bucket start given in seconds. */
function ms(t: number): number {
  return t * 1000;
}

/** Buckets closed by `now`, sorted ascending, first of each `t` kept (Coinalyze is ascending already). */
function closed<T extends { t: number }>(items: readonly T[], ctx: CoinalyzeContext): T[] {
  const kept = items.filter((i) => addInterval(ms(i.t), ctx.interval, 1) <= ctx.now);
  kept.sort((a, b) => a.t - b.t);
  return kept.filter((r, i) => i === 0 || kept[i - 1]!.t !== r.t);
}

/** The fields every record of a context shares. */
function base(ctx: CoinalyzeContext): { source: Source; exchange: Exchange; symbol: string } {
  return {
    source: ctx.source ?? 'coinalyze',
    exchange: ctx.instrument.exchange,
    symbol: ctx.instrument.symbol,
  };
}

/**
 * The `history` of one symbol from a history body `[{ symbol, history }]` (which holds one element
 * per requested symbol that has data); `[]` when the symbol is absent.
 */
export function coinalyzeHistoryOf<T>(
  body: readonly { symbol: string; history: readonly T[] }[],
  symbol: string,
): T[] {
  const entry = body.find((e) => e.symbol === symbol);
  return entry ? [...entry.history] : [];
}

/**
 * `/ohlcv-history` items to closed candles: prices ÷ multiplier, volume `v` and taker-buy volume `bv`
 * (in `oi_lq_vol_denominated_in` units, i.e. bundles for `1000PEPE`) × multiplier, `tx` as trades.
 * Coinalyze reports no quote volume.
 */
export function coinalyzeCandles(
  items: readonly {
    t: number;
    o: number;
    h: number;
    l: number;
    c: number;
    v: number;
    bv?: number | null | undefined;
    tx?: number | null | undefined;
  }[],
  ctx: CoinalyzeContext,
): Candle[] {
  const m = ctx.instrument.multiplier;
  const { source, exchange, symbol } = base(ctx);
  return closed(items, ctx).map((i) => {
    const bv = numOrUndefined(i.bv);
    return {
      source,
      exchange,
      symbol,
      interval: ctx.interval,
      ts: ms(i.t),
      open: num(i.o, 'o') / m,
      high: num(i.h, 'h') / m,
      low: num(i.l, 'l') / m,
      close: num(i.c, 'c') / m,
      volume: num(i.v, 'v') * m,
      takerBuyVolume: bv === undefined ? undefined : bv * m,
      trades: numOrUndefined(i.tx),
    };
  });
}

/**
 * `/open-interest-history` items asked with `convert_to_usd=false` to open interest in base units:
 * the bucket's **open** `o` (the figure at `ts`, like the point-in-time rows of the other venues)
 * × multiplier. Pass the same symbol's history asked with `convert_to_usd=true` as `usd` to fill
 * `openInterestUsd` (matched by `t`).
 */
export function coinalyzeOpenInterest(
  items: readonly { t: number; o: number }[],
  ctx: CoinalyzeContext & { usd?: readonly { t: number; o: number }[] | undefined },
): OpenInterest[] {
  const m = ctx.instrument.multiplier;
  const usd = new Map((ctx.usd ?? []).map((u) => [u.t, u.o] as const));
  const { source, exchange, symbol } = base(ctx);
  return closed(items, ctx).map((i) => ({
    source,
    exchange,
    symbol,
    interval: ctx.interval,
    ts: ms(i.t),
    openInterest: num(i.o, 'o') * m,
    openInterestUsd: numOrUndefined(usd.get(i.t)),
  }));
}

/**
 * The current open interest of one market (`/open-interest`, `{ symbol, value, update }`): one-sided,
 * `value` in the market's units × multiplier, a `1m` record at the minute of `update`; `usd` is the same
 * market's row asked with `convert_to_usd=true`, when there is one.
 */
export function coinalyzeCurrentOpenInterest(
  row: { readonly value: number; readonly update: number },
  usd: { readonly value: number } | undefined,
  ctx: { readonly instrument: InstrumentInfo },
): OpenInterest {
  const { instrument } = ctx;
  return {
    source: 'coinalyze',
    exchange: instrument.exchange,
    symbol: instrument.symbol,
    interval: '1m',
    ts: floorToInterval(row.update, '1m'),
    openInterest: row.value * instrument.multiplier,
    openInterestUsd: usd?.value,
  };
}

/**
 * `/funding-rate-history` items to settled `FundingRate`s. Coinalyze samples the last settled rate
 * into buckets, in **percent** (0.004208 means 0.004208 % = 0.00004208; Binance itself reports
 * 0.00003–0.00009 for the same weeks), so values are divided by 100. A bucket that opens on a
 * funding time holds that settlement for its whole length; its close `c` is taken, with `ts` = the
 * funding time. Buckets off the funding grid only repeat the previous settlement and yield nothing.
 * `fundingIntervalMs` is the symbol's funding interval (default 8 h); the bucket size must not
 * exceed it.
 */
export function coinalyzeFunding(
  items: readonly { t: number; c: number }[],
  ctx: CoinalyzeContext & { fundingIntervalMs?: number | undefined },
): FundingRate[] {
  const grid = ctx.fundingIntervalMs ?? DEFAULT_FUNDING_INTERVAL;
  if (!(grid > 0) || ctx.interval === '1M' || intervalMs(ctx.interval) > grid) {
    throw new InvalidArgumentError(
      `Coinalyze funding in ${ctx.interval} buckets cannot be placed on a ${grid / 3_600_000} h funding grid`,
      { meta: { Hint: 'ask for an interval no longer than the funding interval, e.g. 1hour' } },
    );
  }
  const { source, exchange, symbol } = base(ctx);
  return closed(items, ctx)
    .filter((i) => ms(i.t) % grid === 0)
    .map((i) => ({ source, exchange, symbol, ts: ms(i.t), rate: fromPercent(i.c, 'c') }));
}

/**
 * `/predicted-funding-rate-history` items to `PredictedFunding`: the bucket's **open** `o` is the
 * predicted rate observed at `ts`; percent, divided by 100 like settled funding. Coinalyze does not
 * say when it settles, so `nextFundingTime` stays undefined.
 */
export function coinalyzePredictedFunding(
  items: readonly { t: number; o: number }[],
  ctx: CoinalyzeContext,
): PredictedFunding[] {
  const { source, exchange, symbol } = base(ctx);
  return closed(items, ctx).map((i) => ({
    source,
    exchange,
    symbol,
    ts: ms(i.t),
    rate: fromPercent(i.o, 'o'),
  }));
}

/**
 * `/liquidation-history` items asked with `convert_to_usd=true` to liquidated USD: `l` = longs
 * liquidated (here `l` is *long*, not *low*), `s` = shorts.
 */
export function coinalyzeLiquidations(
  items: readonly { t: number; l: number; s: number }[],
  ctx: CoinalyzeContext,
): Liquidation[] {
  const { source, exchange, symbol } = base(ctx);
  return closed(items, ctx).map((i) => ({
    source,
    exchange,
    symbol,
    interval: ctx.interval,
    ts: ms(i.t),
    longUsd: num(i.l, 'l'),
    shortUsd: num(i.s, 's'),
  }));
}

/**
 * `/long-short-ratio-history` items to the all-accounts (`global`) ratio: `r` as the ratio, `l`/`s`
 * (percent) as fractions.
 */
export function coinalyzeLongShortRatio(
  items: readonly { t: number; r: number; l: number; s: number }[],
  ctx: CoinalyzeContext,
): LongShortRatio[] {
  const { source, exchange, symbol } = base(ctx);
  return closed(items, ctx).map((i) => ({
    source,
    exchange,
    symbol,
    interval: ctx.interval,
    kind: 'global' as const,
    ts: ms(i.t),
    ratio: num(i.r, 'r'),
    longShare: fromPercent(i.l, 'l'),
    shortShare: fromPercent(i.s, 's'),
  }));
}

/**
 * USDT perpetuals of `/future-markets` on Binance (`A`), Bybit (`6`) and OKX (`3`), one entry per
 * (exchange, canonical symbol): `instrument` is the Coinalyze symbol (`'SHIB1000USDT.6'`), `exchange`
 * the venue, the multiplier comes from `base_asset` (`'1000SHIB'` → SHIB ×1000). Markets whose
 * values are not in base-asset units (`oi_lq_vol_denominated_in` ≠ `BASE_ASSET`) are left out: their
 * volumes and open interest could not be converted.
 */
export function coinalyzeInstruments(
  markets: readonly {
    symbol: string;
    exchange: string;
    base_asset: string;
    quote_asset: string;
    is_perpetual: boolean;
    oi_lq_vol_denominated_in: string;
  }[],
): InstrumentInfo[] {
  const out: InstrumentInfo[] = [];
  const seen = new Set<string>();
  for (const mkt of markets) {
    const exchange = EXCHANGE_OF_CODE[mkt.exchange];
    if (!exchange || !mkt.is_perpetual || mkt.quote_asset !== 'USDT') continue;
    if (mkt.oi_lq_vol_denominated_in !== 'BASE_ASSET') continue;
    const { symbol, multiplier } = splitMultiplier(mkt.base_asset);
    const key = `${exchange}:${symbol}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ exchange, instrument: mkt.symbol, symbol, quote: mkt.quote_asset, multiplier });
  }
  return out;
}
