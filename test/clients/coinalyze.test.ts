import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CoinalyzeClient, type CoinalyzeClientOptions } from '../../src/clients/coinalyze/rest.js';
import {
  HistoryRangeError,
  HttpError,
  InvalidArgumentError,
  UnknownSymbolError,
  UnsupportedError,
} from '../../src/core/errors.js';
import type { Candle, Exchange } from '../../src/core/types.js';
import { type InstrumentInfo, SymbolRegistry } from '../../src/normalize/symbols.js';
import { createCoinalyzeSimulator } from '../../src/testing/coinalyze.js';
import { json, mswHandlers } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';
import { collect } from './helpers.js';
import { venueContract } from './venue-contract.js';

const BASE = 'http://coinalyze.mock/v1';
const BUDGET_BASE = 'http://coinalyze-budget.mock/v1';
const KEY = 'test-key';
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** The simulated present: 2024-06-01 12:00:30 UTC, half a minute into a candle. */
const NOW = Date.UTC(2024, 5, 1, 12, 0, 30);
// Intraday history reaches only ~1,500 buckets back, so the hole sits in the last day.
const HOLE = { symbol: 'ETH', from: Date.UTC(2024, 5, 1, 6), to: Date.UTC(2024, 5, 1, 6, 17) };
const market = new SyntheticMarket({ holes: [HOLE] });
let intercept: ((url: URL) => Response | undefined) | undefined;
const seenKeys = new Set<string>();
// The simulator's clock stands still, so its minute never ends: a budget for the whole file.
const sim = createCoinalyzeSimulator(market, {
  now: () => NOW,
  callLimit: 1_000_000,
  intercept: (url) => intercept?.(url),
});
// The budget test runs on a running clock with the published 40 calls per window, scaled to 2 s windows.
const t0 = Date.now();
const running = () => NOW + (Date.now() - t0);
const budgetSim = createCoinalyzeSimulator(market, { now: running, callLimit: 40, windowMs: 2000 });
const server = setupServer(
  ...mswHandlers(BASE, (request, id) => {
    seenKeys.add(request.headers.get('api_key') ?? '');
    return sim.handler(request, id);
  }),
  ...mswHandlers(BUDGET_BASE, budgetSim.handler),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  intercept = undefined;
});
afterAll(() => server.close());

const client = (extra: Partial<CoinalyzeClientOptions> = {}) =>
  new CoinalyzeClient({
    apiKey: KEY,
    baseUrl: BASE,
    now: () => NOW,
    retryDelayMs: 1,
    // The still clock never opens a new window: lift the per-minute budget for the functional tests.
    rateLimit: { limit: 1_000_000, intervalMs: MIN },
    ...extra,
  });

function expectSeries(
  candles: Candle[],
  from: number,
  count: number,
  symbol: string,
  ms: number,
  exchange: Exchange,
) {
  expect(candles).toHaveLength(count);
  candles.forEach((c, i) => {
    const ts = from + i * ms;
    const m = market.candle(symbol, ts, ms);
    expect(c.ts).toBe(ts);
    expect(c.source).toBe('coinalyze');
    expect(c.exchange).toBe(exchange);
    expect(c.open / m.open).toBeCloseTo(1, 12);
    expect(c.close / m.close).toBeCloseTo(1, 12);
    expect(c.high / m.high).toBeCloseTo(1, 12);
    expect(c.low / m.low).toBeCloseTo(1, 12);
    expect(c.volume / m.volume).toBeCloseTo(1, 12);
    if (m.takerBuyVolume > 0) expect(c.takerBuyVolume! / m.takerBuyVolume).toBeCloseTo(1, 12);
  });
}

const historyCalls = () => sim.stats.requests;

venueContract({
  name: 'CoinalyzeClient.candles',
  client,
  market,
  now: NOW,
  hole: HOLE,
  intercept: (fn) => {
    intercept = fn;
  },
  sim,
  isCandlePath: (url) => url.pathname.endsWith('/ohlcv-history'),
  candleCalls: historyCalls,
  expectSeries: (candles, from, count, symbol, ms = MIN) =>
    expectSeries(candles, from, count, symbol, ms, 'binance'),
  halfOpen: {
    t: Date.UTC(2024, 5, 1, 6),
    asked: {
      note: 'times go out in seconds',
      check: (asked, t) => {
        expect(asked?.searchParams.get('from')).toBe(String(t / 1000));
        expect(asked?.searchParams.get('to')).toBe(String((t + 3 * MIN) / 1000 - 1));
        expect(asked?.searchParams.get('interval')).toBe('1min');
      },
    },
  },
  beforeListing: { interval: '1d', step: DAY },
  holeRead: { loadRegistry: true, calls: (n) => expect(n).toBe(1) },
  future: {
    note: 'bucket (the forming one is dropped)',
    interval: '1h',
    step: HOUR,
    ahead: 5 * HOUR,
    count: 30,
  },
  drift: {
    note: 'milliseconds instead of seconds',
    reply: () =>
      json([
        { symbol: 'BTCUSDT_PERP.A', history: [{ t: NOW - 3 * HOUR, o: 1, h: 2, l: 0.5, c: 1.5, v: 10 }] },
      ]),
    endpoint: '/ohlcv-history',
    interval: '1h',
    from: NOW - 3 * HOUR,
    to: NOW - 2 * HOUR,
  },
});

describe('CoinalyzeClient.candles', () => {
  it('default: hourly candles with taker-buy volume, the key sent as the api_key header only', async () => {
    let queryKey = false;
    intercept = (url) => {
      if (url.searchParams.has('api_key')) queryKey = true;
      return undefined;
    };
    const coinalyze = client();
    const from = Date.UTC(2024, 4, 20);
    const { rows } = await collect(
      coinalyze.candles({ symbol: 'BTC', interval: '1h', from, to: from + 48 * HOUR }),
    );
    expectSeries(rows, from, 48, 'BTC', HOUR, 'binance');
    expect(seenKeys).toEqual(new Set([KEY]));
    expect(queryKey).toBe(false);
    await coinalyze.close();
  });

  it('default: a daily backfill longer than one request (1,500 buckets) comes in two ascending pages', async () => {
    const coinalyze = client();
    await coinalyze.registry();
    const listed = market.asset('BTC')!.listedAt;
    const to = Date.UTC(2024, 5, 1);
    const before = historyCalls();
    const { rows, pages } = await collect(
      coinalyze.candles({ symbol: 'BTC', interval: '1d', from: listed, to }),
    );
    expectSeries(rows, listed, (to - listed) / DAY, 'BTC', DAY, 'binance');
    expect(pages).toBe(2);
    expect(historyCalls() - before).toBe(2);
    await coinalyze.close();
  });

  it('behavior: multiplier contracts on every venue: 1000PEPE on Binance, SHIB1000USDT.6 on Bybit, PEPE on OKX', async () => {
    const coinalyze = new CoinalyzeClient({
      apiKey: KEY,
      baseUrl: BASE,
      now: () => NOW,
      exchange: 'bybit',
      rateLimit: { limit: 1_000_000, intervalMs: MIN },
    });
    const from = Date.UTC(2024, 4, 30);
    const shib = await collect(
      coinalyze.candles({ symbol: 'SHIB', interval: '1h', from, to: from + 5 * HOUR }),
    );
    expectSeries(shib.rows, from, 5, 'SHIB', HOUR, 'bybit');
    const pepe = await collect(
      coinalyze.candles({ symbol: 'PEPE', interval: '1h', from, to: from + 5 * HOUR, exchange: 'binance' }),
    );
    expectSeries(pepe.rows, from, 5, 'PEPE', HOUR, 'binance');
    expect(pepe.rows[0]!.open).toBeLessThan(0.001);
    const okx = await collect(
      coinalyze.candles({ symbol: 'PEPE', interval: '1h', from, to: from + 5 * HOUR, exchange: 'okx' }),
    );
    expectSeries(okx.rows, from, 5, 'PEPE', HOUR, 'okx');
    const registry = await coinalyze.registry();
    expect(registry.toInstrument('bybit', 'BTC').instrument).toBe('BTCUSDT.6');
    expect(registry.toInstrument('bybit', 'SHIB')).toMatchObject({
      instrument: 'SHIB1000USDT.6',
      multiplier: 1000,
    });
    expect(registry.toInstrument('okx', 'BTC').instrument).toBe('BTCUSDT_PERP.3');
    await coinalyze.close();
  });

  it('behavior: intraday history older than ~1,500 buckets is clamped with a warning, or throws', async () => {
    const warnings: string[] = [];
    const coinalyze = client({ onWarning: (w) => warnings.push(w.message) });
    const current = Math.floor(NOW / MIN) * MIN;
    const { rows } = await collect(
      coinalyze.candles({ symbol: 'BTC', interval: '1m', from: NOW - 3 * DAY, to: NOW }),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('1500');
    expect(rows).toHaveLength(1498);
    expect(rows[0]!.ts).toBe(current - 1498 * MIN);
    // A range wholly older than the retention says so instead of an empty success.
    const old = await collect(
      coinalyze.candles({ symbol: 'BTC', interval: '1m', from: NOW - 5 * DAY, to: NOW - 4 * DAY }),
    );
    expect(old.rows).toEqual([]);
    expect(warnings).toHaveLength(2);
    const strict = client({ outOfRange: 'throw' });
    await expect(
      collect(strict.candles({ symbol: 'BTC', interval: '1m', from: NOW - 5 * DAY, to: NOW - 4 * DAY })),
    ).rejects.toBeInstanceOf(HistoryRangeError);
    await coinalyze.close();
    await strict.close();
  });

  it('error: an unknown symbol fails before any data request; a listed symbol without data is simply absent', async () => {
    const coinalyze = client();
    await coinalyze.registry();
    const before = historyCalls();
    await expect(
      collect(coinalyze.candles({ symbol: 'NOPE', interval: '1h', from: NOW - DAY, to: NOW })),
    ).rejects.toBeInstanceOf(UnknownSymbolError);
    expect(historyCalls()).toBe(before);
    // Coinalyze has no long/short data for OKX: the answer omits the symbol, which yields nothing.
    const ls = await collect(
      coinalyze.longShortRatio({ symbol: 'BTC', interval: '1h', from: NOW - DAY, to: NOW, exchange: 'okx' }),
    );
    expect(ls.rows).toEqual([]);
    await coinalyze.close();
  });

  it('error: 401 and 400 are not retried, and the API key is never printed (errors, logs, warnings)', async () => {
    const secret = 'sk-live-4b1d9f2e7c';
    const lines: string[] = [];
    const log = (message: string, meta?: Record<string, unknown>) =>
      lines.push(message + JSON.stringify(meta ?? {}));
    const logger = { debug: log, info: log, warn: log, error: log };
    const before = sim.stats.status401;
    const bad = new CoinalyzeClient({
      apiKey: secret,
      baseUrl: BASE,
      now: () => NOW,
      retryDelayMs: 1,
      logger,
      onWarning: (w) => lines.push(w.message),
    });
    const error = await bad.instruments().catch((e) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error.status).toBe(401);
    expect(sim.stats.status401 - before).toBe(1);
    intercept = () => json({ message: `bad request for key ${secret}` }, { status: 400 });
    const echoed = await bad.instruments().catch((e) => e);
    expect(echoed).toBeInstanceOf(HttpError);
    expect(echoed.status).toBe(400);
    intercept = undefined;
    const everything = [
      error.message,
      error.stack,
      String(error),
      echoed.message,
      echoed.stack,
      JSON.stringify(echoed),
      ...lines,
    ].join('\n');
    expect(everything).not.toContain(secret);
    expect(everything).toContain('***');
    await bad.close();
  });

  it('behavior: 5xx is retried; 429 waits out Retry-After, then the page arrives', async () => {
    // Short budget windows: after a pause the transport's budget resumes at a window boundary.
    const coinalyze = new CoinalyzeClient({
      apiKey: KEY,
      baseUrl: BASE,
      now: running,
      retryDelayMs: 1,
      rateLimit: { limit: 10_000, intervalMs: 500 },
    });
    await coinalyze.registry();
    const replies = [
      json({ message: 'server error' }, { status: 500 }),
      json({ message: 'Too many requests' }, { status: 429, headers: { 'Retry-After': '1' } }),
    ];
    intercept = (url) => (url.pathname.endsWith('/ohlcv-history') ? replies.shift() : undefined);
    const from = Date.UTC(2024, 4, 30);
    const { rows } = await collect(
      coinalyze.candles({ symbol: 'ETH', interval: '1h', from, to: from + 10 * HOUR }),
    );
    expectSeries(rows, from, 10, 'ETH', HOUR, 'binance');
    expect(replies).toHaveLength(0);
    await coinalyze.close();
  });
});

describe('CoinalyzeClient batching and other kinds', () => {
  it('behavior: 50 symbols go out ≤ 20 per request and the calls are spread so no 429 is ever met', async () => {
    const real: InstrumentInfo[] = ['BTC', 'ETH', 'PEPE', 'SHIB'].map((symbol) => ({
      exchange: 'binance',
      instrument: symbol === 'BTC' || symbol === 'ETH' ? `${symbol}USDT_PERP.A` : `1000${symbol}USDT_PERP.A`,
      symbol,
      quote: 'USDT',
      multiplier: symbol === 'BTC' || symbol === 'ETH' ? 1 : 1000,
    }));
    const filler: InstrumentInfo[] = Array.from({ length: 46 }, (_, i) => ({
      exchange: 'binance',
      instrument: `Z${i}USDT_PERP.A`,
      symbol: `Z${i}`,
      quote: 'USDT',
      multiplier: 1,
    }));
    const coinalyze = new CoinalyzeClient({
      apiKey: KEY,
      baseUrl: BUDGET_BASE,
      now: running,
      registry: new SymbolRegistry([...real, ...filler]),
      rateLimit: { limit: 40, intervalMs: 2000 },
    });
    const from = Date.UTC(2024, 4, 28);
    const symbols = [...real, ...filler].map((i) => i.symbol);
    const { rows } = await collect(
      coinalyze.candlesMany({ symbols, interval: '1h', from, to: from + 24 * HOUR }),
    );
    expect(budgetSim.stats.status429).toBe(0);
    expect(budgetSim.stats.requests).toBe(3);
    expect(budgetSim.stats.callsByKey.get(KEY)).toBe(50);
    for (const symbol of ['BTC', 'ETH', 'PEPE', 'SHIB']) {
      const mine = rows.filter((r) => r.symbol === symbol);
      expectSeries(mine, from, 24, symbol, HOUR, 'binance');
    }
    await coinalyze.close();
  });

  it('default: funding on the 8 h grid (fractions, from 4h buckets), predicted funding from the bucket open', async () => {
    const coinalyze = client();
    const from = Date.UTC(2024, 4, 20);
    const to = Date.UTC(2024, 4, 30);
    const { rows } = await collect(coinalyze.funding({ symbol: 'BTC', from, to }));
    expect(rows).toHaveLength(30);
    rows.forEach((r, i) => {
      expect(r.ts).toBe(from + i * 8 * HOUR);
      expect(r.rate).toBeCloseTo(market.fundingRate('BTC', r.ts), 14);
    });
    await expect(
      collect(coinalyze.funding({ symbol: 'BTC', interval: '1d', from, to })),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    const predicted = await collect(
      coinalyze.predictedFunding({ symbol: 'BTC', interval: '1h', from, to: from + 10 * HOUR }),
    );
    expect(predicted.rows).toHaveLength(10);
    for (const p of predicted.rows) {
      expect(p.rate).toBeCloseTo(
        market.fundingRate('BTC', Math.floor(p.ts / (8 * HOUR)) * 8 * HOUR + 8 * HOUR),
        14,
      );
    }
    await coinalyze.close();
  });

  it('default: open interest in coins (bucket open × multiplier), liquidations in USD, global long/short shares', async () => {
    const coinalyze = client();
    const from = Date.UTC(2024, 4, 28);
    const to = from + 24 * HOUR;
    const oi = await collect(coinalyze.openInterest({ symbol: 'PEPE', interval: '1h', from, to }));
    expect(oi.rows).toHaveLength(24);
    for (const r of oi.rows) expect(r.openInterest / market.openInterest('PEPE', r.ts)).toBeCloseTo(1, 12);
    expect(oi.rows[0]!.openInterestUsd).toBeUndefined();
    const withUsd = await collect(
      coinalyze.openInterest({ symbol: 'PEPE', interval: '1h', from, to, usd: true }),
    );
    for (const r of withUsd.rows) {
      const usd = market.openInterest('PEPE', r.ts) * market.markPrice('PEPE', r.ts);
      expect(r.openInterestUsd! / usd).toBeCloseTo(1, 12);
    }
    const liq = await collect(coinalyze.liquidations({ symbol: 'BTC', interval: '1h', from, to }));
    expect(liq.rows).toHaveLength(24);
    for (const r of liq.rows) {
      const m = market.liquidations('BTC', r.ts);
      expect(r.longUsd).toBeCloseTo(m.longUsd, 6);
      expect(r.shortUsd).toBeCloseTo(m.shortUsd, 6);
    }
    const ls = await collect(
      coinalyze.longShortRatio({ symbol: 'ETH', interval: '1h', from, to, exchange: 'bybit' }),
    );
    expect(ls.rows).toHaveLength(24);
    for (const r of ls.rows) {
      const long = market.longShare('ETH', r.ts, 'global');
      expect(r.longShare).toBeCloseTo(long, 12);
      expect(r.ratio).toBeCloseTo(long / (1 - long), 4);
    }
    await expect(
      collect(coinalyze.longShortRatio({ symbol: 'ETH', from, to, kind: 'topPosition' })),
    ).rejects.toBeInstanceOf(UnsupportedError);
    await coinalyze.close();
  });

  it('default: instruments from /future-markets: USDT perps of the three venues, never built by concatenation', async () => {
    const coinalyze = client();
    const instruments = await coinalyze.instruments();
    expect(instruments.find((i) => i.instrument === 'BTCUSDT.6')).toMatchObject({
      exchange: 'bybit',
      symbol: 'BTC',
    });
    expect(instruments.find((i) => i.instrument === '1000PEPEUSDT_PERP.A')).toMatchObject({
      exchange: 'binance',
      symbol: 'PEPE',
      multiplier: 1000,
    });
    expect(instruments.some((i) => i.instrument === 'BTCUSD_PERP.A' || i.instrument === 'BTCPERP.6')).toBe(
      false,
    );
    expect(() => new CoinalyzeClient({ apiKey: '' })).toThrow(InvalidArgumentError);
    await coinalyze.close();
  });
});
