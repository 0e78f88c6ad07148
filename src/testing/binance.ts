/**
 * A Binance USDⓈ-M simulator that follows ../shared/reference/exchange-apis.md §1: limit caps and
 * defaults, inclusive bounds on open time, ascending rows, the forming last candle, weight per `limit`
 * and `X-MBX-USED-WEIGHT-1M`, 429 with `Retry-After` then 418 "banned until", error bodies with
 * negative codes, 30-day windows on `/futures/data/*`, funding times a few ms after the boundary.
 */
import type { WsClock } from '../clients/ws/clock.js';
import { FixedWindowBudget, intParam, json, type VenueHandler } from './http.js';
import type { SyntheticMarket } from './market.js';
import { listed, venueSimulation, withClocks } from './venue.js';
import { BinanceWsServer } from './ws/binance.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const KLINE_INTERVALS: Record<string, number> = {
  '1m': MINUTE,
  '3m': 3 * MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  '1h': 60 * MINUTE,
  '2h': 120 * MINUTE,
  '4h': 240 * MINUTE,
  '6h': 360 * MINUTE,
  '8h': 480 * MINUTE,
  '12h': 720 * MINUTE,
  '1d': DAY,
  '3d': 3 * DAY,
  '1w': 7 * DAY,
};
const STATS_PERIODS: Record<string, number> = {
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  '1h': 60 * MINUTE,
  '2h': 120 * MINUTE,
  '4h': 240 * MINUTE,
  '6h': 360 * MINUTE,
  '12h': 720 * MINUTE,
  '1d': DAY,
};
const FUNDING_EVERY = 8 * 60 * MINUTE;

/** Start of month number `i` (year * 12 + month), UTC. */
const monthStart = (i: number): number => Date.UTC(Math.floor(i / 12), i % 12, 1);

/** Instruments of the synthetic market as Binance lists them. */
export const BINANCE_INSTRUMENTS: Record<string, { symbol: string; baseAsset: string; multiplier: number }> =
  {
    BTCUSDT: { symbol: 'BTC', baseAsset: 'BTC', multiplier: 1 },
    ETHUSDT: { symbol: 'ETH', baseAsset: 'ETH', multiplier: 1 },
    '1000PEPEUSDT': { symbol: 'PEPE', baseAsset: '1000PEPE', multiplier: 1000 },
    '1000SHIBUSDT': { symbol: 'SHIB', baseAsset: '1000SHIB', multiplier: 1000 },
  };

/**
 * The instruments a Binance simulator over `market` knows: `BINANCE_INSTRUMENTS`, plus `<SYM>USDT`
 * (multiplier 1) for every asset of the market that the table does not name, so that a test can list
 * any number of synthetic assets.
 * @example
 * import { binanceInstruments, SyntheticMarket } from 'perpdata/testing';
 *
 * binanceInstruments(new SyntheticMarket({ assets: [{ symbol: 'SOL', basePrice: 150, listedAt: 0 }] })).SOLUSDT;
 */
export function binanceInstruments(
  market: SyntheticMarket,
): Record<string, { symbol: string; baseAsset: string; multiplier: number }> {
  const table = { ...BINANCE_INSTRUMENTS };
  const named = new Set(Object.values(BINANCE_INSTRUMENTS).map((i) => i.symbol));
  for (const { symbol } of market.assets)
    if (!named.has(symbol)) table[`${symbol}USDT`] = { symbol, baseAsset: symbol, multiplier: 1 };
  return table;
}

/** Options of the Binance simulator. */
export interface BinanceSimOptions {
  /** The simulator's clock. @default Date.now */
  now?: () => number;
  /** Clock of the rate budgets and bans (clients run theirs on the real clock). @default `now` */
  budgetNow?: () => number;
  /** Request weight per window and client. @default 2400 */
  weightLimit?: number;
  /** Window length. @default 60000 (the UTC minute) */
  windowMs?: number;
  /** 429s a client may collect in one window before it is banned with 418. @default 5 */
  bansAfter429s?: number;
  /** Ban length after repeated 429s. @default 120000 */
  banMs?: number;
  /** Hook to count or fail requests before they are served (return a Response to answer with it). */
  intercept?: (url: URL, clientId: string) => Response | undefined;
}

function klineWeight(limit: number): number {
  if (limit < 100) return 1;
  if (limit < 500) return 2;
  if (limit <= 1000) return 5;
  return 10;
}

function fmt(n: number): string {
  return String(n);
}

const err = (status: number, code: number, msg: string): Response => json({ code, msg }, { status });

/** What the Binance simulator counted. */
export interface BinanceSimStats {
  requests: number;
  weight: number;
  status429: number;
  status418: number;
  byClient: Map<string, number>;
  /** Weight served per client and window start, to measure how much of the budget a client uses. */
  windows: Map<string, Map<number, number>>;
}

/** Creates the simulator; `handler` serves requests, `stats` counts what it saw. */
// Long by design: a simulated venue is one closure; its helpers and `handler` share the market, the budget and the fault state.
export function createBinanceSimulator(market: SyntheticMarket, options: BinanceSimOptions = {}) {
  const now = options.now ?? Date.now;
  const budgetNow = options.budgetNow ?? now;
  const instruments = binanceInstruments(market);
  const budget = new FixedWindowBudget(options.weightLimit ?? 2400, options.windowMs ?? MINUTE);
  const bansAfter = options.bansAfter429s ?? 5;
  const banMs = options.banMs ?? 120_000;
  const strikes = new Map<string, { window: number; count: number }>();
  const bannedUntil = new Map<string, number>();
  const stats: BinanceSimStats = {
    requests: 0,
    weight: 0,
    status429: 0,
    status418: 0,
    byClient: new Map(),
    windows: new Map(),
  };

  const instrumentOf = (url: URL): { symbol: string; multiplier: number } | Response => {
    const raw = url.searchParams.get('symbol');
    if (!raw)
      return err(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    const inst = instruments[raw];
    if (!inst || !market.asset(inst.symbol)) return err(400, -1121, 'Invalid symbol.');
    return inst;
  };

  /** Rows of a grid series in `[start, end]` (inclusive), limited, honouring the bound rules of klines. */
  const selectGrid = (
    step: number,
    first: number,
    last: number,
    startTime: number | undefined,
    endTime: number | undefined,
    limit: number,
  ): number[] => {
    const out: number[] = [];
    if (startTime !== undefined) {
      let ts = Math.max(first, Math.ceil(startTime / step) * step);
      const end = Math.min(last, endTime ?? last);
      for (; ts <= end && out.length < limit; ts += step) out.push(ts);
      return out;
    }
    const end = Math.min(last, endTime === undefined ? last : Math.floor(endTime / step) * step);
    for (let ts = end; ts >= first && out.length < limit; ts -= step) out.push(ts);
    return out.reverse();
  };

  // Long by design: one branch per endpoint of the venue, each a few lines, in the order of the reference.
  const handler: VenueHandler = (request, clientId) => {
    const url = new URL(request.url);
    const t = now();
    const bt = budgetNow();
    stats.requests++;
    stats.byClient.set(clientId, (stats.byClient.get(clientId) ?? 0) + 1);
    const intercepted = options.intercept?.(url, clientId);
    if (intercepted) return intercepted;

    const ban = bannedUntil.get(clientId);
    if (ban !== undefined && bt < ban) {
      stats.status418++;
      return json(
        {
          code: -1003,
          msg: `Way too many requests; IP(${clientId}) banned until ${ban}. Please use the websocket for live updates to avoid bans.`,
        },
        { status: 418, headers: { 'Retry-After': String(Math.ceil((ban - bt) / 1000)) } },
      );
    }

    const path = url.pathname;
    let weight = 1;
    if (path === '/fapi/v1/klines') weight = klineWeight(intParam(url, 'limit') ?? 500);
    else if (path === '/fapi/v1/premiumIndex') weight = url.searchParams.has('symbol') ? 1 : 10;
    else if (
      path === '/fapi/v1/fundingRate' ||
      path === '/fapi/v1/fundingInfo' ||
      path.startsWith('/futures/data/')
    )
      weight = 0;

    const used = budget.spend(clientId, weight, bt);
    if (used === undefined) {
      stats.status429++;
      const window = budget.windowOf(bt);
      const s = strikes.get(clientId);
      const count = s && s.window === window ? s.count + 1 : 1;
      strikes.set(clientId, { window, count });
      if (count > bansAfter) {
        const until = bt + banMs;
        bannedUntil.set(clientId, until);
        stats.status418++;
        return json(
          {
            code: -1003,
            msg: `Way too many requests; IP(${clientId}) banned until ${until}. Please use the websocket for live updates to avoid bans.`,
          },
          { status: 418 },
        );
      }
      const retryAfter = Math.max(1, Math.ceil((window + budget.windowMs - bt) / 1000));
      return json(
        { code: -1003, msg: 'Too many requests; current limit of IP is exceeded.' },
        {
          status: 429,
          headers: {
            'Retry-After': String(retryAfter),
            'X-MBX-USED-WEIGHT-1M': String(budget.used(clientId, bt)),
          },
        },
      );
    }
    stats.weight += weight;
    const perClient = stats.windows.get(clientId) ?? new Map<number, number>();
    stats.windows.set(clientId, perClient);
    perClient.set(budget.windowOf(bt), (perClient.get(budget.windowOf(bt)) ?? 0) + weight);
    const headers = { 'X-MBX-USED-WEIGHT-1M': String(used) };
    const ok = (body: unknown) => json(body, { headers });

    switch (path) {
      case '/fapi/v1/time':
        return ok({ serverTime: t });
      case '/fapi/v1/exchangeInfo':
        return ok({
          timezone: 'UTC',
          serverTime: t,
          rateLimits: [
            budget.windowMs % MINUTE === 0
              ? {
                  rateLimitType: 'REQUEST_WEIGHT',
                  interval: 'MINUTE',
                  intervalNum: budget.windowMs / MINUTE,
                  limit: budget.limit,
                }
              : {
                  rateLimitType: 'REQUEST_WEIGHT',
                  interval: 'SECOND',
                  intervalNum: budget.windowMs / 1000,
                  limit: budget.limit,
                },
            { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
          ],
          symbols: Object.entries(instruments)
            .filter(([, i]) => market.asset(i.symbol))
            .map(([symbol, i]) => ({
              symbol,
              pair: symbol,
              contractType: 'PERPETUAL',
              deliveryDate: 4133404800000,
              onboardDate: market.asset(i.symbol)!.listedAt,
              status: 'TRADING',
              baseAsset: i.baseAsset,
              quoteAsset: 'USDT',
              marginAsset: 'USDT',
              filters: [{ tickSize: '0.10', filterType: 'PRICE_FILTER' }],
            }))
            .concat([
              {
                symbol: 'BTCUSDC',
                pair: 'BTCUSDC',
                contractType: 'PERPETUAL',
                deliveryDate: 4133404800000,
                onboardDate: Date.UTC(2024, 0, 1),
                status: 'TRADING',
                baseAsset: 'BTC',
                quoteAsset: 'USDC',
                marginAsset: 'USDC',
                filters: [],
              },
            ]),
        });
      case '/fapi/v1/klines': {
        const inst = instrumentOf(url);
        if (inst instanceof Response) return inst;
        const interval = url.searchParams.get('interval') ?? '';
        const monthly = interval === '1M';
        const step = monthly ? 1 : KLINE_INTERVALS[interval];
        if (!step) return err(400, -1120, 'Invalid interval.');
        const limit = intParam(url, 'limit') ?? 500;
        if (!Number.isInteger(limit) || limit < 1 || limit > 1500)
          return err(400, -1130, "Data sent for parameter 'limit' is not valid.");
        // Calendar months walk a grid of month numbers (year * 12 + month); other intervals one of ms.
        const toGrid = (ts: number, up: boolean) => {
          if (!monthly) return ts;
          const d = new Date(ts);
          const i = d.getUTCFullYear() * 12 + d.getUTCMonth();
          return up && monthStart(i) < ts ? i + 1 : i;
        };
        const fromGrid = (i: number) => (monthly ? monthStart(i) : i);
        const lengthAt = (ts: number) => (monthly ? fromGrid(toGrid(ts, false) + 1) - ts : step);
        const startParam = intParam(url, 'startTime');
        const endParam = intParam(url, 'endTime');
        const startTime = startParam === undefined ? undefined : toGrid(startParam, true);
        const endTime = endParam === undefined ? undefined : toGrid(endParam, false);
        const asset = market.asset(inst.symbol)!;
        const first = Math.ceil(toGrid(asset.listedAt, true) / step) * step;
        const last = fromGrid(Math.floor(toGrid(t, false) / step) * step); // the forming candle
        const m = inst.multiplier;
        const rows = selectGrid(step, first, toGrid(last, false), startTime, endTime, limit)
          .map(fromGrid)
          .filter((ts) => market.has(inst.symbol, ts))
          .map((ts) => {
            const c = market.candle(inst.symbol, ts, lengthAt(ts));
            const forming = ts === last;
            const part = forming ? 0.5 : 1;
            return [
              ts,
              fmt(c.open * m),
              fmt(c.high * m),
              fmt(c.low * m),
              fmt(c.close * m),
              fmt((c.volume * part) / m),
              ts + lengthAt(ts) - 1,
              fmt(c.quoteVolume * part),
              c.trades,
              fmt((c.takerBuyVolume * part) / m),
              fmt(c.takerBuyVolume * part * c.close),
              '0',
            ];
          });
        return ok(rows);
      }
      case '/fapi/v1/fundingRate': {
        const inst = instrumentOf(url);
        if (inst instanceof Response) return inst;
        const limit = intParam(url, 'limit') ?? 100;
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
          return err(400, -1130, "Data sent for parameter 'limit' is not valid.");
        const asset = market.asset(inst.symbol)!;
        const first = Math.ceil(asset.listedAt / FUNDING_EVERY) * FUNDING_EVERY;
        const last = Math.floor(t / FUNDING_EVERY) * FUNDING_EVERY;
        const startTime = intParam(url, 'startTime');
        const endTime = intParam(url, 'endTime');
        // fundingTime sits a few ms after the boundary; bounds apply to that recorded time.
        const late = (ts: number) => ts + ((ts / FUNDING_EVERY) % 7);
        const grid = selectGrid(
          FUNDING_EVERY,
          first,
          last,
          startTime === undefined ? undefined : Math.max(0, startTime - 6),
          endTime,
          limit + 1,
        )
          .filter(
            (ts) =>
              (startTime === undefined || late(ts) >= startTime) &&
              (endTime === undefined || late(ts) <= endTime),
          )
          .slice(0, limit);
        return ok(
          grid
            .filter((ts) => market.has(inst.symbol, ts))
            .map((ts) => ({
              symbol: url.searchParams.get('symbol'),
              fundingTime: late(ts),
              fundingRate: market.fundingRate(inst.symbol, ts).toFixed(8),
              markPrice: (market.markPrice(inst.symbol, ts) * inst.multiplier).toFixed(8),
              rateType: 'Regular',
            })),
        );
      }
      case '/fapi/v1/fundingInfo':
        // Only instruments whose cap, floor or interval were adjusted are listed (`?symbol=` is ignored).
        return ok(
          Object.entries(instruments)
            .filter(([name, i]) => name.startsWith('1000') && market.asset(i.symbol))
            .map(([symbol]) => ({
              symbol,
              adjustedFundingRateCap: '0.02000000',
              adjustedFundingRateFloor: '-0.02000000',
              fundingIntervalHours: FUNDING_EVERY / (60 * MINUTE),
              disclaimer: false,
              updateTime: Date.UTC(2024, 0, 1),
            })),
        );
      case '/fapi/v1/premiumIndex': {
        const inst = instrumentOf(url);
        if (inst instanceof Response) return inst;
        const next = Math.ceil((t + 1) / FUNDING_EVERY) * FUNDING_EVERY;
        return ok({
          symbol: url.searchParams.get('symbol'),
          markPrice: fmt(market.markPrice(inst.symbol, Math.floor(t / MINUTE) * MINUTE) * inst.multiplier),
          indexPrice: fmt(market.markPrice(inst.symbol, Math.floor(t / MINUTE) * MINUTE) * inst.multiplier),
          estimatedSettlePrice: '0',
          lastFundingRate: market.fundingRate(inst.symbol, next).toFixed(8),
          interestRate: '0.00010000',
          nextFundingTime: next,
          time: t,
        });
      }
      case '/futures/data/openInterestHist':
      case '/futures/data/globalLongShortAccountRatio':
      case '/futures/data/topLongShortAccountRatio':
      case '/futures/data/topLongShortPositionRatio':
      case '/futures/data/takerlongshortRatio': {
        const inst = instrumentOf(url);
        if (inst instanceof Response) return inst;
        const period = url.searchParams.get('period') ?? '';
        const step = STATS_PERIODS[period];
        if (!step) return err(400, -1120, 'Invalid period.');
        const limit = intParam(url, 'limit') ?? 30;
        if (!Number.isInteger(limit) || limit < 1 || limit > 500)
          return err(400, -1130, "Data sent for parameter 'limit' is not valid.");
        const asset = market.asset(inst.symbol)!;
        // Only the latest 30 days are kept; the newest row is the last closed period.
        const first = Math.max(
          Math.ceil(asset.listedAt / step) * step,
          Math.ceil((t - 30 * DAY) / step) * step,
        );
        const last = Math.floor(t / step) * step - step;
        const rows = selectGrid(
          step,
          first,
          last,
          intParam(url, 'startTime'),
          intParam(url, 'endTime'),
          limit,
        ).filter((ts) => market.has(inst.symbol, ts));
        const symbol = url.searchParams.get('symbol');
        const m = inst.multiplier;
        if (path === '/futures/data/openInterestHist') {
          return ok(
            rows.map((ts) => {
              const oi = market.openInterest(inst.symbol, ts);
              return {
                symbol,
                sumOpenInterest: (oi / m).toFixed(8),
                sumOpenInterestValue: (oi * market.markPrice(inst.symbol, ts)).toFixed(8),
                CMCCirculatingSupply: '20070287.00000000',
                timestamp: ts,
              };
            }),
          );
        }
        if (path === '/futures/data/takerlongshortRatio') {
          return ok(
            rows.map((ts) => {
              const v = market.takerVolume(inst.symbol, ts, step);
              return {
                buySellRatio: (v.sell === 0 ? 0 : v.buy / v.sell).toFixed(4),
                sellVol: fmt(v.sell / m),
                buyVol: fmt(v.buy / m),
                timestamp: ts,
              };
            }),
          );
        }
        const kind = path.includes('global')
          ? 'global'
          : path.includes('Position')
            ? 'topPosition'
            : 'topAccount';
        return ok(
          rows.map((ts) => {
            const long = market.longShare(inst.symbol, ts, kind);
            const short = Math.round((1 - long) * 10_000) / 10_000;
            return {
              symbol,
              longAccount: fmt(long),
              longShortRatio: (long / short).toFixed(4),
              shortAccount: fmt(short),
              timestamp: ts,
            };
          }),
        );
      }
      default:
        return json({ code: -5000, msg: `Path ${path}, Method GET is invalid` }, { status: 404 });
    }
  };

  return { handler, stats, budget };
}

/** Binance's part of `simulateVenues` (`src/testing/venue.ts`). */
export const binanceSimulation = venueSimulation({
  venue: 'binance',
  create: withClocks(createBinanceSimulator),
  unlimited: { weightLimit: 1e12 },
  serverError: (status: number) =>
    json(
      { code: -1001, msg: 'Internal error; unable to process your request. Please try again.' },
      { status },
    ),
  banned: (clientId: string, until: number, now: number) =>
    json(
      {
        code: -1003,
        msg: `Way too many requests; IP(${clientId}) banned until ${until}. Please use the websocket for live updates to avoid bans.`,
      },
      { status: 418, headers: { 'Retry-After': String(Math.ceil((until - now) / 1000)) } },
    ),
  instruments: BINANCE_INSTRUMENTS,
  server: (clock: WsClock, market: SyntheticMarket) =>
    new BinanceWsServer({ clock, market, instruments: listed(market, binanceInstruments(market)) }),
});
