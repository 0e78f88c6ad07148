import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OkxClient, type OkxClientOptions } from '../../src/clients/okx/rest.js';
import { HistoryRangeError, UnsupportedError } from '../../src/core/errors.js';
import type { Candle } from '../../src/core/types.js';
import { json, mswHandlers } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';
import { createOkxSimulator } from '../../src/testing/okx.js';
import { collect } from './helpers.js';
import { venueContract } from './venue-contract.js';

const BASE = 'http://okx.mock';
const STRICT_BASE = 'http://okx-strict.mock';
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** The simulated present: 2024-06-01 12:00:30 UTC, half a minute into a candle. */
const NOW = Date.UTC(2024, 5, 1, 12, 0, 30);
const HOLE = { symbol: 'ETH', from: Date.UTC(2024, 4, 1, 10), to: Date.UTC(2024, 4, 1, 10, 17) };
const market = new SyntheticMarket({ holes: [HOLE] });
let intercept: ((url: URL) => Response | undefined) | undefined;
const PATHS = [
  '/api/v5/market/history-candles',
  '/api/v5/public/funding-rate',
  '/api/v5/public/funding-rate-history',
  '/api/v5/rubik/stat/contracts/open-interest-history',
  '/api/v5/rubik/stat/contracts/long-short-account-ratio-contract',
  '/api/v5/rubik/stat/contracts/long-short-account-ratio-contract-top-trader',
  '/api/v5/rubik/stat/contracts/long-short-position-ratio-contract-top-trader',
  '/api/v5/rubik/stat/taker-volume-contract',
  '/api/v5/public/instruments',
  '/api/v5/public/time',
];
// The simulator's clock stands still, so its 2 s windows never end: budgets for the whole file.
const sim = createOkxSimulator(market, {
  now: () => NOW,
  rateLimits: Object.fromEntries(PATHS.map((p) => [p, 1_000_000])),
  intercept: (url) => intercept?.(url),
});
// A simulator with the published budgets and a running clock, for the budget tests.
const t0 = Date.now();
const running = () => NOW + (Date.now() - t0);
let strictLog: ((url: URL) => void) | undefined;
const strict = createOkxSimulator(market, {
  now: running,
  rateLimitStatus: 200,
  intercept: (url) => {
    strictLog?.(url);
    return undefined;
  },
});
const server = setupServer(...mswHandlers(BASE, sim.handler), ...mswHandlers(STRICT_BASE, strict.handler));

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  intercept = undefined;
});
afterAll(() => server.close());

/** A client on the still clock; its budgets are lifted since that clock never opens a new window. */
const client = (extra: Partial<OkxClientOptions> = {}) =>
  new OkxClient({
    baseUrl: BASE,
    now: () => NOW,
    retryDelayMs: 1,
    rateLimit: { limit: 1_000_000, intervalMs: 2000 },
    ...extra,
  });

function expectSeries(candles: Candle[], from: number, count: number, symbol: string, ms = MIN) {
  expect(candles).toHaveLength(count);
  candles.forEach((c, i) => {
    const ts = from + i * ms;
    const m = market.candle(symbol, ts, ms);
    expect(c.ts).toBe(ts);
    expect(c.exchange).toBe('okx');
    expect(c.open).toBeCloseTo(m.open, 12);
    expect(c.close).toBeCloseTo(m.close, 12);
    expect(c.high).toBeCloseTo(m.high, 12);
    expect(c.low).toBeCloseTo(m.low, 12);
    expect(c.volume / m.volume).toBeCloseTo(1, 12);
  });
}

const candleCalls = () => sim.stats.byPath.get('/api/v5/market/history-candles') ?? 0;
const CANDLES = '/api/v5/market/history-candles';

venueContract({
  name: 'OkxClient.candles',
  client,
  market,
  now: NOW,
  hole: HOLE,
  intercept: (fn) => {
    intercept = fn;
  },
  sim,
  isCandlePath: (url) => url.pathname === CANDLES,
  candleCalls,
  expectSeries,
  twoPages: { pageRows: 300, loadRegistry: true, requests: 2 },
  halfOpen: { t: Date.UTC(2024, 4, 20, 6) },
  onePage: {
    what: 'with both exclusive cursors',
    check: (asked, t) => {
      expect(asked?.searchParams.get('before')).toBe(String(t - 1));
      expect(asked?.searchParams.get('after')).toBe(String(t + 50 * 5 * MIN));
      expect(asked?.searchParams.get('bar')).toBe('5m');
    },
  },
  future: { note: 'candle (confirm decides)' },
  shortPages: { limit: 100, why: ', as older docs say', how: 'with after = oldest', rows: 450 },
  unknownSymbol: true,
  venueUnknownSymbol: {
    what: '51001 inside HTTP 200',
    instrument: {
      exchange: 'okx',
      instrument: 'GHOST-USDT-SWAP',
      symbol: 'GHOST',
      quote: 'USDT',
      multiplier: 1,
      contractSize: 1,
    },
    from: NOW - 3 * HOUR,
    to: NOW - 2 * HOUR,
  },
  venueError: {
    what: '51000 inside HTTP 200',
    reply: () => json({ code: '51000', data: [], msg: 'Parameter bar error' }),
    venueCode: '51000',
  },
  drift: {
    reply: () =>
      json({
        code: '0',
        msg: '',
        data: [[String(NOW - 3 * HOUR), '1', '2', '0.5', '1.5', 'many', '1', '1', '1']],
      }),
    endpoint: CANDLES,
    interval: '1m',
    from: NOW - 3 * HOUR,
    to: NOW - 2 * HOUR,
    sample: 'many',
  },
  retried: {
    what: '5xx and 50013 (system busy) are',
    replies: () => [
      json({ code: '50013', data: [], msg: 'System is busy, please try again later' }),
      json({ code: '50001', data: [], msg: 'Service temporarily unavailable' }, { status: 503 }),
    ],
  },
});

describe('OkxClient.candles', () => {
  it('behavior: contract counts become coins with ctVal (PEPE: 10,000,000 per contract)', async () => {
    const okx = client();
    await okx.registry();
    // A body without volCcy: the client has only contracts, and converts them with the instrument's ctVal.
    intercept = (url) => {
      if (url.pathname !== '/api/v5/market/history-candles' || url.searchParams.has('raw')) return undefined;
      const inner = new URL(url);
      inner.searchParams.set('raw', '1');
      const body = sim.handler(new Request(inner), 'direct') as Response;
      // The simulator hands an async answer through as is (MSW awaits it).
      const rewritten = body.text().then((text) => {
        const parsed = JSON.parse(text) as { code: string; msg: string; data: string[][] };
        return json({ ...parsed, data: parsed.data.map((r) => [...r.slice(0, 6), '', ...r.slice(7)]) });
      });
      return rewritten as unknown as Response;
    };
    const from = Date.UTC(2024, 4, 20, 3);
    const { rows } = await collect(
      okx.candles({ symbol: 'PEPE', interval: '1h', from, to: from + 5 * HOUR }),
    );
    expectSeries(rows, from, 5, 'PEPE', HOUR);
    await okx.close();
  });

  it('behavior: daily candles use the UTC-aligned bar (1Dutc)', async () => {
    const okx = client();
    const from = Date.UTC(2024, 4, 1);
    const { rows } = await collect(okx.candles({ symbol: 'BTC', interval: '1d', from, to: from + 3 * DAY }));
    expectSeries(rows, from, 3, 'BTC', DAY);
    await okx.close();
  });

  it('behavior: with the published budgets a rubik backfill of 7 pages meets no 50011; a budget above the venue budget meets 50011 (HTTP 200) and waits each out', async () => {
    const okx = new OkxClient({ baseUrl: STRICT_BASE, now: running, retryDelayMs: 1 });
    await okx.registry();
    const to = Math.floor(running() / HOUR) * HOUR - HOUR;
    const from = to - 650 * HOUR;
    const { rows } = await collect(okx.longShortRatio({ symbol: 'ETH', interval: '1h', from, to }));
    expect(rows).toHaveLength(650);
    expect(strict.stats.rateLimited).toBe(0);
    // The venue's own limit (code 50011, HTTP 200 here) pauses the endpoint's budget for its 2 s window.
    const candles = new OkxClient({
      baseUrl: STRICT_BASE,
      now: running,
      retryDelayMs: 1,
      rateLimits: { '/api/v5/market/history-candles': { limit: 100, intervalMs: 2000 } },
    });
    await candles.registry();
    const c0 = Date.UTC(2024, 4, 2);
    const { rows: many } = await collect(
      candles.candles({ symbol: 'BTC', interval: '1m', from: c0, to: c0 + 30 * 300 * MIN }),
    );
    expect(many).toHaveLength(9000);
    expect(strict.stats.rateLimited).toBeGreaterThan(0);
    await okx.close();
    await candles.close();
  }, 20_000);

  it('behavior: budgets the venue keys on IP + instId are counted per instrument: symbols do not queue behind each other', async () => {
    const path = '/api/v5/rubik/stat/contracts/long-short-account-ratio-contract';
    const seen: { t: number; instId: string }[] = [];
    const okx = new OkxClient({ baseUrl: STRICT_BASE, now: running, retryDelayMs: 1, concurrency: 8 });
    await okx.registry();
    const before = strict.stats.rateLimited;
    const log = (url: URL) => {
      if (url.pathname === path) seen.push({ t: running(), instId: url.searchParams.get('instId')! });
    };
    const to = Math.floor(running() / HOUR) * HOUR - HOUR;
    const from = to - 400 * HOUR; // 4 pages of 100 per symbol: within one symbol's 5 per 2 s
    strictLog = log;
    const results = await Promise.all(
      ['BTC', 'ETH', 'PEPE', 'SHIB'].map((symbol) =>
        collect(okx.longShortRatio({ symbol, interval: '1h', from, to })),
      ),
    );
    strictLog = undefined;
    for (const { rows } of results) expect(rows).toHaveLength(400);
    expect(strict.stats.rateLimited - before).toBe(0);
    // Per-IP counting would allow 5 of these requests per 2 s window in all; per instrument, the 16
    // go out together, 4 per instId.
    const windows = new Map<number, number>();
    for (const { t } of seen) windows.set(Math.floor(t / 2000), (windows.get(Math.floor(t / 2000)) ?? 0) + 1);
    expect(seen).toHaveLength(16);
    expect(Math.max(...windows.values())).toBeGreaterThan(5);
    await okx.close();
  });
});

describe('OkxClient other kinds', () => {
  it('default: funding prefers the realized rate and keeps about three months (clamped with a warning)', async () => {
    const warnings: string[] = [];
    const okx = client({ onWarning: (w) => warnings.push(w.code) });
    const { rows } = await collect(
      okx.funding({ symbol: 'BTC', from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 5, 1) }),
    );
    expect(warnings).toEqual(['RANGE_CLAMPED']);
    expect(rows[0]!.ts).toBeGreaterThanOrEqual(NOW - 90 * DAY);
    expect(rows.at(-1)!.ts).toBe(Date.UTC(2024, 4, 31, 16));
    rows.forEach((r, i) => {
      if (i > 0) expect(r.ts - rows[i - 1]!.ts).toBe(8 * HOUR);
      expect(r.rate).toBeCloseTo(market.fundingRate('BTC', r.ts), 14);
    });
    const strictRange = client({ outOfRange: 'throw' });
    await expect(
      collect(strictRange.funding({ symbol: 'BTC', from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 5, 1) })),
    ).rejects.toBeInstanceOf(HistoryRangeError);
    await okx.close();
    await strictRange.close();
  });

  it('default: rubik open interest keeps the latest 1,440 rows: older ranges are clamped, values in coins', async () => {
    const warnings: string[] = [];
    const okx = client({ onWarning: (w) => warnings.push(w.message) });
    const current = Math.floor(NOW / (5 * MIN)) * 5 * MIN;
    const { rows } = await collect(
      okx.openInterest({ symbol: 'PEPE', interval: '5m', from: Date.UTC(2024, 4, 1), to: NOW }),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('1440');
    expect(rows).toHaveLength(1438);
    expect(rows[0]!.ts).toBe(current - 1438 * 5 * MIN);
    expect(rows.at(-1)!.ts).toBe(current - 5 * MIN);
    for (const r of rows) expect(r.openInterest / market.openInterest('PEPE', r.ts)).toBeCloseTo(1, 12);
    await expect(
      collect(
        client({ outOfRange: 'throw' }).openInterest({
          symbol: 'BTC',
          interval: '5m',
          from: Date.UTC(2024, 4, 1),
          to: NOW,
        }),
      ),
    ).rejects.toBeInstanceOf(HistoryRangeError);
    await okx.close();
  });

  it('default: long/short ratios of all three kinds, and taker volume with sell first', async () => {
    const okx = client();
    const from = Date.UTC(2024, 4, 28);
    for (const kind of ['global', 'topAccount', 'topPosition'] as const) {
      const { rows } = await collect(
        okx.longShortRatio({ symbol: 'BTC', interval: '1h', from, to: from + 24 * HOUR, kind }),
      );
      expect(rows).toHaveLength(24);
      for (const r of rows) {
        const long = market.longShare('BTC', r.ts, kind);
        expect(r.kind).toBe(kind);
        expect(r.ratio).toBeCloseTo(long / (1 - long), 9);
      }
    }
    const tv = await collect(
      okx.takerVolume({ symbol: 'PEPE', interval: '5m', from, to: from + 20 * 5 * MIN }),
    );
    expect(tv.rows).toHaveLength(20);
    for (const r of tv.rows) {
      const expected = market.takerVolume('PEPE', r.ts, 5 * MIN);
      expect(r.buyVolume / expected.buy).toBeCloseTo(1, 12);
      expect(r.sellVolume / expected.sell).toBeCloseTo(1, 12);
    }
    await expect(
      collect(okx.openInterest({ symbol: 'BTC', interval: '1m', from, to: from + HOUR })),
    ).rejects.toBeInstanceOf(UnsupportedError);
    await okx.close();
  });

  it('default: predicted funding, instruments with ctVal, server time', async () => {
    const okx = client();
    const instruments = await okx.instruments();
    expect(instruments.find((i) => i.instrument === 'PEPE-USDT-SWAP')).toMatchObject({
      symbol: 'PEPE',
      contractSize: 10_000_000,
    });
    expect(instruments.find((i) => i.instrument === 'BTC-USDT-SWAP')).toMatchObject({
      symbol: 'BTC',
      contractSize: 0.01,
    });
    expect(
      instruments.some((i) => i.instrument === 'BTC-USD-SWAP' || i.instrument === 'NEWCOIN-USDT-SWAP'),
    ).toBe(false);
    const { rows } = await collect(okx.predictedFunding({ symbol: 'ETH' }));
    const next = Math.floor(NOW / (8 * HOUR)) * 8 * HOUR + 8 * HOUR;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ ts: NOW, nextFundingTime: next });
    expect(rows[0]!.rate).toBeCloseTo(market.fundingRate('ETH', next), 14);
    expect(await okx.serverTime()).toBe(NOW);
    await okx.close();
  });
});
