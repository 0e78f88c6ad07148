/**
 * A Coinalyze v1 simulator that follows ../shared/reference/exchange-apis.md §4 and the recorded
 * bodies in ../shared/reference/payloads/coinalyze: the key goes in an `api_key` header or query
 * param (401 `{"message":"Invalid/Missing API key"}` without a valid one); 40 calls per minute per
 * key where each symbol of `symbols` costs one call (429 with `Retry-After` in seconds); at most 20
 * symbols per request; times in **seconds** in params and payloads; history ascending, `from` and
 * `to` inclusive, the still-forming bucket included (as in the 2026-07-24 probe); intraday
 * intervals keep only the latest `retentionPoints` buckets, `daily` everything; values are JSON
 * numbers: funding in **percent**, long/short shares in percent, open interest and liquidations in
 * base-asset units of `base_asset` (bundles for `1000PEPE`) unless `convert_to_usd=true`.
 */
import { addInterval, ceilToInterval, floorToInterval, type Interval } from '../core/intervals.js';
import { FixedWindowBudget, json, type VenueHandler } from './http.js';
import type { SyntheticMarket } from './market.js';
import { venueSimulation } from './venue.js';

const MINUTE = 60_000;
const FUNDING_EVERY = 8 * 60 * MINUTE;

const INTERVALS: Record<string, Interval> = {
  '1min': '1m',
  '5min': '5m',
  '15min': '15m',
  '30min': '30m',
  '1hour': '1h',
  '2hour': '2h',
  '4hour': '4h',
  '6hour': '6h',
  '12hour': '12h',
  daily: '1d',
};

/** One row of `/future-markets` plus what the simulator needs to serve it. */
export interface CoinalyzeSimMarket {
  symbol: string;
  exchange: string;
  symbol_on_exchange: string;
  base_asset: string;
  quote_asset: string;
  expire_at: number | null;
  has_buy_sell_data: boolean;
  is_perpetual: boolean;
  margined: string;
  oi_lq_vol_denominated_in: string;
  has_long_short_ratio_data: boolean;
  has_ohlcv_data: boolean;
  /** Canonical asset of the synthetic market this symbol serves (none: listed, never served). */
  asset?: string | undefined;
  /** Base units per `base_asset` unit (1000 for `1000PEPE`). */
  multiplier: number;
}

function perp(
  symbol: string,
  exchange: string,
  onExchange: string,
  baseAsset: string,
  asset: string,
  multiplier: number,
): CoinalyzeSimMarket {
  return {
    symbol,
    exchange,
    symbol_on_exchange: onExchange,
    base_asset: baseAsset,
    quote_asset: 'USDT',
    expire_at: null,
    has_buy_sell_data: true,
    is_perpetual: true,
    margined: 'STABLE',
    oi_lq_vol_denominated_in: 'BASE_ASSET',
    // Recorded OKX rows say false: Coinalyze has long/short data for Binance and Bybit only.
    has_long_short_ratio_data: exchange !== '3',
    has_ohlcv_data: true,
    asset,
    multiplier,
  };
}

/** Markets of the synthetic market as `/future-markets` lists them (never build these by concatenation). */
export const COINALYZE_MARKETS: CoinalyzeSimMarket[] = [
  perp('BTCUSDT_PERP.A', 'A', 'BTCUSDT', 'BTC', 'BTC', 1),
  perp('ETHUSDT_PERP.A', 'A', 'ETHUSDT', 'ETH', 'ETH', 1),
  perp('1000PEPEUSDT_PERP.A', 'A', '1000PEPEUSDT', '1000PEPE', 'PEPE', 1000),
  perp('1000SHIBUSDT_PERP.A', 'A', '1000SHIBUSDT', '1000SHIB', 'SHIB', 1000),
  perp('BTCUSDT.6', '6', 'BTCUSDT', 'BTC', 'BTC', 1),
  perp('ETHUSDT.6', '6', 'ETHUSDT', 'ETH', 'ETH', 1),
  perp('1000PEPEUSDT.6', '6', '1000PEPEUSDT', '1000PEPE', 'PEPE', 1000),
  perp('SHIB1000USDT.6', '6', 'SHIB1000USDT', '1000SHIB', 'SHIB', 1000),
  perp('BTCUSDT_PERP.3', '3', 'BTC-USDT-SWAP', 'BTC', 'BTC', 1),
  perp('ETHUSDT_PERP.3', '3', 'ETH-USDT-SWAP', 'ETH', 'ETH', 1),
  perp('PEPEUSDT_PERP.3', '3', 'PEPE-USDT-SWAP', 'PEPE', 'PEPE', 1),
  perp('SHIBUSDT_PERP.3', '3', 'SHIB-USDT-SWAP', 'SHIB', 'SHIB', 1),
  {
    ...perp('BTCUSD_PERP.A', 'A', 'BTCUSD_PERP', 'BTC', 'BTC', 1),
    quote_asset: 'USD',
    margined: 'COIN',
    oi_lq_vol_denominated_in: 'QUOTE_ASSET',
    asset: undefined,
  },
  { ...perp('BTCPERP.6', '6', 'BTCPERP', 'BTC', 'BTC', 1), quote_asset: 'USDC', asset: undefined },
  {
    ...perp('BTC-28AUG26.2', '2', 'BTC-28AUG26', 'BTC', 'BTC', 1),
    quote_asset: 'USD',
    expire_at: 1787904000000,
    is_perpetual: false,
    margined: 'COIN',
    oi_lq_vol_denominated_in: 'QUOTE_ASSET',
    has_long_short_ratio_data: false,
    asset: undefined,
  },
];

const EXCHANGES = [
  { name: 'Binance', code: 'A' },
  { name: 'Bybit', code: '6' },
  { name: 'OKX', code: '3' },
  { name: 'Deribit', code: '2' },
  { name: 'Huobi', code: '4' },
];

/** Options of the Coinalyze simulator. */
export interface CoinalyzeSimOptions {
  /** Clock of the rate budget (clients run theirs on the real clock). @default `now` */
  budgetNow?: () => number;
  /** The simulator's clock. @default Date.now */
  now?: () => number;
  /** Keys the simulator accepts. @default ['test-key'] */
  apiKeys?: string[];
  /** Calls per window and key (one per symbol). @default 40 */
  callLimit?: number;
  /** Window length. @default 60000 */
  windowMs?: number;
  /** Buckets kept for intraday intervals (the venue keeps 1,500–2,000). @default 1500 */
  retentionPoints?: number;
  /** Whether history includes the still-forming bucket. @default true */
  includeForming?: boolean;
  /** Hook to count or fail requests before they are served (return a Response to answer with it). */
  intercept?: (url: URL, clientId: string) => Response | undefined;
}

/** What the Coinalyze simulator counted. */
export interface CoinalyzeSimStats {
  requests: number;
  status401: number;
  status429: number;
  /** Calls (symbols) charged per key. */
  callsByKey: Map<string, number>;
}

/** Rounds away float noise (`0.0001234 * 100`) to 12 significant decimals. */
function clean(x: number): number {
  return Number(x.toPrecision(12));
}

/** Creates the simulator; `handler` serves requests, `stats` counts what it saw. */
// Long by design: a simulated venue is one closure; its helpers and `handler` share the market, the budget and the fault state.
export function createCoinalyzeSimulator(market: SyntheticMarket, options: CoinalyzeSimOptions = {}) {
  const now = options.now ?? Date.now;
  const keys = new Set(options.apiKeys ?? ['test-key']);
  const budget = new FixedWindowBudget(options.callLimit ?? 40, options.windowMs ?? MINUTE);
  const retention = options.retentionPoints ?? 1500;
  const bySymbol = new Map(COINALYZE_MARKETS.map((m) => [m.symbol, m]));
  const stats: CoinalyzeSimStats = { requests: 0, status401: 0, status429: 0, callsByKey: new Map() };
  const bad = (message: string) => json({ message }, { status: 400 });

  /** Settled funding in force at `x` (percent): the last settlement at or before it. */
  const settledAt = (asset: string, x: number) =>
    clean(market.fundingRate(asset, floorToInterval(x, '8h')) * 100);
  /** Predicted funding at `x` (percent): the rate of the next settlement after it. */
  const predictedAt = (asset: string, x: number) =>
    clean(market.fundingRate(asset, floorToInterval(x, '8h') + FUNDING_EVERY) * 100);

  /** OHLC of a piecewise series sampled at the bucket's start, its end and every funding time inside. */
  const ohlc = (t: number, end: number, at: (x: number) => number) => {
    const samples = [at(t)];
    for (let x = ceilToInterval(t + 1, '8h'); x < end; x += FUNDING_EVERY) samples.push(at(x));
    samples.push(at(end - 1));
    return { o: samples[0]!, h: Math.max(...samples), l: Math.min(...samples), c: samples.at(-1)! };
  };

  const item = (
    path: string,
    mkt: CoinalyzeSimMarket,
    asset: string,
    ts: number,
    end: number,
    forming: boolean,
    usd: boolean,
  ) => {
    const t = ts / 1000;
    const m = mkt.multiplier;
    const part = forming ? 0.5 : 1;
    switch (path) {
      case '/ohlcv-history': {
        const c = market.candle(asset, ts, end - ts);
        return {
          t,
          o: c.open * m,
          h: c.high * m,
          l: c.low * m,
          c: c.close * m,
          v: (c.volume * part) / m,
          bv: (c.takerBuyVolume * part) / m,
          tx: Math.round(c.trades * part),
          btx: Math.floor((c.trades * part) / 2),
        };
      }
      case '/open-interest-history': {
        const at = (x: number) => market.openInterest(asset, x) * (usd ? market.markPrice(asset, x) : 1 / m);
        const o = at(ts);
        const c = at(forming ? floorToInterval(now(), '1m') : end);
        return { t, o, h: Math.max(o, c) * 1.001, l: Math.min(o, c) * 0.999, c };
      }
      case '/funding-rate-history':
        return { t, ...ohlc(ts, end, (x) => settledAt(asset, x)) };
      case '/predicted-funding-rate-history':
        return { t, ...ohlc(ts, end, (x) => predictedAt(asset, x)) };
      case '/liquidation-history': {
        const liq = market.liquidations(asset, ts);
        const price = market.markPrice(asset, ts);
        const unit = (usdValue: number) => (usd ? usdValue : usdValue / price / m) * part;
        return { t, l: unit(liq.longUsd), s: unit(liq.shortUsd) };
      }
      default: {
        const long = market.longShare(asset, ts, 'global');
        return {
          t,
          r: Math.round((long / (1 - long)) * 10_000) / 10_000,
          l: clean(long * 100),
          s: clean((1 - long) * 100),
        };
      }
    }
  };

  // Long by design: one branch per endpoint of the venue, each a few lines, in the order of the reference.
  const handler: VenueHandler = (request, clientId) => {
    const url = new URL(request.url);
    const t = now();
    const path = url.pathname.replace(/^\/v1(?=\/)/, '');
    stats.requests++;
    const intercepted = options.intercept?.(url, clientId);
    if (intercepted) return intercepted;

    const key = request.headers.get('api_key') ?? url.searchParams.get('api_key') ?? '';
    if (!keys.has(key)) {
      stats.status401++;
      return json({ message: 'Invalid/Missing API key' }, { status: 401 });
    }
    const symbols = (url.searchParams.get('symbols') ?? '').split(',').filter((s) => s !== '');
    const cost = Math.max(1, symbols.length);
    const bt = (options.budgetNow ?? now)();
    if (budget.spend(key, cost, bt) === undefined) {
      stats.status429++;
      const retryAfter = Math.max(1, Math.ceil((budget.windowOf(bt) + budget.windowMs - bt) / 1000));
      return json(
        { message: 'Too many requests' },
        { status: 429, headers: { 'Retry-After': String(retryAfter) } },
      );
    }
    stats.callsByKey.set(key, (stats.callsByKey.get(key) ?? 0) + cost);

    switch (path) {
      case '/exchanges':
        return json(EXCHANGES);
      case '/future-markets':
        return json(COINALYZE_MARKETS.map(({ asset: _a, multiplier: _m, ...row }) => row));
      case '/open-interest': {
        // Current values: `{ symbol, value, update }` with `update` in ms, base units unless `convert_to_usd`.
        if (symbols.length === 0) return bad('symbols is required');
        if (symbols.length > 20) return bad('maximum 20 symbols are allowed');
        const usd = url.searchParams.get('convert_to_usd') === 'true';
        const minute = floorToInterval(t, '1m');
        const body = [];
        for (const symbol of symbols) {
          const mkt = bySymbol.get(symbol);
          const asset = mkt?.asset;
          if (!mkt || !asset || !market.asset(asset) || !market.has(asset, minute)) continue;
          const oi = market.openInterest(asset, minute);
          body.push({
            symbol,
            value: usd ? oi * market.markPrice(asset, minute) : oi / mkt.multiplier,
            update: t,
          });
        }
        return json(body);
      }
      case '/ohlcv-history':
      case '/open-interest-history':
      case '/funding-rate-history':
      case '/predicted-funding-rate-history':
      case '/liquidation-history':
      case '/long-short-ratio-history': {
        if (symbols.length === 0) return bad('symbols is required');
        if (symbols.length > 20) return bad('maximum 20 symbols are allowed');
        const interval = INTERVALS[url.searchParams.get('interval') ?? ''];
        if (!interval) return bad('interval is invalid');
        const from = url.searchParams.get('from') ?? '';
        const to = url.searchParams.get('to') ?? '';
        if (!/^\d+$/.test(from) || !/^\d+$/.test(to)) return bad('from and to are required (UNIX seconds)');
        const usd = url.searchParams.get('convert_to_usd') === 'true';
        const forming = floorToInterval(t, interval);
        const last = options.includeForming === false ? addInterval(forming, interval, -1) : forming;
        const kept =
          interval === '1d' ? Number.NEGATIVE_INFINITY : addInterval(forming, interval, -(retention - 1));
        const body = [];
        for (const symbol of symbols) {
          const mkt = bySymbol.get(symbol);
          const asset = mkt?.asset;
          if (!mkt || !asset || !market.asset(asset)) continue;
          if (path === '/long-short-ratio-history' && !mkt.has_long_short_ratio_data) continue;
          // `from` and `to` are inclusive on bucket starts.
          const lo = Math.max(
            ceilToInterval(Number(from) * 1000, interval),
            ceilToInterval(market.asset(asset)!.listedAt, interval),
            kept,
          );
          const hi = Math.min(floorToInterval(Number(to) * 1000, interval), last);
          const history = [];
          for (let ts = lo; ts <= hi; ts = addInterval(ts, interval, 1)) {
            if (!market.has(asset, ts)) continue;
            history.push(item(path, mkt, asset, ts, addInterval(ts, interval, 1), ts === forming, usd));
          }
          if (history.length > 0) body.push({ symbol, history });
        }
        return json(body);
      }
      default:
        return json({ message: 'not found' }, { status: 404 });
    }
  };

  return { handler, stats, budget };
}

/** Coinalyze's part of `simulateVenues` (`src/testing/venue.ts`): it accepts the simulation's API key. */
export const coinalyzeSimulation = venueSimulation({
  venue: 'coinalyze',
  create: (
    market: SyntheticMarket,
    options: Omit<CoinalyzeSimOptions, 'now' | 'budgetNow' | 'intercept' | 'apiKeys'>,
    { now, budgetNow, apiKey }: { now: () => number; budgetNow: () => number; apiKey: string },
  ) => createCoinalyzeSimulator(market, { ...options, now, budgetNow, apiKeys: [apiKey] }),
  unlimited: { callLimit: 1e9 },
  serverError: (status: number) => json({ message: 'Internal server error' }, { status }),
});
