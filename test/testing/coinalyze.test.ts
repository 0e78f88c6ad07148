import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as bybitRaw from '../../src/clients/bybit/schemas.js';
import * as raw from '../../src/clients/coinalyze/schemas.js';
import { bybitCandles } from '../../src/normalize/bybit.js';
import {
  coinalyzeCandles,
  coinalyzeFunding,
  coinalyzeHistoryOf,
  coinalyzeInstruments,
  coinalyzeLiquidations,
  coinalyzeLongShortRatio,
  coinalyzeOpenInterest,
  coinalyzePredictedFunding,
} from '../../src/normalize/coinalyze.js';
import { SymbolRegistry } from '../../src/normalize/symbols.js';
import { createBybitSimulator } from '../../src/testing/bybit.js';
import { createCoinalyzeSimulator } from '../../src/testing/coinalyze.js';
import { mswHandlers } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';

const BASE = 'http://coinalyze.mock/v1';
const BYBIT = 'http://bybit.mock';
const KEY = 'test-key';
const MIN = 60_000;
const HOUR = 60 * MIN;
/** The simulated present: 2024-06-01 12:00:30 UTC, half a minute into a candle. */
const NOW = Date.UTC(2024, 5, 1, 12, 0, 30);
const S = (ms: number) => Math.floor(ms / 1000);
let clock = NOW;
const market = new SyntheticMarket();
const sim = createCoinalyzeSimulator(market, { now: () => clock, callLimit: 10_000 });
const bybit = createBybitSimulator(market, { now: () => clock });
const server = setupServer(...mswHandlers(BASE, sim.handler), ...mswHandlers(BYBIT, bybit.handler));

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  clock = NOW;
});
afterAll(() => server.close());

async function get(
  path: string,
  query: Record<string, string | number> = {},
  headers: Record<string, string> = { api_key: KEY },
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const url = new URL(`${BASE}${path}`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
  const response = await fetch(url, { headers });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

async function registry(): Promise<SymbolRegistry> {
  const { body } = await get('/future-markets');
  return new SymbolRegistry(coinalyzeInstruments(raw.futureMarkets.parse(body)));
}

describe('coinalyze simulator: auth and budget', () => {
  it('error: no key or a wrong key is 401 with the recorded body', async () => {
    for (const headers of [{}, { api_key: 'wrong' }]) {
      const { status, body } = await get('/exchanges', {}, headers);
      expect(status).toBe(401);
      expect(body).toEqual({ message: 'Invalid/Missing API key' });
    }
    const viaQuery = await get('/exchanges', { api_key: KEY }, {});
    expect(viaQuery.status).toBe(200);
  });

  it('error: 40 symbol-calls per minute per key, then 429 with Retry-After', async () => {
    const own = createCoinalyzeSimulator(market, { now: () => clock, apiKeys: ['a', 'b'] });
    const twenty = Array.from({ length: 20 }, () => 'BTCUSDT.6').join(',');
    const call = (key: string) =>
      own.handler(
        new Request(
          `${BASE}/ohlcv-history?symbols=${twenty}&interval=1hour&from=${S(NOW - HOUR)}&to=${S(NOW)}`,
          {
            headers: { api_key: key },
          },
        ),
        'direct',
      );
    expect((await call('a')).status).toBe(200);
    expect((await call('a')).status).toBe(200);
    const refused = await call('a');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect((await call('b')).status).toBe(200);
    clock = Date.UTC(2024, 5, 1, 12, 1);
    expect((await call('a')).status).toBe(200);
    expect(own.stats.callsByKey.get('a')).toBe(60);
  });

  it('error: more than 20 symbols is 400', async () => {
    const symbols = Array.from({ length: 21 }, () => 'BTCUSDT.6').join(',');
    const { status, body } = await get('/ohlcv-history', {
      symbols,
      interval: '1hour',
      from: S(NOW - HOUR),
      to: S(NOW),
    });
    expect(status).toBe(400);
    expect(raw.errorMessage(body)).toBeTypeOf('string');
  });
});

describe('coinalyze simulator: history', () => {
  it('default: ascending, seconds, from/to inclusive, the forming bucket included', async () => {
    const from = Date.UTC(2024, 5, 1, 8);
    const { body } = await get('/ohlcv-history', {
      symbols: 'BTCUSDT_PERP.A',
      interval: '1hour',
      from: S(from),
      to: S(NOW),
    });
    const history = coinalyzeHistoryOf(raw.ohlcvHistory.parse(body), 'BTCUSDT_PERP.A');
    expect(history.map((h) => h.t)).toEqual([8, 9, 10, 11, 12].map((h) => S(Date.UTC(2024, 5, 1, h))));
    const exact = await get('/ohlcv-history', {
      symbols: 'BTCUSDT_PERP.A',
      interval: '1hour',
      from: S(from),
      to: S(from + HOUR),
    });
    expect(coinalyzeHistoryOf(raw.ohlcvHistory.parse(exact.body), 'BTCUSDT_PERP.A')).toHaveLength(2);
    const candles = coinalyzeCandles(history, {
      instrument: {
        exchange: 'binance',
        instrument: 'BTCUSDT_PERP.A',
        symbol: 'BTC',
        quote: 'USDT',
        multiplier: 1,
      },
      interval: '1h',
      now: NOW,
    });
    expect(candles.map((c) => c.ts)).toEqual([8, 9, 10, 11].map((h) => Date.UTC(2024, 5, 1, h)));
  });

  it('behavior: intraday history keeps 1,500 buckets, daily keeps everything', async () => {
    const { body } = await get('/ohlcv-history', {
      symbols: 'BTCUSDT.6',
      interval: '1min',
      from: S(NOW - 3 * 24 * HOUR),
      to: S(NOW),
    });
    const minutes = coinalyzeHistoryOf(raw.ohlcvHistory.parse(body), 'BTCUSDT.6');
    expect(minutes).toHaveLength(1500);
    expect(minutes[0]?.t).toBe(S(Date.UTC(2024, 5, 1, 12) - 1499 * MIN));
    const daily = await get('/ohlcv-history', {
      symbols: 'BTCUSDT.6',
      interval: 'daily',
      from: S(Date.UTC(2020, 0, 1)),
      to: S(NOW),
    });
    expect(coinalyzeHistoryOf(raw.ohlcvHistory.parse(daily.body), 'BTCUSDT.6')[0]?.t).toBe(
      S(Date.UTC(2020, 0, 1)),
    );
  });

  it('behavior: one element per symbol that has data; unknown and OKX long/short symbols are absent', async () => {
    const { body } = await get('/long-short-ratio-history', {
      symbols: 'BTCUSDT_PERP.A,BTCUSDT_PERP.3,NOPE.6,BTCUSDT.6',
      interval: '1hour',
      from: S(NOW - 2 * HOUR),
      to: S(NOW),
    });
    expect(raw.longShortHistory.parse(body).map((e) => e.symbol)).toEqual(['BTCUSDT_PERP.A', 'BTCUSDT.6']);
  });

  it('error: a bad interval or a missing from is 400', async () => {
    const bad = await get('/ohlcv-history', {
      symbols: 'BTCUSDT.6',
      interval: '1h',
      from: S(NOW - HOUR),
      to: S(NOW),
    });
    expect(bad.status).toBe(400);
    const missing = await get('/ohlcv-history', { symbols: 'BTCUSDT.6', interval: '1hour', to: S(NOW) });
    expect(missing.status).toBe(400);
  });
});

describe('coinalyze simulator: the same market as the venues', () => {
  it('default: SHIB1000USDT.6 candles equal the Bybit simulator’s SHIB1000USDT after normalisation', async () => {
    const reg = await registry();
    const instrument = reg.toInstrument('bybit', 'SHIB');
    expect(instrument).toMatchObject({ instrument: 'SHIB1000USDT.6', multiplier: 1000 });
    const from = Date.UTC(2024, 5, 1, 6);
    const { body } = await get('/ohlcv-history', {
      symbols: instrument.instrument,
      interval: '1hour',
      from: S(from),
      to: S(NOW),
    });
    const viaCoinalyze = coinalyzeCandles(
      coinalyzeHistoryOf(raw.ohlcvHistory.parse(body), instrument.instrument),
      {
        instrument,
        interval: '1h',
        now: NOW,
      },
    );
    const kline = await fetch(
      `${BYBIT}/v5/market/kline?category=linear&symbol=SHIB1000USDT&interval=60&start=${from}&end=${NOW}`,
    );
    const viaBybit = bybitCandles(bybitRaw.kline.parse(await kline.json()).result.list, {
      instrument: { ...instrument, instrument: 'SHIB1000USDT' },
      interval: '1h',
      now: NOW,
    });
    expect(viaCoinalyze).toHaveLength(6);
    expect(viaCoinalyze.map((c) => c.ts)).toEqual(viaBybit.map((c) => c.ts));
    for (const [i, c] of viaCoinalyze.entries()) {
      const b = viaBybit[i]!;
      for (const field of ['open', 'high', 'low', 'close', 'volume'] as const) {
        expect(c[field] / b[field]).toBeCloseTo(1, 12);
      }
      expect(c.takerBuyVolume! / market.candle('SHIB', c.ts, HOUR).takerBuyVolume).toBeCloseTo(1, 12);
    }
  });

  it('default: funding (percent) and predicted funding normalise to the market fractions', async () => {
    const instrument = {
      exchange: 'okx',
      instrument: 'PEPEUSDT_PERP.3',
      symbol: 'PEPE',
      quote: 'USDT',
      multiplier: 1,
    } as const;
    const query = {
      symbols: instrument.instrument,
      interval: '1hour',
      from: S(Date.UTC(2024, 4, 30)),
      to: S(NOW),
    };
    const funding = await get('/funding-rate-history', query);
    const rates = coinalyzeFunding(
      coinalyzeHistoryOf(raw.ohlcHistory.parse(funding.body), instrument.instrument),
      {
        instrument,
        interval: '1h',
        now: NOW,
      },
    );
    expect(rates.map((r) => r.ts)).toEqual(
      [0, 8, 16, 24, 32, 40, 48, 56].map((h) => Date.UTC(2024, 4, 30, h)),
    );
    for (const r of rates) expect(r.rate).toBe(market.fundingRate('PEPE', r.ts));
    const predicted = await get('/predicted-funding-rate-history', query);
    const out = coinalyzePredictedFunding(
      coinalyzeHistoryOf(raw.ohlcHistory.parse(predicted.body), instrument.instrument),
      {
        instrument,
        interval: '1h',
        now: NOW,
      },
    );
    expect(out.at(-1)?.ts).toBe(Date.UTC(2024, 5, 1, 11));
    expect(out.at(-1)?.rate).toBe(market.fundingRate('PEPE', Date.UTC(2024, 5, 1, 16)));
  });

  it('default: open interest in base units (bundles × 1000), USD alongside, liquidations in USD, ratio shares', async () => {
    const reg = await registry();
    const instrument = reg.toInstrument('binance', 'PEPE');
    const query = {
      symbols: instrument.instrument,
      interval: '4hour',
      from: S(Date.UTC(2024, 4, 31)),
      to: S(NOW),
    };
    const base = await get('/open-interest-history', { ...query, convert_to_usd: 'false' });
    const usd = await get('/open-interest-history', { ...query, convert_to_usd: 'true' });
    const oi = coinalyzeOpenInterest(
      coinalyzeHistoryOf(raw.ohlcHistory.parse(base.body), instrument.instrument),
      {
        instrument,
        interval: '4h',
        now: NOW,
        usd: coinalyzeHistoryOf(raw.ohlcHistory.parse(usd.body), instrument.instrument),
      },
    );
    expect(oi).toHaveLength(9);
    for (const r of oi) {
      expect(r.openInterest / market.openInterest('PEPE', r.ts)).toBeCloseTo(1, 12);
      expect(
        r.openInterestUsd! / (market.openInterest('PEPE', r.ts) * market.markPrice('PEPE', r.ts)),
      ).toBeCloseTo(1, 12);
    }
    const liq = await get('/liquidation-history', { ...query, convert_to_usd: 'true' });
    const liquidations = coinalyzeLiquidations(
      coinalyzeHistoryOf(raw.liquidationHistory.parse(liq.body), instrument.instrument),
      {
        instrument,
        interval: '4h',
        now: NOW,
      },
    );
    for (const r of liquidations) {
      expect(r.longUsd).toBe(market.liquidations('PEPE', r.ts).longUsd);
      expect(r.shortUsd).toBe(market.liquidations('PEPE', r.ts).shortUsd);
    }
    const ls = await get('/long-short-ratio-history', query);
    const ratios = coinalyzeLongShortRatio(
      coinalyzeHistoryOf(raw.longShortHistory.parse(ls.body), instrument.instrument),
      {
        instrument,
        interval: '4h',
        now: NOW,
      },
    );
    for (const r of ratios) {
      const long = market.longShare('PEPE', r.ts, 'global');
      expect(r.longShare).toBe(long);
      expect(r.ratio).toBeCloseTo(long / (1 - long), 3);
    }
  });
});
