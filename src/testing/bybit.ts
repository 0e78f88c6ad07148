/**
 * A Bybit v5 (category `linear`) simulator that follows ../shared/reference/exchange-apis.md §2 and
 * the recorded bodies in ../shared/reference/payloads/bybit: every answer is an envelope
 * `{retCode, retMsg, result, retExtInfo, time}` with HTTP 200, errors included (`retCode` 10001,
 * `result: {}`); lists are newest first; klines include the forming candle as the first row, bounds
 * are inclusive and an unaligned `start` returns the candle containing it; funding history refuses
 * `startTime` alone; open interest and the account ratio page with `nextPageCursor` (and
 * `openInterest` counts both sides, without `singleOpenInterest`, as live bodies do); the
 * instrument list is longer than its default page of 500; 600 requests per 5 s per client, and a
 * breach answers HTTP 403 for the next 10 minutes.
 */

import type { WsClock } from '../clients/ws/clock.js';
import { addInterval, ceilToInterval, floorToInterval, type Interval } from '../core/intervals.js';
import { FixedWindowBudget, intParam, json, type VenueHandler } from './http.js';
import type { SyntheticMarket } from './market.js';
import { listed, venueSimulation, withClocks } from './venue.js';
import { BybitWsServer } from './ws/bybit.js';

const HOUR = 3_600_000;
const FUNDING_EVERY = 8 * HOUR;

/** Kline `interval` spellings of the venue. */
const KLINE_INTERVALS: Record<string, Interval> = {
  '1': '1m',
  '3': '3m',
  '5': '5m',
  '15': '15m',
  '30': '30m',
  '60': '1h',
  '120': '2h',
  '240': '4h',
  '360': '6h',
  '720': '12h',
  D: '1d',
  W: '1w',
  M: '1M',
};
/** `intervalTime` (open interest) and `period` (account ratio) spellings. */
const STATS_INTERVALS: Record<string, Interval> = {
  '5min': '5m',
  '15min': '15m',
  '30min': '30m',
  '1h': '1h',
  '4h': '4h',
  '1d': '1d',
};

/** Instruments of the synthetic market as Bybit lists them: a prefix and a suffix multiplier contract. */
export const BYBIT_INSTRUMENTS: Record<string, { symbol: string; baseCoin: string; multiplier: number }> = {
  BTCUSDT: { symbol: 'BTC', baseCoin: 'BTC', multiplier: 1 },
  ETHUSDT: { symbol: 'ETH', baseCoin: 'ETH', multiplier: 1 },
  '1000PEPEUSDT': { symbol: 'PEPE', baseCoin: '1000PEPE', multiplier: 1000 },
  SHIB1000USDT: { symbol: 'SHIB', baseCoin: 'SHIB1000', multiplier: 1000 },
};

/**
 * The instruments a Bybit simulator over `market` knows: `BYBIT_INSTRUMENTS`, plus `<SYM>USDT`
 * (multiplier 1) for every asset of the market that the table does not name.
 * @example
 * import { bybitInstruments, SyntheticMarket } from 'perpdata/testing';
 *
 * bybitInstruments(new SyntheticMarket({ assets: [{ symbol: 'SOL', basePrice: 150, listedAt: 0 }] })).SOLUSDT;
 */
export function bybitInstruments(
  market: SyntheticMarket,
): Record<string, { symbol: string; baseCoin: string; multiplier: number }> {
  const table = { ...BYBIT_INSTRUMENTS };
  const named = new Set(Object.values(BYBIT_INSTRUMENTS).map((i) => i.symbol));
  for (const { symbol } of market.assets)
    if (!named.has(symbol)) table[`${symbol}USDT`] = { symbol, baseCoin: symbol, multiplier: 1 };
  return table;
}

/** Options of the Bybit simulator. */
export interface BybitSimOptions {
  /** Clock of the rate budget and bans (clients run theirs on the real clock). @default `now` */
  budgetNow?: () => number;
  /** The simulator's clock. @default Date.now */
  now?: () => number;
  /** Requests per window and client. @default 600 */
  requestLimit?: number;
  /** Window length. @default 5000 */
  windowMs?: number;
  /** How long a client that broke the limit is answered with 403. @default 600000 (10 minutes) */
  banMs?: number;
  /** Add `singleOpenInterest` to open-interest rows (live bodies of 2025-02 and 2026-08 lack it). @default false */
  singleOpenInterest?: boolean;
  /** Extra listed perpetuals, so that the instrument list is longer than its default page. @default 520 */
  fillerInstruments?: number;
  /** Hook to count or fail requests before they are served (return a Response to answer with it). */
  intercept?: (url: URL, clientId: string) => Response | undefined;
}

/** What the Bybit simulator counted. */
export interface BybitSimStats {
  requests: number;
  status403: number;
  byClient: Map<string, number>;
  byPath: Map<string, number>;
}

/** A number as a plain decimal string, never in exponent form (`1e-7` → `'0.0000001'`), exact round trip. */
function plain(n: number): string {
  const s = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([-+]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign = '', int = '', frac = '', exp = '0'] = m;
  const digits = int + frac;
  const point = int.length + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

function letters(i: number): string {
  const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return `${a[Math.floor(i / 676) % 26]}${a[Math.floor(i / 26) % 26]}${a[i % 26]}`;
}

interface ListedInstrument {
  symbol: string;
  contractType: string;
  status: string;
  baseCoin: string;
  quoteCoin: string;
  settleCoin: string;
  launchTime: string;
  deliveryTime: string;
  fundingInterval: number;
}

function instrumentList(market: SyntheticMarket, fillers: number): ListedInstrument[] {
  const row = (
    symbol: string,
    baseCoin: string,
    quoteCoin: string,
    launch: number,
    extra: Partial<ListedInstrument> = {},
  ) => ({
    symbol,
    contractType: 'LinearPerpetual',
    status: 'Trading',
    baseCoin,
    quoteCoin,
    settleCoin: quoteCoin,
    launchTime: String(launch),
    deliveryTime: '0',
    fundingInterval: 480,
    ...extra,
  });
  const instruments = bybitInstruments(market);
  const filler = Array.from({ length: fillers }, (_, i) => {
    const coin = `Z${letters(i)}`;
    return row(`${coin}USDT`, coin, 'USDT', Date.UTC(2023, 0, 1));
  }).filter((f) => !instruments[f.symbol]);
  const listed = (name: string) => {
    const inst = instruments[name]!;
    const asset = market.asset(inst.symbol);
    return asset ? [row(name, inst.baseCoin, 'USDT', asset.listedAt)] : [];
  };
  // Assets of the market beyond the static table, after the static ones.
  const extra = Object.keys(instruments)
    .filter((name) => !BYBIT_INSTRUMENTS[name])
    .flatMap(listed);
  const half = Math.floor(fillers / 2);
  return [
    ...filler.slice(0, half),
    ...listed('BTCUSDT'),
    ...listed('ETHUSDT'),
    ...filler.slice(half),
    ...listed('1000PEPEUSDT'),
    ...listed('SHIB1000USDT'),
    ...extra,
    // A coin whose digits are its own (not a multiplier), unless the market lists an asset of that name.
    ...(instruments['1INCHUSDT'] ? [] : [row('1INCHUSDT', '1INCH', 'USDT', Date.UTC(2021, 0, 1))]),
    row('BTCPERP', 'BTC', 'USDC', Date.UTC(2022, 0, 1)),
    row('BTC-26DEC25', 'BTC', 'USDT', Date.UTC(2025, 5, 27), {
      contractType: 'LinearFutures',
      deliveryTime: String(Date.UTC(2025, 11, 26, 8)),
    }),
    ...(instruments.NEWCOINUSDT
      ? []
      : [row('NEWCOINUSDT', 'NEWCOIN', 'USDT', Date.UTC(2100, 0, 1), { status: 'PreLaunch' })]),
  ];
}

/** Decodes a cursor the way it was handed out (the client may send it encoded once or not at all). */
function readCursor(raw: string | null): { lasttime: number } | undefined | 'invalid' {
  if (raw === null || raw === '') return undefined;
  const text = raw.includes('%') ? decodeURIComponent(raw) : raw;
  const params = new URLSearchParams(text);
  const lasttime = params.get('lasttime');
  return lasttime && /^\d+$/.test(lasttime) ? { lasttime: Number(lasttime) * 1000 } : 'invalid';
}

/** Creates the simulator; `handler` serves requests, `stats` counts what it saw. */
// Long by design: a simulated venue is one closure; its helpers and `handler` share the market, the budget and the fault state.
export function createBybitSimulator(market: SyntheticMarket, options: BybitSimOptions = {}) {
  const instruments = bybitInstruments(market);
  const now = options.now ?? Date.now;
  const budget = new FixedWindowBudget(options.requestLimit ?? 600, options.windowMs ?? 5000);
  const banMs = options.banMs ?? 600_000;
  const bannedUntil = new Map<string, number>();
  const listing = instrumentList(market, options.fillerInstruments ?? 520);
  const stats: BybitSimStats = { requests: 0, status403: 0, byClient: new Map(), byPath: new Map() };

  const ok = (result: unknown, t: number) =>
    json({ retCode: 0, retMsg: 'OK', result, retExtInfo: {}, time: t });
  const fail = (retCode: number, retMsg: string, t: number) =>
    json({ retCode, retMsg, result: {}, retExtInfo: {}, time: t });
  const forbidden = () => {
    stats.status403++;
    return new Response('access too frequent', { status: 403, headers: { 'content-type': 'text/plain' } });
  };

  const instrumentOf = (url: URL) => {
    const name = url.searchParams.get('symbol') ?? '';
    const inst = instruments[name];
    return inst && market.asset(inst.symbol) ? { name, ...inst } : undefined;
  };

  /** Newest `limit` period starts of `[lo, hi]` on the grid of `interval`, ascending. */
  const newest = (interval: Interval, lo: number, hi: number, limit: number): number[] => {
    const out: number[] = [];
    for (let ts = hi; ts >= lo && out.length < limit; ts = addInterval(ts, interval, -1)) out.push(ts);
    return out.reverse();
  };

  /** A cursor-paged statistics list (open interest, account ratio): newest first. */
  const statsPage = (
    url: URL,
    t: number,
    symbol: string,
    interval: Interval,
    maxLimit: number,
  ): { rows: number[]; next: string } | Response => {
    const limit = Math.min(intParam(url, 'limit') ?? 50, maxLimit);
    if (!Number.isInteger(limit) || limit < 1) return fail(10001, 'params error: limit is invalid', t);
    const cursor = readCursor(url.searchParams.get('cursor'));
    if (cursor === 'invalid') return fail(10001, 'params error: cursor is invalid', t);
    const asset = market.asset(symbol)!;
    const first = ceilToInterval(asset.listedAt, interval);
    const last = floorToInterval(t, interval);
    const startTime = intParam(url, 'startTime');
    const endTime = intParam(url, 'endTime');
    const lo = Math.max(first, startTime === undefined ? first : ceilToInterval(startTime, interval));
    let hi = Math.min(last, endTime === undefined ? last : floorToInterval(endTime, interval));
    if (cursor) hi = Math.min(hi, addInterval(cursor.lasttime, interval, -1));
    const rows = newest(interval, lo, hi, limit).filter((ts) => market.has(symbol, ts));
    const oldest = rows[0];
    const more = oldest !== undefined && oldest > lo;
    const next = more ? encodeURIComponent(`lastid=${rows.length}&lasttime=${oldest / 1000}`) : '';
    return { rows: rows.reverse(), next };
  };

  // Long by design: one branch per endpoint of the venue, each a few lines, in the order of the reference.
  const handler: VenueHandler = (request, clientId) => {
    const url = new URL(request.url);
    const t = now();
    const path = url.pathname;
    stats.requests++;
    stats.byClient.set(clientId, (stats.byClient.get(clientId) ?? 0) + 1);
    stats.byPath.set(path, (stats.byPath.get(path) ?? 0) + 1);
    const intercepted = options.intercept?.(url, clientId);
    if (intercepted) return intercepted;

    const bt = (options.budgetNow ?? now)();
    const ban = bannedUntil.get(clientId);
    if (ban !== undefined && bt < ban) return forbidden();
    if (budget.spend(clientId, 1, bt) === undefined) {
      bannedUntil.set(clientId, bt + banMs);
      return forbidden();
    }

    const category = url.searchParams.get('category');
    const requireLinear = () => (category === 'linear' ? undefined : fail(10001, 'Illegal category', t));

    switch (path) {
      case '/v5/market/time':
        return ok({ timeSecond: String(Math.floor(t / 1000)), timeNano: `${t}000000` }, t);

      case '/v5/market/kline': {
        if (category !== null && category !== 'linear') return fail(10001, 'Illegal category', t);
        const inst = instrumentOf(url);
        if (!inst) return fail(10001, 'Not supported symbols', t);
        const interval = KLINE_INTERVALS[url.searchParams.get('interval') ?? ''];
        if (!interval) return fail(10001, 'Invalid period!', t);
        const limit = Math.min(intParam(url, 'limit') ?? 200, 1000);
        if (!Number.isInteger(limit) || limit < 1) return fail(10001, 'params error: limit is invalid', t);
        const start = intParam(url, 'start');
        const end = intParam(url, 'end');
        const asset = market.asset(inst.symbol)!;
        const first = ceilToInterval(asset.listedAt, interval);
        const last = floorToInterval(t, interval); // the forming candle
        // Both bounds inclusive; an unaligned bound selects the candle containing it.
        const lo = Math.max(first, start === undefined ? first : floorToInterval(start, interval));
        const hi = Math.min(last, end === undefined ? last : floorToInterval(end, interval));
        let grid: number[] = [];
        if (lo <= hi) {
          if (start !== undefined && end === undefined) {
            for (let ts = lo; ts <= hi && grid.length < limit; ts = addInterval(ts, interval, 1))
              grid.push(ts);
          } else grid = newest(interval, lo, hi, limit);
        }
        const m = inst.multiplier;
        const list = grid
          .filter((ts) => market.has(inst.symbol, ts))
          .reverse()
          .map((ts) => {
            const c = market.candle(inst.symbol, ts, addInterval(ts, interval, 1) - ts);
            const part = ts === last ? 0.5 : 1;
            return [
              String(ts),
              plain(c.open * m),
              plain(c.high * m),
              plain(c.low * m),
              plain(c.close * m),
              plain((c.volume * part) / m),
              plain(c.quoteVolume * part),
            ];
          });
        return ok({ symbol: inst.name, category: 'linear', list }, t);
      }

      case '/v5/market/funding/history': {
        const bad = requireLinear();
        if (bad) return bad;
        const inst = instrumentOf(url);
        if (!inst) return fail(10001, 'Not supported symbols', t);
        const startTime = intParam(url, 'startTime');
        const endTime = intParam(url, 'endTime');
        if (startTime !== undefined && endTime === undefined) {
          return fail(10001, 'params error: startTime cannot be passed without endTime', t);
        }
        const limit = Math.min(intParam(url, 'limit') ?? 200, 200);
        if (!Number.isInteger(limit) || limit < 1) return fail(10001, 'params error: limit is invalid', t);
        const asset = market.asset(inst.symbol)!;
        const first = ceilToInterval(asset.listedAt, '8h');
        const last = floorToInterval(t, '8h');
        const lo = Math.max(first, startTime === undefined ? first : ceilToInterval(startTime, '8h'));
        const hi = Math.min(last, endTime === undefined ? last : floorToInterval(endTime, '8h'));
        const list = newest('8h', lo, hi, limit)
          .filter((ts) => market.has(inst.symbol, ts))
          .reverse()
          .map((ts) => ({
            symbol: inst.name,
            fundingRate: plain(market.fundingRate(inst.symbol, ts)),
            fundingRateTimestamp: String(ts),
          }));
        return ok({ category: 'linear', list }, t);
      }

      case '/v5/market/tickers': {
        const bad = requireLinear();
        if (bad) return bad;
        const names = url.searchParams.has('symbol')
          ? [url.searchParams.get('symbol') ?? '']
          : Object.keys(instruments).filter((n) => market.asset(instruments[n]!.symbol));
        const list = [];
        for (const name of names) {
          const inst = instruments[name];
          if (!inst || !market.asset(inst.symbol)) return fail(10001, 'Not supported symbols', t);
          const m = inst.multiplier;
          const minute = floorToInterval(t, '1m');
          const price = market.markPrice(inst.symbol, minute) * m;
          const next = floorToInterval(t, '8h') + FUNDING_EVERY;
          const single = market.openInterest(inst.symbol, floorToInterval(t, '5m')) / m;
          list.push({
            symbol: name,
            lastPrice: plain(price),
            indexPrice: plain(price),
            markPrice: plain(price),
            openInterest: plain(single * 2),
            openInterestValue: (single * 2 * price).toFixed(2),
            singleOpenInterest: plain(single),
            singleOpenInterestValue: (single * price).toFixed(2),
            fundingRate: plain(market.fundingRate(inst.symbol, next)),
            nextFundingTime: String(next),
            predictedDeliveryPrice: '',
            basisRate: '',
            deliveryTime: '0',
            basis: '',
            fundingIntervalHour: '8',
            fundingCap: '0.005',
          });
        }
        return ok({ category: 'linear', list }, t);
      }

      case '/v5/market/open-interest':
      case '/v5/market/account-ratio': {
        const bad = requireLinear();
        if (bad) return bad;
        const inst = instrumentOf(url);
        if (!inst) return fail(10001, 'Not supported symbols', t);
        const isOi = path === '/v5/market/open-interest';
        const spelling = url.searchParams.get(isOi ? 'intervalTime' : 'period') ?? '';
        const interval = STATS_INTERVALS[spelling];
        if (!interval) return fail(10001, isOi ? 'Invalid intervalTime' : 'Invalid period', t);
        const page = statsPage(url, t, inst.symbol, interval, isOi ? 200 : 500);
        if (page instanceof Response) return page;
        if (isOi) {
          const list = page.rows.map((ts) => {
            const single = market.openInterest(inst.symbol, ts) / inst.multiplier;
            return {
              openInterest: (single * 2).toFixed(8),
              ...(options.singleOpenInterest ? { singleOpenInterest: single.toFixed(8) } : {}),
              timestamp: String(ts),
            };
          });
          return ok({ symbol: inst.name, category: 'linear', list, nextPageCursor: page.next }, t);
        }
        const list = page.rows.map((ts) => {
          const long = market.longShare(inst.symbol, ts, 'global');
          return {
            symbol: inst.name,
            buyRatio: long.toFixed(4),
            sellRatio: (1 - long).toFixed(4),
            timestamp: String(ts),
          };
        });
        return ok({ list, nextPageCursor: page.next }, t);
      }

      case '/v5/market/instruments-info': {
        const bad = requireLinear();
        if (bad) return bad;
        const limit = Math.min(intParam(url, 'limit') ?? 500, 1000);
        if (!Number.isInteger(limit) || limit < 1) return fail(10001, 'params error: limit is invalid', t);
        const status = url.searchParams.get('status') ?? 'Trading';
        const symbol = url.searchParams.get('symbol');
        const selected = listing.filter(
          (i) => i.status === status && (symbol === null || i.symbol === symbol),
        );
        const cursor = url.searchParams.get('cursor');
        const offsetText = cursor ? new URLSearchParams(decodeURIComponent(cursor)).get('offset') : '0';
        const offset = offsetText !== null && /^\d+$/.test(offsetText) ? Number(offsetText) : Number.NaN;
        if (!Number.isInteger(offset) || offset < 0) return fail(10001, 'params error: cursor is invalid', t);
        const list = selected.slice(offset, offset + limit);
        const nextPageCursor =
          offset + limit < selected.length ? encodeURIComponent(`offset=${offset + limit}`) : '';
        return ok({ category: 'linear', list, nextPageCursor }, t);
      }

      default:
        return json(
          { retCode: 10017, retMsg: 'route not found', result: {}, retExtInfo: {}, time: t },
          { status: 404 },
        );
    }
  };

  return { handler, stats, budget };
}

/** Bybit's part of `simulateVenues` (`src/testing/venue.ts`). */
export const bybitSimulation = venueSimulation({
  venue: 'bybit',
  create: withClocks(createBybitSimulator),
  unlimited: { requestLimit: 1e9 },
  serverError: (status: number) =>
    json({ retCode: 10016, retMsg: 'Internal server error.', result: {}, retExtInfo: {} }, { status }),
  banned: () =>
    new Response('access too frequent', { status: 403, headers: { 'content-type': 'text/plain' } }),
  instruments: BYBIT_INSTRUMENTS,
  server: (clock: WsClock, market: SyntheticMarket) =>
    new BybitWsServer({ clock, market, instruments: listed(market, bybitInstruments(market)) }),
});
