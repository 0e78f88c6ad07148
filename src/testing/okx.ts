/**
 * An OKX v5 (USDT swaps) simulator that follows ../shared/reference/exchange-apis.md §3 and the
 * recorded bodies in ../shared/reference/payloads/okx: bodies are `{code, msg, data}` with string
 * codes, errors arrive with HTTP 200 (`51001`, `51000`, `50014`), rate limits per endpoint bucket
 * (IP, IP + instId, IP + instType) answer HTTP 429 `{"msg":"Too Many Requests","code":"50011"}`
 * without Retry-After; every list is newest first; candles page with exclusive `after`/`before`,
 * cap `limit` at 300 (default 100), flag the forming candle `confirm:"0"`, count `vol` in contracts
 * (`ctVal`), and `/market/candles` keeps only the latest 1,440 rows; funding history keeps about 3
 * months; rubik statistics keep the latest 1,440 rows per period and page with exclusive
 * `begin`/`end`; taker volume is `[ts, sellVol, buyVol]` in the `unit` asked for. Periods of 6 hours
 * and more exist UTC+8-aligned (`1D` opens at 16:00 UTC) and UTC-aligned (`1Dutc`).
 */

import type { WsClock } from '../clients/ws/clock.js';
import { addInterval, ceilToInterval, floorToInterval, type Interval } from '../core/intervals.js';
import { FixedWindowBudget, intParam, json, type VenueHandler } from './http.js';
import type { SyntheticMarket } from './market.js';
import { listed, venueSimulation, withClocks } from './venue.js';
import { OkxWsServer } from './ws/okx.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FUNDING_EVERY = 8 * HOUR;
/** UTC+8: the alignment of the plain 6H/12H/1D/… spellings. */
const HK = 8 * HOUR;

/** A bar: the canonical period it lasts and the offset of its grid from UTC. */
interface Bar {
  interval: Interval;
  shift: number;
}

const BARS: Record<string, Bar> = {
  '1m': { interval: '1m', shift: 0 },
  '3m': { interval: '3m', shift: 0 },
  '5m': { interval: '5m', shift: 0 },
  '15m': { interval: '15m', shift: 0 },
  '30m': { interval: '30m', shift: 0 },
  '1H': { interval: '1h', shift: 0 },
  '2H': { interval: '2h', shift: 0 },
  '4H': { interval: '4h', shift: 0 },
  '6H': { interval: '6h', shift: HK },
  '12H': { interval: '12h', shift: HK },
  '1D': { interval: '1d', shift: HK },
  '3D': { interval: '3d', shift: HK },
  '1W': { interval: '1w', shift: HK },
  '1M': { interval: '1M', shift: HK },
  '6Hutc': { interval: '6h', shift: 0 },
  '12Hutc': { interval: '12h', shift: 0 },
  '1Dutc': { interval: '1d', shift: 0 },
  '3Dutc': { interval: '3d', shift: 0 },
  '1Wutc': { interval: '1w', shift: 0 },
  '1Mutc': { interval: '1M', shift: 0 },
};
/** Rubik periods: the same spellings from 5 minutes up. */
const RUBIK_PERIODS: Record<string, Bar> = Object.fromEntries(
  Object.entries(BARS).filter(([name]) => name !== '1m' && name !== '3m'),
);

const floorBar = (ts: number, bar: Bar) => floorToInterval(ts + bar.shift, bar.interval) - bar.shift;
const addBar = (ts: number, bar: Bar, n: number) => addInterval(ts + bar.shift, bar.interval, n) - bar.shift;
const ceilBar = (ts: number, bar: Bar) => ceilToInterval(ts + bar.shift, bar.interval) - bar.shift;

/** Swaps of the synthetic market with their contract values (base units per contract). */
export const OKX_INSTRUMENTS: Record<string, { symbol: string; ctVal: number }> = {
  'BTC-USDT-SWAP': { symbol: 'BTC', ctVal: 0.01 },
  'ETH-USDT-SWAP': { symbol: 'ETH', ctVal: 0.1 },
  'PEPE-USDT-SWAP': { symbol: 'PEPE', ctVal: 10_000_000 },
  'SHIB-USDT-SWAP': { symbol: 'SHIB', ctVal: 1_000_000 },
};

/**
 * The swaps an OKX simulator over `market` knows: `OKX_INSTRUMENTS`, plus `<SYM>-USDT-SWAP` (`ctVal`
 * 1) for every asset of the market that the table does not name.
 * @example
 * import { okxInstruments, SyntheticMarket } from 'perpdata/testing';
 *
 * okxInstruments(new SyntheticMarket({ assets: [{ symbol: 'SOL', basePrice: 150, listedAt: 0 }] }))['SOL-USDT-SWAP'];
 */
export function okxInstruments(market: SyntheticMarket): Record<string, { symbol: string; ctVal: number }> {
  const table = { ...OKX_INSTRUMENTS };
  const named = new Set(Object.values(OKX_INSTRUMENTS).map((i) => i.symbol));
  for (const { symbol } of market.assets)
    if (!named.has(symbol)) table[`${symbol}-USDT-SWAP`] = { symbol, ctVal: 1 };
  return table;
}

const RUBIK = '/api/v5/rubik/stat/contracts';
const LONG_SHORT_PATHS: Record<string, 'global' | 'topAccount' | 'topPosition'> = {
  [`${RUBIK}/long-short-account-ratio-contract`]: 'global',
  [`${RUBIK}/long-short-account-ratio-contract-top-trader`]: 'topAccount',
  [`${RUBIK}/long-short-position-ratio-contract-top-trader`]: 'topPosition',
};

/** Requests per 2 s and what the bucket is keyed on, per endpoint (reference §3.3). */
const RATE_LIMITS: Record<string, { limit: number; by: 'ip' | 'instId' | 'instType' }> = {
  '/api/v5/market/candles': { limit: 40, by: 'ip' },
  '/api/v5/market/history-candles': { limit: 20, by: 'ip' },
  '/api/v5/public/funding-rate': { limit: 10, by: 'instId' },
  '/api/v5/public/funding-rate-history': { limit: 10, by: 'instId' },
  [`${RUBIK}/open-interest-history`]: { limit: 10, by: 'instId' },
  [`${RUBIK}/long-short-account-ratio-contract`]: { limit: 5, by: 'instId' },
  [`${RUBIK}/long-short-account-ratio-contract-top-trader`]: { limit: 5, by: 'instId' },
  [`${RUBIK}/long-short-position-ratio-contract-top-trader`]: { limit: 5, by: 'instId' },
  '/api/v5/rubik/stat/taker-volume-contract': { limit: 5, by: 'instId' },
  '/api/v5/public/instruments': { limit: 20, by: 'instType' },
  '/api/v5/public/time': { limit: 10, by: 'ip' },
};

/** Options of the OKX simulator. */
export interface OkxSimOptions {
  /** Clock of the rate budgets (clients run theirs on the real clock). @default `now` */
  budgetNow?: () => number;
  /** The simulator's clock. @default Date.now */
  now?: () => number;
  /** Override requests per 2 s of some endpoints (path → limit). */
  rateLimits?: Record<string, number>;
  /** HTTP status of a 50011 answer: the docs list it with 200, live answers come with 429. @default 429 */
  rateLimitStatus?: 200 | 429;
  /** How far back funding history reaches. @default 7776000000 (90 days) */
  fundingRetentionMs?: number;
  /** Whether history-candles also serves the forming candle (`confirm:"0"`). @default true */
  historyFormingCandle?: boolean;
  /** Hook to count or fail requests before they are served (return a Response to answer with it). */
  intercept?: (url: URL, clientId: string) => Response | undefined;
}

/** What the OKX simulator counted. */
export interface OkxSimStats {
  requests: number;
  /** Answers with code 50011. */
  rateLimited: number;
  byClient: Map<string, number>;
  byPath: Map<string, number>;
}

/** A number as a plain decimal string, never in exponent form, exact round trip. */
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

/** Creates the simulator; `handler` serves requests, `stats` counts what it saw. */
// Long by design: a simulated venue is one closure; its helpers and `handler` share the market, the budget and the fault state.
export function createOkxSimulator(market: SyntheticMarket, options: OkxSimOptions = {}) {
  const instruments = okxInstruments(market);
  const now = options.now ?? Date.now;
  const fundingRetention = options.fundingRetentionMs ?? 90 * DAY;
  const budgets = new Map<string, FixedWindowBudget>();
  for (const [path, spec] of Object.entries(RATE_LIMITS)) {
    budgets.set(path, new FixedWindowBudget(options.rateLimits?.[path] ?? spec.limit, 2000));
  }
  const stats: OkxSimStats = { requests: 0, rateLimited: 0, byClient: new Map(), byPath: new Map() };

  // Candles: code, msg, data. Public and rubik bodies: code, data, msg (as recorded).
  const okCandles = (data: unknown) => json({ code: '0', msg: '', data });
  const ok = (data: unknown) => json({ code: '0', data, msg: '' });
  const fail = (code: string, msg: string) => json({ code, data: [], msg });
  const noInstrument = () => fail('51001', "Instrument ID, Instrument ID code, or Spread ID doesn't exist.");

  const instrumentOf = (url: URL): { instId: string; symbol: string; ctVal: number } | Response => {
    const instId = url.searchParams.get('instId');
    if (!instId) return fail('50014', 'Parameter instId can not be empty');
    const inst = instruments[instId];
    if (!inst || !market.asset(inst.symbol)) return noInstrument();
    return { instId, ...inst };
  };

  /** Newest `limit` period starts strictly between `above` and `below`, within `[lo, hi]`; newest first. */
  const page = (
    bar: Bar,
    lo: number,
    hi: number,
    above: number | undefined,
    below: number | undefined,
    limit: number,
  ) => {
    let top = hi;
    if (below !== undefined)
      top = Math.min(top, ceilBar(below, bar) === below ? addBar(below, bar, -1) : floorBar(below, bar));
    const out: number[] = [];
    for (let ts = top; ts >= lo && out.length < limit; ts = addBar(ts, bar, -1)) {
      if (above !== undefined && ts <= above) break;
      out.push(ts);
    }
    return out;
  };

  const limitOf = (url: URL, fallback: number, max: number): number | Response => {
    const limit = intParam(url, 'limit') ?? fallback;
    if (!Number.isInteger(limit) || limit < 1) return fail('51000', 'Parameter limit error');
    return Math.min(limit, max); // larger values are served as the maximum
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

    const spec = RATE_LIMITS[path];
    const budget = budgets.get(path);
    if (spec && budget) {
      const key =
        spec.by === 'instId'
          ? `${clientId}|${url.searchParams.get('instId') ?? ''}`
          : spec.by === 'instType'
            ? `${clientId}|${url.searchParams.get('instType') ?? ''}`
            : clientId;
      if (budget.spend(key, 1, (options.budgetNow ?? now)()) === undefined) {
        stats.rateLimited++;
        return json({ msg: 'Too Many Requests', code: '50011' }, { status: options.rateLimitStatus ?? 429 });
      }
    }

    switch (path) {
      case '/api/v5/public/time':
        return ok([{ ts: String(t) }]);

      case '/api/v5/public/instruments': {
        const instType = url.searchParams.get('instType');
        if (!instType) return fail('50014', 'Parameter instType can not be empty');
        if (instType !== 'SWAP') return ok([]);
        const row = (
          instId: string,
          ctVal: string,
          ctValCcy: string,
          settleCcy: string,
          ctType: string,
          listTime: string,
          state: string,
        ) => ({
          ctMult: ctVal === '' ? '' : '1',
          ctType,
          ctVal,
          ctValCcy,
          instFamily: instId.replace(/-SWAP$/, ''),
          instId,
          instIdCode: 10000 + instId.length,
          instType: 'SWAP',
          listTime,
          lotSz: ctVal === '' ? '' : '0.01',
          settleCcy,
          state,
          tickSz: ctVal === '' ? '' : '0.1',
          uly: instId.replace(/-SWAP$/, ''),
        });
        const rows = Object.entries(instruments)
          .filter(([, i]) => market.asset(i.symbol))
          .map(([instId, i]) =>
            row(
              instId,
              plain(i.ctVal),
              i.symbol,
              'USDT',
              'linear',
              String(market.asset(i.symbol)!.listedAt),
              'live',
            ),
          );
        rows.push(row('BTC-USD-SWAP', '100', 'USD', 'BTC', 'inverse', '1535424203000', 'live'));
        rows.push(row('NEWCOIN-USDT-SWAP', '', '', 'USDT', 'linear', '', 'preopen'));
        const instId = url.searchParams.get('instId');
        const family = url.searchParams.get('instFamily');
        return ok(
          rows.filter((r) => (!instId || r.instId === instId) && (!family || r.instFamily === family)),
        );
      }

      case '/api/v5/market/candles':
      case '/api/v5/market/history-candles': {
        const inst = instrumentOf(url);
        if (inst instanceof Response) return inst;
        const bar = BARS[url.searchParams.get('bar') ?? '1m'];
        if (!bar) return fail('51000', 'Parameter bar error');
        const limit = limitOf(url, 100, 300);
        if (limit instanceof Response) return limit;
        const asset = market.asset(inst.symbol)!;
        const forming = floorBar(t, bar);
        const includeForming = path === '/api/v5/market/candles' || (options.historyFormingCandle ?? true);
        const hi = includeForming ? forming : addBar(forming, bar, -1);
        let lo = ceilBar(asset.listedAt, bar);
        if (path === '/api/v5/market/candles') lo = Math.max(lo, addBar(forming, bar, -1439)); // latest 1,440 rows
        const rows = page(bar, lo, hi, intParam(url, 'before'), intParam(url, 'after'), limit)
          .filter((ts) => market.has(inst.symbol, ts))
          .map((ts) => {
            const c = market.candle(inst.symbol, ts, addBar(ts, bar, 1) - ts);
            const part = ts === forming ? 0.5 : 1;
            const volume = c.volume * part;
            return [
              String(ts),
              plain(c.open),
              plain(c.high),
              plain(c.low),
              plain(c.close),
              plain(volume / inst.ctVal),
              plain(volume),
              plain(c.quoteVolume * part),
              ts === forming ? '0' : '1',
            ];
          });
        return okCandles(rows);
      }

      case '/api/v5/public/funding-rate': {
        const instId = url.searchParams.get('instId');
        const ids =
          instId === 'ANY'
            ? Object.keys(instruments).filter((id) => market.asset(instruments[id]!.symbol))
            : [instId ?? ''];
        const data = [];
        for (const id of ids) {
          if (!id) return fail('50014', 'Parameter instId can not be empty');
          const inst = instruments[id];
          if (!inst || !market.asset(inst.symbol)) return noInstrument();
          const prev = floorToInterval(t, '8h');
          const next = prev + FUNDING_EVERY;
          data.push({
            formulaType: 'withRate',
            fundingRate: plain(market.fundingRate(inst.symbol, next)),
            fundingTime: String(next),
            impactValue: '20000.0000000000000000',
            instId: id,
            instType: 'SWAP',
            interestRate: '0.0001000000000000',
            maxFundingRate: '0.00375',
            method: 'current_period',
            minFundingRate: '-0.00375',
            nextFundingRate: '',
            nextFundingTime: String(next + FUNDING_EVERY),
            premium: '-0.0004195044127414',
            prevFundingTime: String(prev),
            settFundingRate: plain(market.fundingRate(inst.symbol, prev)),
            settState: 'settled',
            ts: String(t),
          });
        }
        return ok(data);
      }

      case '/api/v5/public/funding-rate-history': {
        const inst = instrumentOf(url);
        if (inst instanceof Response) return inst;
        const limit = limitOf(url, 400, 400);
        if (limit instanceof Response) return limit;
        const bar: Bar = { interval: '8h', shift: 0 };
        const asset = market.asset(inst.symbol)!;
        const lo = Math.max(ceilBar(asset.listedAt, bar), ceilBar(t - fundingRetention, bar));
        const rows = page(bar, lo, floorBar(t, bar), intParam(url, 'before'), intParam(url, 'after'), limit)
          .filter((ts) => market.has(inst.symbol, ts))
          .map((ts) => {
            const realized = market.fundingRate(inst.symbol, ts);
            return {
              formulaType: 'noRate',
              // The rate predicted at settlement differs slightly from what was charged.
              fundingRate: plain(Math.round((realized + 0.0000001) * 1e10) / 1e10),
              fundingTime: String(ts),
              instId: inst.instId,
              instType: 'SWAP',
              method: 'current_period',
              realizedRate: plain(realized),
            };
          });
        return ok(rows);
      }

      case `${RUBIK}/open-interest-history`:
      case `${RUBIK}/long-short-account-ratio-contract`:
      case `${RUBIK}/long-short-account-ratio-contract-top-trader`:
      case `${RUBIK}/long-short-position-ratio-contract-top-trader`:
      case '/api/v5/rubik/stat/taker-volume-contract': {
        const inst = instrumentOf(url);
        if (inst instanceof Response) return inst;
        const bar = RUBIK_PERIODS[url.searchParams.get('period') ?? '5m'];
        if (!bar) return fail('51000', 'Parameter period error');
        const limit = limitOf(url, 100, 100);
        if (limit instanceof Response) return limit;
        const isTaker = path.endsWith('taker-volume-contract');
        const kind = LONG_SHORT_PATHS[path];
        // Statistics exist from early February 2024 (daily: January 2024; top traders: 2024-03-22).
        const since =
          kind === 'topAccount' || kind === 'topPosition'
            ? Date.UTC(2024, 2, 22)
            : bar.interval === '1d'
              ? Date.UTC(2024, 0, 1)
              : Date.UTC(2024, 1, 1);
        // The newest row is the current period for snapshots; taker volume only has closed periods.
        const hi = isTaker ? addBar(floorBar(t, bar), bar, -1) : floorBar(t, bar);
        const asset = market.asset(inst.symbol)!;
        const lo = Math.max(ceilBar(asset.listedAt, bar), ceilBar(since, bar), addBar(hi, bar, -1439));
        const grid = page(bar, lo, hi, intParam(url, 'begin'), intParam(url, 'end'), limit).filter((ts) =>
          market.has(inst.symbol, ts),
        );
        if (path === `${RUBIK}/open-interest-history`) {
          return ok(
            grid.map((ts) => {
              const oi = market.openInterest(inst.symbol, ts);
              return [
                String(ts),
                plain(oi / inst.ctVal),
                plain(oi),
                (oi * market.markPrice(inst.symbol, ts)).toFixed(2),
              ];
            }),
          );
        }
        if (isTaker) {
          const unit = url.searchParams.get('unit') ?? '1';
          if (unit !== '0' && unit !== '1' && unit !== '2') return fail('51000', 'Parameter unit error');
          return ok(
            grid.map((ts) => {
              const v = market.takerVolume(inst.symbol, ts, addBar(ts, bar, 1) - ts);
              const price = market.candle(inst.symbol, ts, addBar(ts, bar, 1) - ts).close;
              const scale = (x: number) => (unit === '0' ? x : unit === '1' ? x / inst.ctVal : x * price);
              return [String(ts), plain(scale(v.sell)), plain(scale(v.buy))];
            }),
          );
        }
        return ok(
          grid.map((ts) => {
            const long = market.longShare(inst.symbol, ts, kind ?? 'global');
            return [String(ts), String(long / (1 - long))];
          }),
        );
      }

      default:
        return json({ msg: 'Not Found', code: '404' }, { status: 404 });
    }
  };

  return { handler, stats, budgets };
}

/** OKX's part of `simulateVenues` (`src/testing/venue.ts`). */
export const okxSimulation = venueSimulation({
  venue: 'okx',
  create: withClocks(createOkxSimulator),
  unlimited: { rateLimits: Object.fromEntries(Object.keys(RATE_LIMITS).map((path) => [path, 1e9])) },
  serverError: (status: number) =>
    json(
      { code: '50001', msg: 'Service temporarily unavailable. Please try again later.', data: [] },
      { status },
    ),
  instruments: OKX_INSTRUMENTS,
  server: (clock: WsClock, market: SyntheticMarket) =>
    new OkxWsServer({ clock, market, instruments: listed(market, okxInstruments(market)) }),
});
