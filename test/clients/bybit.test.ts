import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BybitClient } from '../../src/clients/bybit/rest.js';
import {
  HttpError,
  InvalidArgumentError,
  RateLimitError,
  UnknownSymbolError,
  UnsupportedError,
  ValidationError,
} from '../../src/core/errors.js';
import type { Candle } from '../../src/core/types.js';
import { SymbolRegistry } from '../../src/normalize/symbols.js';
import { createBybitSimulator } from '../../src/testing/bybit.js';
import { json, mswHandlers } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';
import { collect } from './helpers.js';

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

describe('BybitClient.candles', () => {
  it('default: a range of exactly two pages returns every candle once, in order, with venue values', async () => {
    const bybit = client();
    await bybit.registry();
    const from = Date.UTC(2024, 4, 20);
    const before = sim.stats.requests;
    const { rows, pages } = await collect(
      bybit.candles({ symbol: 'BTC', interval: '1m', from, to: from + 2 * 1000 * MIN }),
    );
    expectSeries(rows, from, 2000, 'BTC');
    expect(pages).toBe(2);
    expect(sim.stats.requests - before).toBe(2);
    await bybit.close();
  });

  it('behavior: multiplier contracts (1000PEPEUSDT, SHIB1000USDT) give prices per one coin and volume in coins', async () => {
    const bybit = client();
    const from = Date.UTC(2024, 4, 20, 3);
    const pepe = await collect(bybit.candles({ symbol: 'PEPE', interval: '1m', from, to: from + 10 * MIN }));
    expectSeries(pepe.rows, from, 10, 'PEPE');
    expect(pepe.rows[0]!.open).toBeLessThan(0.001);
    const shib = await collect(bybit.candles({ symbol: 'SHIB', interval: '1h', from, to: from + 5 * HOUR }));
    expectSeries(shib.rows, from, 5, 'SHIB', HOUR);
    await bybit.close();
  });

  it('behavior: off-by-one-ms bounds are half-open on open time', async () => {
    const bybit = client();
    const t = Date.UTC(2024, 4, 20, 6);
    const a = await collect(
      bybit.candles({ symbol: 'BTC', interval: '1m', from: t + 1, to: t + 3 * MIN + 1 }),
    );
    expect(a.rows.map((c) => c.ts)).toEqual([t + MIN, t + 2 * MIN, t + 3 * MIN]);
    const b = await collect(bybit.candles({ symbol: 'BTC', interval: '1m', from: t, to: t + 3 * MIN }));
    expect(b.rows.map((c) => c.ts)).toEqual([t, t + MIN, t + 2 * MIN]);
    const c = await collect(bybit.candles({ symbol: 'BTC', interval: '1m', from: t - 1, to: t + MIN - 1 }));
    expect(c.rows.map((x) => x.ts)).toEqual([t]);
    await bybit.close();
  });

  it('behavior: a range inside one page costs one request asking exactly its periods', async () => {
    const bybit = client();
    await bybit.registry();
    const before = klineCalls();
    let asked: URL | undefined;
    intercept = (url) => {
      if (url.pathname === '/v5/market/kline') asked = url;
      return undefined;
    };
    const t = Date.UTC(2024, 4, 21);
    const { rows, pages } = await collect(
      bybit.candles({ symbol: 'ETH', interval: '5m', from: t, to: t + 50 * 5 * MIN }),
    );
    expect(rows).toHaveLength(50);
    expect(pages).toBe(1);
    expect(klineCalls() - before).toBe(1);
    expect(asked?.searchParams.get('limit')).toBe('50');
    expect(asked?.searchParams.get('interval')).toBe('5');
    expect(asked?.searchParams.get('category')).toBe('linear');
    await bybit.close();
  });

  it('behavior: an empty range yields nothing ([t, t) too); an inverted one is an InvalidArgumentError', async () => {
    const bybit = client();
    const forming = Math.floor(NOW / MIN) * MIN;
    const empty = await collect(
      bybit.candles({ symbol: 'BTC', interval: '1m', from: forming, to: forming + MIN }),
    );
    expect(empty.rows).toEqual([]);
    expect(
      (await collect(bybit.candles({ symbol: 'BTC', interval: '1m', from: forming, to: forming }))).rows,
    ).toEqual([]);
    await expect(
      collect(bybit.candles({ symbol: 'BTC', interval: '1m', from: forming + MIN, to: forming })),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await bybit.close();
  });

  it('behavior: a range that starts before listing starts at the first candle', async () => {
    const bybit = client();
    const listed = market.asset('PEPE')!.listedAt;
    const { rows } = await collect(
      bybit.candles({ symbol: 'PEPE', interval: '1h', from: listed - 30 * 24 * HOUR, to: listed + 5 * HOUR }),
    );
    expect(rows.map((c) => c.ts)).toEqual([0, 1, 2, 3, 4].map((i) => listed + i * HOUR));
    await bybit.close();
  });

  it('behavior: a venue-side hole is skipped, not looped on, and stays visible as missing timestamps', async () => {
    const bybit = client();
    await bybit.registry();
    const from = HOLE.from - 5 * MIN;
    const to = HOLE.to + 5 * MIN;
    const before = klineCalls();
    const { rows } = await collect(bybit.candles({ symbol: 'ETH', interval: '1m', from, to }));
    const present = new Set(rows.map((c) => c.ts));
    expect(rows).toHaveLength(10);
    for (let ts = HOLE.from; ts < HOLE.to; ts += MIN) expect(present.has(ts)).toBe(false);
    expect(klineCalls() - before).toBeLessThanOrEqual(2);
    await bybit.close();
  });

  it('behavior: a range ending in the future stops at the last closed candle (the forming one is dropped)', async () => {
    const bybit = client();
    const from = Math.floor(NOW / MIN) * MIN - 600 * MIN;
    const { rows } = await collect(bybit.candles({ symbol: 'BTC', interval: '1m', from, to: NOW + HOUR }));
    expect(rows).toHaveLength(600);
    expect(rows.at(-1)!.ts).toBe(Math.floor(NOW / MIN) * MIN - MIN);
    await bybit.close();
  });

  it('behavior: a venue that serves shorter pages than asked (200) is walked backwards, not taken as the end', async () => {
    const bybit = client();
    await bybit.registry();
    intercept = (url) => {
      if (url.pathname !== '/v5/market/kline' || url.searchParams.get('limit') === '200') return undefined;
      const capped = new URL(url);
      capped.searchParams.set('limit', '200');
      return sim.handler(new Request(capped), 'direct') as Response;
    };
    const from = Date.UTC(2024, 4, 10);
    const { rows } = await collect(
      bybit.candles({ symbol: 'BTC', interval: '1m', from, to: from + 700 * MIN }),
    );
    expectSeries(rows, from, 700, 'BTC');
    await bybit.close();
  });

  it('error: an unknown symbol fails before any data request', async () => {
    const bybit = client();
    await bybit.registry();
    const before = sim.stats.requests;
    await expect(
      collect(bybit.candles({ symbol: 'NOPE', interval: '1m', from: NOW - HOUR, to: NOW })),
    ).rejects.toBeInstanceOf(UnknownSymbolError);
    expect(sim.stats.requests).toBe(before);
    await bybit.close();
  });

  it('error: retCode 10001 "Not supported symbols" inside HTTP 200 is an UnknownSymbolError, not retried', async () => {
    const registry = new SymbolRegistry([
      { exchange: 'bybit', instrument: 'GHOSTUSDT', symbol: 'GHOST', quote: 'USDT', multiplier: 1 },
    ]);
    const bybit = client({ registry });
    const before = klineCalls();
    const error = await collect(
      bybit.candles({ symbol: 'GHOST', interval: '1m', from: NOW - 3 * HOUR, to: NOW - 2 * HOUR }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(UnknownSymbolError);
    expect(error.message).toContain('GHOSTUSDT');
    expect(klineCalls() - before).toBe(1);
    await bybit.close();
  });

  it('error: any other retCode is an HttpError, never data, and is not retried', async () => {
    const bybit = client();
    await bybit.registry();
    let calls = 0;
    intercept = (url) => {
      if (url.pathname !== '/v5/market/kline') return undefined;
      calls++;
      return json({
        retCode: 10001,
        retMsg: 'params error: interval invalid',
        result: {},
        retExtInfo: {},
        time: NOW,
      });
    };
    const error = await collect(
      bybit.candles({ symbol: 'BTC', interval: '1m', from: NOW - 3 * HOUR, to: NOW - 2 * HOUR }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).not.toBeInstanceOf(ValidationError);
    expect(error.venueCode).toBe(10001);
    expect(error.message).toContain('interval invalid');
    expect(calls).toBe(1);
    await bybit.close();
  });

  it('error: a drifting payload is a ValidationError naming the endpoint, never retried', async () => {
    const bybit = client();
    await bybit.registry();
    let calls = 0;
    intercept = (url) => {
      if (url.pathname !== '/v5/market/kline') return undefined;
      calls++;
      const list = [[String(NOW - 3 * HOUR), '1', '2', '0.5', '1.5', 'many', '10']];
      return json({
        retCode: 0,
        retMsg: 'OK',
        result: { symbol: 'BTCUSDT', category: 'linear', list },
        retExtInfo: {},
        time: NOW,
      });
    };
    const error = await collect(
      bybit.candles({ symbol: 'BTC', interval: '1m', from: NOW - 3 * HOUR, to: NOW - 2 * HOUR }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.endpoint).toBe('/v5/market/kline');
    expect(error.sample).toContain('many');
    expect(calls).toBe(1);
    await bybit.close();
  });

  it('behavior: 5xx and retCode 10016 (server error inside HTTP 200) are retried and the page still arrives', async () => {
    const bybit = client();
    await bybit.registry();
    let failures = 2;
    intercept = (url) => {
      if (url.pathname !== '/v5/market/kline' || failures-- <= 0) return undefined;
      return failures === 1
        ? json({ retCode: 10016, retMsg: 'Internal server error', result: {}, retExtInfo: {}, time: NOW })
        : new Response('bad gateway', { status: 502 });
    };
    const { rows } = await collect(
      bybit.candles({ symbol: 'BTC', interval: '1m', from: NOW - 10 * MIN - 30_000, to: NOW }),
    );
    expect(rows).toHaveLength(10);
    expect(failures).toBe(-1);
    await bybit.close();
  });

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
