import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OkxClient, type OkxClientOptions } from '../../src/clients/okx/rest.js';
import {
  HistoryRangeError,
  HttpError,
  InvalidArgumentError,
  UnknownSymbolError,
  UnsupportedError,
  ValidationError,
} from '../../src/core/errors.js';
import type { Candle } from '../../src/core/types.js';
import { SymbolRegistry } from '../../src/normalize/symbols.js';
import { json, mswHandlers } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';
import { createOkxSimulator } from '../../src/testing/okx.js';
import { collect } from './helpers.js';

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

describe('OkxClient.candles', () => {
  it('default: a range of exactly two pages returns every candle once, in order, with venue values', async () => {
    const okx = client();
    await okx.registry();
    const from = Date.UTC(2024, 4, 20);
    const before = sim.stats.requests;
    const { rows, pages } = await collect(
      okx.candles({ symbol: 'BTC', interval: '1m', from, to: from + 600 * MIN }),
    );
    expectSeries(rows, from, 600, 'BTC');
    expect(pages).toBe(2);
    expect(sim.stats.requests - before).toBe(2);
    await okx.close();
  });

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

  it('behavior: off-by-one-ms bounds are half-open on open time', async () => {
    const okx = client();
    const t = Date.UTC(2024, 4, 20, 6);
    const a = await collect(okx.candles({ symbol: 'BTC', interval: '1m', from: t + 1, to: t + 3 * MIN + 1 }));
    expect(a.rows.map((c) => c.ts)).toEqual([t + MIN, t + 2 * MIN, t + 3 * MIN]);
    const b = await collect(okx.candles({ symbol: 'BTC', interval: '1m', from: t, to: t + 3 * MIN }));
    expect(b.rows.map((c) => c.ts)).toEqual([t, t + MIN, t + 2 * MIN]);
    await okx.close();
  });

  it('behavior: a range inside one page costs one request with both exclusive cursors', async () => {
    const okx = client();
    await okx.registry();
    const before = candleCalls();
    let asked: URL | undefined;
    intercept = (url) => {
      if (url.pathname === '/api/v5/market/history-candles') asked = url;
      return undefined;
    };
    const t = Date.UTC(2024, 4, 21);
    const { rows, pages } = await collect(
      okx.candles({ symbol: 'ETH', interval: '5m', from: t, to: t + 50 * 5 * MIN }),
    );
    expect(rows).toHaveLength(50);
    expect(pages).toBe(1);
    expect(candleCalls() - before).toBe(1);
    expect(asked?.searchParams.get('before')).toBe(String(t - 1));
    expect(asked?.searchParams.get('after')).toBe(String(t + 50 * 5 * MIN));
    expect(asked?.searchParams.get('bar')).toBe('5m');
    await okx.close();
  });

  it('behavior: daily candles use the UTC-aligned bar (1Dutc)', async () => {
    const okx = client();
    const from = Date.UTC(2024, 4, 1);
    const { rows } = await collect(okx.candles({ symbol: 'BTC', interval: '1d', from, to: from + 3 * DAY }));
    expectSeries(rows, from, 3, 'BTC', DAY);
    await okx.close();
  });

  it('behavior: an empty range yields nothing ([t, t) too); an inverted one is an InvalidArgumentError', async () => {
    const okx = client();
    const forming = Math.floor(NOW / MIN) * MIN;
    expect(
      (await collect(okx.candles({ symbol: 'BTC', interval: '1m', from: forming, to: forming + MIN }))).rows,
    ).toEqual([]);
    expect(
      (await collect(okx.candles({ symbol: 'BTC', interval: '1m', from: forming, to: forming }))).rows,
    ).toEqual([]);
    await expect(
      collect(okx.candles({ symbol: 'BTC', interval: '1m', from: forming + MIN, to: forming })),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await okx.close();
  });

  it('behavior: a range that starts before listing starts at the first candle', async () => {
    const okx = client();
    const listed = market.asset('PEPE')!.listedAt;
    const { rows } = await collect(
      okx.candles({ symbol: 'PEPE', interval: '1h', from: listed - 30 * DAY, to: listed + 5 * HOUR }),
    );
    expect(rows.map((c) => c.ts)).toEqual([0, 1, 2, 3, 4].map((i) => listed + i * HOUR));
    await okx.close();
  });

  it('behavior: a venue-side hole is skipped, not looped on, and stays visible as missing timestamps', async () => {
    const okx = client();
    await okx.registry();
    const before = candleCalls();
    const { rows } = await collect(
      okx.candles({ symbol: 'ETH', interval: '1m', from: HOLE.from - 5 * MIN, to: HOLE.to + 5 * MIN }),
    );
    const present = new Set(rows.map((c) => c.ts));
    expect(rows).toHaveLength(10);
    for (let ts = HOLE.from; ts < HOLE.to; ts += MIN) expect(present.has(ts)).toBe(false);
    expect(candleCalls() - before).toBeLessThanOrEqual(2);
    await okx.close();
  });

  it('behavior: a range ending in the future stops at the last closed candle (confirm decides)', async () => {
    const okx = client();
    const from = Math.floor(NOW / MIN) * MIN - 600 * MIN;
    const { rows } = await collect(okx.candles({ symbol: 'BTC', interval: '1m', from, to: NOW + HOUR }));
    expect(rows).toHaveLength(600);
    expect(rows.at(-1)!.ts).toBe(Math.floor(NOW / MIN) * MIN - MIN);
    await okx.close();
  });

  it('behavior: pages shorter than asked (100, as older docs say) are walked with after = oldest', async () => {
    const okx = client();
    await okx.registry();
    intercept = (url) => {
      if (url.pathname !== '/api/v5/market/history-candles' || url.searchParams.get('limit') === '100')
        return undefined;
      const capped = new URL(url);
      capped.searchParams.set('limit', '100');
      return sim.handler(new Request(capped), 'direct') as Response;
    };
    const from = Date.UTC(2024, 4, 10);
    const { rows } = await collect(
      okx.candles({ symbol: 'BTC', interval: '1m', from, to: from + 450 * MIN }),
    );
    expectSeries(rows, from, 450, 'BTC');
    await okx.close();
  });

  it('error: an unknown symbol fails before any data request', async () => {
    const okx = client();
    await okx.registry();
    const before = sim.stats.requests;
    await expect(
      collect(okx.candles({ symbol: 'NOPE', interval: '1m', from: NOW - HOUR, to: NOW })),
    ).rejects.toBeInstanceOf(UnknownSymbolError);
    expect(sim.stats.requests).toBe(before);
    await okx.close();
  });

  it('error: 51001 inside HTTP 200 is an UnknownSymbolError and is not retried', async () => {
    const registry = new SymbolRegistry([
      {
        exchange: 'okx',
        instrument: 'GHOST-USDT-SWAP',
        symbol: 'GHOST',
        quote: 'USDT',
        multiplier: 1,
        contractSize: 1,
      },
    ]);
    const okx = client({ registry });
    const before = candleCalls();
    const error = await collect(
      okx.candles({ symbol: 'GHOST', interval: '1m', from: NOW - 3 * HOUR, to: NOW - 2 * HOUR }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(UnknownSymbolError);
    expect(error.message).toContain('GHOST-USDT-SWAP');
    expect(candleCalls() - before).toBe(1);
    await okx.close();
  });

  it('error: 51000 inside HTTP 200 is an HttpError, never data, and is not retried', async () => {
    const okx = client();
    await okx.registry();
    let calls = 0;
    intercept = (url) => {
      if (url.pathname !== '/api/v5/market/history-candles') return undefined;
      calls++;
      return json({ code: '51000', data: [], msg: 'Parameter bar error' });
    };
    const error = await collect(
      okx.candles({ symbol: 'BTC', interval: '1m', from: NOW - 3 * HOUR, to: NOW - 2 * HOUR }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error.venueCode).toBe('51000');
    expect(calls).toBe(1);
    await okx.close();
  });

  it('error: a drifting payload is a ValidationError naming the endpoint, never retried', async () => {
    const okx = client();
    await okx.registry();
    let calls = 0;
    intercept = (url) => {
      if (url.pathname !== '/api/v5/market/history-candles') return undefined;
      calls++;
      return json({
        code: '0',
        msg: '',
        data: [[String(NOW - 3 * HOUR), '1', '2', '0.5', '1.5', 'many', '1', '1', '1']],
      });
    };
    const error = await collect(
      okx.candles({ symbol: 'BTC', interval: '1m', from: NOW - 3 * HOUR, to: NOW - 2 * HOUR }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.endpoint).toBe('/api/v5/market/history-candles');
    expect(error.sample).toContain('many');
    expect(calls).toBe(1);
    await okx.close();
  });

  it('behavior: 5xx and 50013 (system busy) are retried and the page still arrives', async () => {
    const okx = client();
    await okx.registry();
    let failures = 2;
    intercept = (url) => {
      if (url.pathname !== '/api/v5/market/history-candles' || failures-- <= 0) return undefined;
      return failures === 1
        ? json({ code: '50013', data: [], msg: 'System is busy, please try again later' })
        : json({ code: '50001', data: [], msg: 'Service temporarily unavailable' }, { status: 503 });
    };
    const { rows } = await collect(
      okx.candles({ symbol: 'BTC', interval: '1m', from: NOW - 10 * MIN - 30_000, to: NOW }),
    );
    expect(rows).toHaveLength(10);
    expect(failures).toBe(-1);
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
