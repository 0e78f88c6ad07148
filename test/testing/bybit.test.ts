import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as raw from '../../src/clients/bybit/schemas.js';
import {
  bybitCandles,
  bybitFunding,
  bybitInstruments,
  bybitLongShortRatio,
  bybitOpenInterest,
  bybitPredictedFunding,
} from '../../src/normalize/bybit.js';
import { SymbolRegistry } from '../../src/normalize/symbols.js';
import { createBybitSimulator } from '../../src/testing/bybit.js';
import { mswHandlers } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';

const BASE = 'http://bybit.mock';
const MIN = 60_000;
const HOUR = 60 * MIN;
/** The simulated present: 2024-06-01 12:00:30 UTC, half a minute into a candle. */
const NOW = Date.UTC(2024, 5, 1, 12, 0, 30);
let clock = NOW;
const market = new SyntheticMarket();
const sim = createBybitSimulator(market, { now: () => clock });
const server = setupServer(...mswHandlers(BASE, sim.handler));

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  clock = NOW;
});
afterAll(() => server.close());

async function get(
  path: string,
  query: Record<string, string | number> = {},
): Promise<{ status: number; body: unknown }> {
  const url = new URL(path, BASE);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
  const response = await fetch(url);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain-text answers (403) stay strings
  }
  return { status: response.status, body };
}

/** The registry as a client would build it: every page of instruments-info. */
async function registry(): Promise<SymbolRegistry> {
  const list = [];
  let cursor = '';
  do {
    const { body } = await get('/v5/market/instruments-info', {
      category: 'linear',
      ...(cursor ? { cursor } : {}),
    });
    const page = raw.instrumentsInfo.parse(body);
    list.push(...page.result.list);
    cursor = page.result.nextPageCursor ?? '';
  } while (cursor !== '');
  return new SymbolRegistry(bybitInstruments(list));
}

describe('bybit simulator: kline', () => {
  it('default: newest first, the forming candle first, default limit 200', async () => {
    const { status, body } = await get('/v5/market/kline', {
      category: 'linear',
      symbol: 'BTCUSDT',
      interval: '1',
    });
    expect(status).toBe(200);
    const list = raw.kline.parse(body).result.list;
    expect(list).toHaveLength(200);
    expect(list[0]?.[0]).toBe(Date.UTC(2024, 5, 1, 12, 0));
    expect(list[1]?.[0]).toBe(Date.UTC(2024, 5, 1, 11, 59));
    expect(list.every((r, i) => i === 0 || r[0] < list[i - 1]![0])).toBe(true);
  });

  it('behavior: limit is capped at 1000', async () => {
    const { body } = await get('/v5/market/kline', {
      category: 'linear',
      symbol: 'BTCUSDT',
      interval: '1',
      limit: 5000,
    });
    expect(raw.kline.parse(body).result.list).toHaveLength(1000);
  });

  it('behavior: bounds are inclusive and an unaligned start gives the candle containing it', async () => {
    const start = Date.UTC(2024, 4, 1, 0);
    const aligned = await get('/v5/market/kline', {
      category: 'linear',
      symbol: 'BTCUSDT',
      interval: '60',
      start,
      end: start + 2 * HOUR,
    });
    expect(raw.kline.parse(aligned.body).result.list.map((r) => r[0])).toEqual([
      start + 2 * HOUR,
      start + HOUR,
      start,
    ]);
    const unaligned = await get('/v5/market/kline', {
      category: 'linear',
      symbol: 'BTCUSDT',
      interval: '60',
      start: start + 8 * MIN,
      end: start + HOUR + 8 * MIN,
    });
    expect(raw.kline.parse(unaligned.body).result.list.map((r) => r[0])).toEqual([start + HOUR, start]);
  });

  it('behavior: multiplier contracts normalise to the same market (1000PEPEUSDT, SHIB1000USDT)', async () => {
    const reg = await registry();
    for (const symbol of ['PEPE', 'SHIB']) {
      const instrument = reg.toInstrument('bybit', symbol);
      expect(instrument.multiplier).toBe(1000);
      const { body } = await get('/v5/market/kline', {
        category: 'linear',
        symbol: instrument.instrument,
        interval: '60',
        end: Date.UTC(2024, 5, 1, 9),
        limit: 3,
      });
      const candles = bybitCandles(raw.kline.parse(body).result.list, {
        instrument,
        interval: '1h',
        now: NOW,
      });
      expect(candles.map((c) => c.ts)).toEqual([
        Date.UTC(2024, 5, 1, 7),
        Date.UTC(2024, 5, 1, 8),
        Date.UTC(2024, 5, 1, 9),
      ]);
      for (const c of candles) {
        const m = market.candle(symbol, c.ts, HOUR);
        expect(c.open / m.open).toBeCloseTo(1, 12);
        expect(c.close / m.close).toBeCloseTo(1, 12);
        expect(c.volume / m.volume).toBeCloseTo(1, 12);
        expect(c.quoteVolume! / m.quoteVolume).toBeCloseTo(1, 12);
      }
    }
  });

  it('error: an unknown symbol is retCode 10001 inside HTTP 200', async () => {
    const { status, body } = await get('/v5/market/kline', {
      category: 'linear',
      symbol: 'NOPEUSDT',
      interval: '1',
    });
    expect(status).toBe(200);
    expect(raw.envelopeError(body)).toMatchObject({ retCode: 10001, retMsg: 'Not supported symbols' });
    expect(body).toMatchObject({ result: {} });
  });
});

describe('bybit simulator: funding', () => {
  it('error: startTime alone is refused', async () => {
    const { status, body } = await get('/v5/market/funding/history', {
      category: 'linear',
      symbol: 'BTCUSDT',
      startTime: Date.UTC(2024, 4, 1),
    });
    expect(status).toBe(200);
    expect(raw.envelopeError(body)?.retCode).toBe(10001);
  });

  it('default: endTime walks backwards, newest first, values equal the market', async () => {
    const endTime = Date.UTC(2024, 4, 10, 12);
    const { body } = await get('/v5/market/funding/history', {
      category: 'linear',
      symbol: 'BTCUSDT',
      endTime,
      limit: 5,
    });
    const list = raw.fundingHistory.parse(body).result.list;
    expect(list.map((r) => r.fundingRateTimestamp)).toEqual(
      [8, 0, -8, -16, -24].map((h) => Date.UTC(2024, 4, 10, h)),
    );
    const rates = bybitFunding(list, {
      instrument: { exchange: 'bybit', instrument: 'BTCUSDT', symbol: 'BTC', quote: 'USDT', multiplier: 1 },
    });
    expect(rates.map((r) => r.ts)).toEqual([-24, -16, -8, 0, 8].map((h) => Date.UTC(2024, 4, 10, h)));
    for (const r of rates) expect(r.rate).toBe(market.fundingRate('BTC', r.ts));
  });

  it('default: the ticker carries the rate of the next funding time', async () => {
    const { body } = await get('/v5/market/tickers', { category: 'linear', symbol: 'BTCUSDT' });
    const parsed = raw.tickers.parse(body);
    const [predicted] = bybitPredictedFunding(parsed.result.list, {
      instrument: { exchange: 'bybit', instrument: 'BTCUSDT', symbol: 'BTC', quote: 'USDT', multiplier: 1 },
      time: parsed.time,
    });
    expect(predicted).toEqual({
      source: 'bybit',
      exchange: 'bybit',
      symbol: 'BTC',
      ts: NOW,
      rate: market.fundingRate('BTC', Date.UTC(2024, 5, 1, 16)),
      nextFundingTime: Date.UTC(2024, 5, 1, 16),
    });
  });
});

describe('bybit simulator: open interest and ratio', () => {
  it('default: cursor pages cover a window once, two-sided figures halve to the market', async () => {
    const reg = await registry();
    const instrument = reg.toInstrument('bybit', 'PEPE');
    const query = {
      category: 'linear',
      symbol: instrument.instrument,
      intervalTime: '1h',
      startTime: Date.UTC(2024, 4, 1),
      endTime: Date.UTC(2024, 4, 3) - 1,
      limit: 20,
    };
    const rows = [];
    let cursor = '';
    let pages = 0;
    do {
      const { body } = await get('/v5/market/open-interest', { ...query, ...(cursor ? { cursor } : {}) });
      const page = raw.openInterest.parse(body).result;
      expect(page.list.every((r) => r.singleOpenInterest === undefined)).toBe(true);
      rows.push(...page.list);
      cursor = page.nextPageCursor ?? '';
      pages++;
    } while (cursor !== '');
    expect(pages).toBe(3);
    const oi = bybitOpenInterest(rows, { instrument, interval: '1h' });
    expect(oi).toHaveLength(48);
    expect(new Set(oi.map((r) => r.ts)).size).toBe(48);
    expect(oi[0]?.ts).toBe(Date.UTC(2024, 4, 1));
    for (const r of oi) expect(r.openInterest / market.openInterest('PEPE', r.ts)).toBeCloseTo(1, 12);
  });

  it('behavior: the account ratio is newest first and its latest row is the current period', async () => {
    const { body } = await get('/v5/market/account-ratio', {
      category: 'linear',
      symbol: 'ETHUSDT',
      period: '5min',
      limit: 3,
    });
    const page = raw.accountRatio.parse(body).result;
    expect(page.list.map((r) => r.timestamp)).toEqual(
      [0, 5, 10].map((m) => Date.UTC(2024, 5, 1, 12) - m * MIN),
    );
    expect(page.nextPageCursor).not.toBe('');
    const ratios = bybitLongShortRatio(page.list, {
      instrument: { exchange: 'bybit', instrument: 'ETHUSDT', symbol: 'ETH', quote: 'USDT', multiplier: 1 },
      interval: '5m',
    });
    for (const r of ratios) {
      const long = market.longShare('ETH', r.ts, 'global');
      expect(r.longShare).toBe(long);
      expect(r.ratio).toBeCloseTo(long / (1 - long), 3);
    }
  });

  it('error: an interval spelling of another endpoint is refused', async () => {
    const { body } = await get('/v5/market/open-interest', {
      category: 'linear',
      symbol: 'BTCUSDT',
      intervalTime: '60',
    });
    expect(raw.envelopeError(body)?.retCode).toBe(10001);
  });
});

describe('bybit simulator: instruments', () => {
  it('default: the first page holds 500 and a cursor; the multiplier contracts are on a later page', async () => {
    const { body } = await get('/v5/market/instruments-info', { category: 'linear' });
    const page = raw.instrumentsInfo.parse(body).result;
    expect(page.list).toHaveLength(500);
    expect(page.nextPageCursor).not.toBe('');
    expect(page.list.some((i) => i.symbol === 'SHIB1000USDT')).toBe(false);
    const reg = await registry();
    expect(reg.list('bybit').length).toBeGreaterThan(500);
    expect(reg.toInstrument('bybit', 'SHIB')).toMatchObject({ instrument: 'SHIB1000USDT', multiplier: 1000 });
    expect(reg.toInstrument('bybit', 'PEPE')).toMatchObject({ instrument: '1000PEPEUSDT', multiplier: 1000 });
    expect(reg.toInstrument('bybit', '1INCH')).toMatchObject({ instrument: '1INCHUSDT', multiplier: 1 });
    expect(reg.has('bybit', 'NEWCOIN')).toBe(false);
  });
});

describe('bybit simulator: rate limit', () => {
  it('error: the request over 600 in 5 s is answered 403 until the 10-minute ban ends', async () => {
    const own = createBybitSimulator(market, { now: () => clock });
    const request = () => own.handler(new Request(`${BASE}/v5/market/time`), 'egress-a');
    for (let i = 0; i < 600; i++) expect((await request()).status).toBe(200);
    const refused = await request();
    expect(refused.status).toBe(403);
    expect(await refused.text()).toBe('access too frequent');
    clock = NOW + 6_000; // a fresh window does not lift the ban
    expect((await request()).status).toBe(403);
    expect((await own.handler(new Request(`${BASE}/v5/market/time`), 'egress-b')).status).toBe(200);
    clock = NOW + 600_001;
    expect((await request()).status).toBe(200);
    expect(own.stats.status403).toBe(2);
  });
});
