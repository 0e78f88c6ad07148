import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BybitClient } from '../../src/clients/bybit/rest.js';
import { RateLimitError, UnsupportedError } from '../../src/core/errors.js';
import type { Candle } from '../../src/core/types.js';
import { createBybitSimulator } from '../../src/testing/bybit.js';
import { json, mswHandlers } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';
import { collect } from './helpers.js';
import { venueContract } from './venue-contract.js';

const BASE = 'http://bybit.mock';
const BAN_BASE = 'http://bybit-ban.mock';
const MIN = 60_000;
const HOUR = 60 * MIN;
/** The simulated present: 2024-06-01 12:00:30 UTC, half a minute into a candle. */
const NOW = Date.UTC(2024, 5, 1, 12, 0, 30);
const HOLE = { symbol: 'ETH', from: Date.UTC(2024, 4, 1, 10), to: Date.UTC(2024, 4, 1, 10, 17) };
const market = new SyntheticMarket({ holes: [HOLE] });
let intercept: ((url: URL) => Response | undefined) | undefined;
const sim = createBybitSimulator(market, {
  now: () => NOW,
  // The simulator's clock stands still, so its fixed 5 s window never ends: a budget for the whole file.
  requestLimit: 1_000_000,
  fillerInstruments: 1200,
  intercept: (url) => intercept?.(url),
});
const banSim = createBybitSimulator(market, { now: () => NOW, requestLimit: 2 });
const server = setupServer(...mswHandlers(BASE, sim.handler), ...mswHandlers(BAN_BASE, banSim.handler));

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  intercept = undefined;
});
afterAll(() => server.close());

const client = (extra: ConstructorParameters<typeof BybitClient>[0] = {}) =>
  new BybitClient({ baseUrl: BASE, now: () => NOW, retryDelayMs: 1, ...extra });

function expectSeries(candles: Candle[], from: number, count: number, symbol: string, ms = MIN) {
  expect(candles).toHaveLength(count);
  candles.forEach((c, i) => {
    const ts = from + i * ms;
    const m = market.candle(symbol, ts, ms);
    expect(c.ts).toBe(ts);
    expect(c.exchange).toBe('bybit');
    expect(c.open / m.open).toBeCloseTo(1, 12);
    expect(c.close / m.close).toBeCloseTo(1, 12);
    expect(c.high / m.high).toBeCloseTo(1, 12);
    expect(c.low / m.low).toBeCloseTo(1, 12);
    expect(c.volume / m.volume).toBeCloseTo(1, 12);
    expect(c.quoteVolume! / m.quoteVolume).toBeCloseTo(1, 12);
  });
}

const klineCalls = () => sim.stats.byPath.get('/v5/market/kline') ?? 0;
const KLINE = '/v5/market/kline';

venueContract({
  name: 'BybitClient.candles',
  client,
  market,
  now: NOW,
  hole: HOLE,
  intercept: (fn) => {
    intercept = fn;
  },
  sim,
  isCandlePath: (url) => url.pathname === KLINE,
  candleCalls: klineCalls,
  expectSeries,
  twoPages: { pageRows: 1000, loadRegistry: true, requests: 2 },
  multiplier: {
    contracts: '1000PEPEUSDT, SHIB1000USDT',
    reads: [
      { symbol: 'PEPE', interval: '1m', count: 10, ms: MIN },
      { symbol: 'SHIB', interval: '1h', count: 5, ms: HOUR },
    ],
  },
  halfOpen: { t: Date.UTC(2024, 4, 20, 6), belowStart: true },
  onePage: {
    what: 'asking exactly its periods',
    check: (asked) => {
      expect(asked?.searchParams.get('limit')).toBe('50');
      expect(asked?.searchParams.get('interval')).toBe('5');
      expect(asked?.searchParams.get('category')).toBe('linear');
    },
  },
  future: { note: 'candle (the forming one is dropped)' },
  shortPages: { limit: 200, why: '', how: 'backwards', rows: 700 },
  unknownSymbol: true,
  venueUnknownSymbol: {
    what: 'retCode 10001 "Not supported symbols" inside HTTP 200',
    instrument: { exchange: 'bybit', instrument: 'GHOSTUSDT', symbol: 'GHOST', quote: 'USDT', multiplier: 1 },
    from: NOW - 3 * HOUR,
    to: NOW - 2 * HOUR,
  },
  venueError: {
    what: 'any other retCode',
    reply: () =>
      json({
        retCode: 10001,
        retMsg: 'params error: interval invalid',
        result: {},
        retExtInfo: {},
        time: NOW,
      }),
    venueCode: 10001,
    message: 'interval invalid',
  },
  drift: {
    reply: () =>
      json({
        retCode: 0,
        retMsg: 'OK',
        result: {
          symbol: 'BTCUSDT',
          category: 'linear',
          list: [[String(NOW - 3 * HOUR), '1', '2', '0.5', '1.5', 'many', '10']],
        },
        retExtInfo: {},
        time: NOW,
      }),
    endpoint: KLINE,
    interval: '1m',
    from: NOW - 3 * HOUR,
    to: NOW - 2 * HOUR,
    sample: 'many',
  },
  retried: {
    what: '5xx and retCode 10016 (server error inside HTTP 200) are',
    replies: () => [
      json({ retCode: 10016, retMsg: 'Internal server error', result: {}, retExtInfo: {}, time: NOW }),
      new Response('bad gateway', { status: 502 }),
    ],
  },
});

describe('BybitClient.candles', () => {
  it('error: HTTP 403 "access too frequent" bans the egress for ten minutes and is not hammered', async () => {
    const bybit = new BybitClient({
      baseUrl: BAN_BASE,
      now: () => NOW,
      retryDelayMs: 1,
      maxEgressWaitMs: 10,
    });
    await bybit.registry(); // 1 request
    await bybit.serverTime(); // 2
    const before = Date.now();
    const error = await bybit.serverTime().catch((e) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.code).toBe('BANNED');
    // Bans run on the real clock: ten minutes from when the 403 arrived.
    expect(error.retryAt).toBeGreaterThanOrEqual(before + 10 * MIN);
    expect(error.retryAt).toBeLessThanOrEqual(Date.now() + 10 * MIN);
    expect(banSim.stats.status403).toBe(1);
    await bybit.close();
  });

  it('behavior: retCode 10006 is a rate limit: the budget pauses, then the page arrives', async () => {
    const t0 = Date.now();
    const clock = () => NOW - HOUR + (Date.now() - t0);
    // Short budget windows: after a pause the transport's budget resumes at a window boundary.
    const bybit = new BybitClient({
      baseUrl: BASE,
      now: clock,
      retryDelayMs: 1,
      rateLimit: { limit: 600, intervalMs: 500 },
    });
    await bybit.registry();
    let limited = 1;
    intercept = (url) =>
      url.pathname === '/v5/market/kline' && limited-- > 0
        ? json({ retCode: 10006, retMsg: 'Too many visits!', result: {}, retExtInfo: {}, time: NOW })
        : undefined;
    const from = Date.UTC(2024, 4, 3);
    const { rows } = await collect(
      bybit.candles({ symbol: 'BTC', interval: '1m', from, to: from + 5 * MIN }),
    );
    expectSeries(rows, from, 5, 'BTC');
    expect(limited).toBe(-1);
    await bybit.close();
  });
});

describe('BybitClient other kinds', () => {
  it('default: funding is ascending on the grid, never asked with startTime alone', async () => {
    const bybit = client();
    let startOnly = 0;
    intercept = (url) => {
      if (
        url.pathname === '/v5/market/funding/history' &&
        url.searchParams.has('startTime') &&
        !url.searchParams.has('endTime')
      )
        startOnly++;
      return undefined;
    };
    const from = Date.UTC(2024, 0, 1);
    const to = Date.UTC(2024, 5, 1);
    const { rows, pages } = await collect(bybit.funding({ symbol: 'BTC', from, to }));
    expect(pages).toBeGreaterThan(1);
    expect(rows).toHaveLength((to - from) / (8 * HOUR));
    rows.forEach((r, i) => {
      expect(r.ts).toBe(from + i * 8 * HOUR);
      expect(r.rate).toBeCloseTo(market.fundingRate('BTC', r.ts), 12);
    });
    expect(startOnly).toBe(0);
    await bybit.close();
  });

  it('default: open interest is one-sided and in coins (PEPE ×1000), following the cursor', async () => {
    const bybit = client();
    await bybit.registry();
    let cursors = 0;
    // A venue that pages by 50 rows: the client must follow nextPageCursor until it is "".
    intercept = (url) => {
      if (url.pathname !== '/v5/market/open-interest') return undefined;
      if (url.searchParams.has('cursor')) cursors++;
      if (url.searchParams.get('limit') === '50') return undefined;
      const capped = new URL(url);
      capped.searchParams.set('limit', '50');
      return sim.handler(new Request(capped), 'direct') as Response;
    };
    const from = Date.UTC(2024, 4, 25);
    const to = from + 300 * 5 * MIN;
    const { rows } = await collect(bybit.openInterest({ symbol: 'PEPE', interval: '5m', from, to }));
    expect(rows).toHaveLength(300);
    expect(cursors).toBeGreaterThan(0);
    rows.forEach((r, i) => {
      expect(r.ts).toBe(from + i * 5 * MIN);
      expect(r.openInterest / market.openInterest('PEPE', r.ts)).toBeCloseTo(1, 9);
    });
    await bybit.close();
  });

  it('default: the account ratio is the global long/short share; top-trader kinds are unsupported', async () => {
    const bybit = client();
    const from = Date.UTC(2024, 4, 25);
    const { rows } = await collect(
      bybit.longShortRatio({ symbol: 'BTC', interval: '1h', from, to: from + 48 * HOUR }),
    );
    expect(rows).toHaveLength(48);
    for (const r of rows) {
      const long = market.longShare('BTC', r.ts, 'global');
      expect(r.kind).toBe('global');
      expect(r.longShare).toBeCloseTo(long, 12);
      expect(r.ratio).toBeCloseTo(long / (1 - long), 9);
    }
    await expect(
      collect(
        bybit.longShortRatio({ symbol: 'BTC', interval: '1h', from, to: from + HOUR, kind: 'topAccount' }),
      ),
    ).rejects.toBeInstanceOf(UnsupportedError);
    await expect(
      collect(bybit.openInterest({ symbol: 'BTC', interval: '1m', from, to: from + HOUR })),
    ).rejects.toBeInstanceOf(UnsupportedError);
    await bybit.close();
  });

  it('default: predicted funding, instruments over several cursor pages, server time', async () => {
    const bybit = client();
    const before = sim.stats.byPath.get('/v5/market/instruments-info') ?? 0;
    const instruments = await bybit.instruments();
    expect((sim.stats.byPath.get('/v5/market/instruments-info') ?? 0) - before).toBe(2);
    expect(instruments.length).toBeGreaterThan(1200);
    expect(instruments.find((i) => i.instrument === '1000PEPEUSDT')).toMatchObject({
      symbol: 'PEPE',
      multiplier: 1000,
    });
    expect(instruments.find((i) => i.instrument === 'SHIB1000USDT')).toMatchObject({
      symbol: 'SHIB',
      multiplier: 1000,
    });
    expect(instruments.some((i) => i.instrument === 'BTCPERP' || i.instrument === 'BTC-26DEC25')).toBe(false);
    const { rows } = await collect(bybit.predictedFunding({ symbol: 'BTC' }));
    expect(rows).toHaveLength(1);
    const next = Math.floor(NOW / (8 * HOUR)) * 8 * HOUR + 8 * HOUR;
    expect(rows[0]).toMatchObject({ ts: NOW, nextFundingTime: next });
    expect(rows[0]!.rate).toBeCloseTo(market.fundingRate('BTC', next), 12);
    expect(await bybit.serverTime()).toBe(NOW);
    await bybit.close();
  });
});
