import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as raw from '../../src/clients/okx/schemas.js';
import {
  okxCandles,
  okxFunding,
  okxInstruments,
  okxLongShortRatio,
  okxOpenInterest,
  okxPredictedFunding,
  okxTakerVolume,
} from '../../src/normalize/okx.js';
import { SymbolRegistry } from '../../src/normalize/symbols.js';
import { mswHandlers } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';
import { createOkxSimulator } from '../../src/testing/okx.js';

const BASE = 'http://okx.mock';
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** The simulated present: 2024-06-01 12:00:30 UTC, half a minute into a candle. */
const NOW = Date.UTC(2024, 5, 1, 12, 0, 30);
let clock = NOW;
const market = new SyntheticMarket();
const sim = createOkxSimulator(market, { now: () => clock });
const server = setupServer(...mswHandlers(BASE, sim.handler));

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  clock = NOW;
});
afterAll(() => server.close());

async function get(
  path: string,
  query: Record<string, string | number> = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const url = new URL(path, BASE);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
  const response = await fetch(url);
  return { status: response.status, body: await response.json(), headers: response.headers };
}

async function registry(): Promise<SymbolRegistry> {
  const { body } = await get('/api/v5/public/instruments', { instType: 'SWAP' });
  return new SymbolRegistry(okxInstruments(raw.instruments.parse(body).data));
}

describe('okx simulator: candles', () => {
  it('default: history-candles newest first, default limit 100, the forming candle flagged confirm "0"', async () => {
    const { body } = await get('/api/v5/market/history-candles', { instId: 'BTC-USDT-SWAP', bar: '1m' });
    const rows = raw.candles.parse(body).data;
    expect(rows).toHaveLength(100);
    expect(rows[0]?.[0]).toBe(Date.UTC(2024, 5, 1, 12, 0));
    expect(rows[0]?.[8]).toBe('0');
    expect(rows[1]?.[8]).toBe('1');
    expect(rows.every((r, i) => i === 0 || r[0] < rows[i - 1]![0])).toBe(true);
  });

  it('behavior: limit is capped at 300; after and before are exclusive', async () => {
    const capped = await get('/api/v5/market/history-candles', {
      instId: 'BTC-USDT-SWAP',
      bar: '1m',
      limit: 1000,
    });
    expect(raw.candles.parse(capped.body).data).toHaveLength(300);
    const after = Date.UTC(2024, 4, 1, 10);
    const before = after - 5 * MIN;
    const { body } = await get('/api/v5/market/history-candles', {
      instId: 'BTC-USDT-SWAP',
      bar: '1m',
      after,
      before,
    });
    expect(raw.candles.parse(body).data.map((r) => r[0])).toEqual([1, 2, 3, 4].map((m) => after - m * MIN));
  });

  it('behavior: /market/candles stops after the latest 1,440 rows', async () => {
    const { body } = await get('/api/v5/market/candles', {
      instId: 'BTC-USDT-SWAP',
      bar: '1m',
      after: NOW - 1439 * MIN,
    });
    expect(raw.candles.parse(body).data.map((r) => r[0])).toEqual([Date.UTC(2024, 5, 1, 12) - 1439 * MIN]);
    const older = await get('/api/v5/market/candles', {
      instId: 'BTC-USDT-SWAP',
      bar: '1m',
      after: NOW - 2 * DAY,
    });
    expect(raw.candles.parse(older.body).data).toEqual([]);
  });

  it('behavior: contract volumes of PEPE (ctVal 10,000,000) normalise to the same market', async () => {
    const reg = await registry();
    const instrument = reg.toInstrument('okx', 'PEPE');
    expect(instrument.contractSize).toBe(10_000_000);
    const { body } = await get('/api/v5/market/history-candles', {
      instId: instrument.instrument,
      bar: '1H',
      after: Date.UTC(2024, 5, 1, 10),
      limit: 3,
    });
    const rows = raw.candles.parse(body).data;
    for (const r of rows) expect(Number(r[5]) * 10_000_000).toBeCloseTo(Number(r[6]), 0);
    const candles = okxCandles(rows, { instrument, interval: '1h' });
    expect(candles.map((c) => c.ts)).toEqual([7, 8, 9].map((h) => Date.UTC(2024, 5, 1, h)));
    for (const c of candles) {
      const m = market.candle('PEPE', c.ts, HOUR);
      expect(c).toMatchObject({ open: m.open, high: m.high, low: m.low, close: m.close, volume: m.volume });
    }
  });

  it('behavior: 1Dutc opens at UTC midnight, 1D at 16:00 UTC', async () => {
    const utc = await get('/api/v5/market/history-candles', {
      instId: 'BTC-USDT-SWAP',
      bar: '1Dutc',
      limit: 2,
    });
    const hk = await get('/api/v5/market/history-candles', { instId: 'BTC-USDT-SWAP', bar: '1D', limit: 2 });
    expect(raw.candles.parse(utc.body).data.map((r) => r[0])).toEqual([
      Date.UTC(2024, 5, 1),
      Date.UTC(2024, 4, 31),
    ]);
    expect(raw.candles.parse(hk.body).data.map((r) => r[0])).toEqual([
      Date.UTC(2024, 4, 31, 16),
      Date.UTC(2024, 4, 30, 16),
    ]);
  });

  it('error: an unknown instId is 51001 and a bad bar 51000, both with HTTP 200', async () => {
    const unknown = await get('/api/v5/market/history-candles', { instId: 'NOPE-USDT-SWAP' });
    expect(unknown.status).toBe(200);
    expect(raw.envelopeError(unknown.body)).toEqual({
      code: '51001',
      msg: "Instrument ID, Instrument ID code, or Spread ID doesn't exist.",
      data: [],
    });
    const bar = await get('/api/v5/market/history-candles', { instId: 'BTC-USDT-SWAP', bar: '1h' });
    expect(bar.status).toBe(200);
    expect(raw.envelopeError(bar.body)?.code).toBe('51000');
  });
});

describe('okx simulator: funding', () => {
  const instrument = {
    exchange: 'okx',
    instrument: 'BTC-USDT-SWAP',
    symbol: 'BTC',
    quote: 'USDT',
    multiplier: 1,
    contractSize: 0.01,
  } as const;

  it('default: newest first, realizedRate equals the market, about three months deep', async () => {
    const { body } = await get('/api/v5/public/funding-rate-history', { instId: 'BTC-USDT-SWAP', limit: 3 });
    const rows = raw.fundingHistory.parse(body).data;
    expect(rows.map((r) => r.fundingTime)).toEqual([8, 0, -8].map((h) => Date.UTC(2024, 5, 1, h)));
    for (const r of okxFunding(rows, { instrument })) expect(r.rate).toBe(market.fundingRate('BTC', r.ts));
    expect(rows[0]?.fundingRate).not.toBe(rows[0]?.realizedRate);
    const old = await get('/api/v5/public/funding-rate-history', {
      instId: 'BTC-USDT-SWAP',
      after: NOW - 91 * DAY,
    });
    expect(raw.fundingHistory.parse(old.body).data).toEqual([]);
  });

  it('default: the current rate settles at fundingTime', async () => {
    const { body } = await get('/api/v5/public/funding-rate', { instId: 'BTC-USDT-SWAP' });
    const [predicted] = okxPredictedFunding(raw.fundingRate.parse(body).data, { instrument });
    expect(predicted).toEqual({
      source: 'okx',
      exchange: 'okx',
      symbol: 'BTC',
      ts: NOW,
      rate: market.fundingRate('BTC', Date.UTC(2024, 5, 1, 16)),
      nextFundingTime: Date.UTC(2024, 5, 1, 16),
    });
  });
});

describe('okx simulator: rubik statistics', () => {
  it('default: open interest keeps the latest 1,440 rows and oiCcy equals the market', async () => {
    const reg = await registry();
    const instrument = reg.toInstrument('okx', 'SHIB');
    const { body } = await get(`/api/v5/rubik/stat/contracts/open-interest-history`, {
      instId: instrument.instrument,
      period: '5m',
      limit: 500,
    });
    const rows = raw.openInterestHistory.parse(body).data;
    expect(rows).toHaveLength(100);
    expect(rows[0]?.[0]).toBe(Date.UTC(2024, 5, 1, 12));
    const oi = okxOpenInterest(rows, { instrument, interval: '5m' });
    for (const r of oi) expect(r.openInterest).toBe(market.openInterest('SHIB', r.ts));
    const newest = Date.UTC(2024, 5, 1, 12);
    const edge = await get(`/api/v5/rubik/stat/contracts/open-interest-history`, {
      instId: instrument.instrument,
      period: '5m',
      end: newest - 1438 * 5 * MIN,
    });
    expect(raw.openInterestHistory.parse(edge.body).data.map((r) => r[0])).toEqual([newest - 1439 * 5 * MIN]);
  });

  it('default: the three long/short populations give long / short of the market', async () => {
    const paths = {
      global: 'long-short-account-ratio-contract',
      topAccount: 'long-short-account-ratio-contract-top-trader',
      topPosition: 'long-short-position-ratio-contract-top-trader',
    } as const;
    const instrument = {
      exchange: 'okx',
      instrument: 'ETH-USDT-SWAP',
      symbol: 'ETH',
      quote: 'USDT',
      multiplier: 1,
      contractSize: 0.1,
    } as const;
    for (const [kind, path] of Object.entries(paths) as [keyof typeof paths, string][]) {
      const { body } = await get(`/api/v5/rubik/stat/contracts/${path}`, {
        instId: 'ETH-USDT-SWAP',
        period: '1H',
        limit: 5,
      });
      const out = okxLongShortRatio(raw.longShortRatio.parse(body).data, {
        instrument,
        interval: '1h',
        kind,
      });
      expect(out).toHaveLength(5);
      for (const r of out) {
        const long = market.longShare('ETH', r.ts, kind);
        expect(r.ratio).toBeCloseTo(long / (1 - long), 12);
        expect(r.kind).toBe(kind);
      }
    }
  });

  it('behavior: taker volume is sell first, closed periods only, in the unit asked for', async () => {
    const reg = await registry();
    const instrument = reg.toInstrument('okx', 'BTC');
    const contracts = await get('/api/v5/rubik/stat/taker-volume-contract', {
      instId: 'BTC-USDT-SWAP',
      period: '1H',
      limit: 2,
    });
    const coins = await get('/api/v5/rubik/stat/taker-volume-contract', {
      instId: 'BTC-USDT-SWAP',
      period: '1H',
      limit: 2,
      unit: 0,
    });
    const a = raw.takerVolume.parse(contracts.body).data;
    const b = raw.takerVolume.parse(coins.body).data;
    expect(a.map((r) => r[0])).toEqual([Date.UTC(2024, 5, 1, 11), Date.UTC(2024, 5, 1, 10)]);
    const fromContracts = okxTakerVolume(a, { instrument, interval: '1h', unit: 'contracts', now: NOW });
    const fromCoins = okxTakerVolume(b, { instrument, interval: '1h', unit: 'coin', now: NOW });
    for (const [i, r] of fromCoins.entries()) {
      const v = market.takerVolume('BTC', r.ts, HOUR);
      expect(r.sellVolume).toBe(v.sell);
      expect(r.buyVolume).toBe(v.buy);
      expect(fromContracts[i]!.sellVolume).toBeCloseTo(v.sell, 9);
      expect(fromContracts[i]!.buyVolume).toBeCloseTo(v.buy, 9);
    }
    expect(Number(b[0]![1])).toBe(market.takerVolume('BTC', Date.UTC(2024, 5, 1, 11), HOUR).sell);
  });
});

describe('okx simulator: rate limits', () => {
  it('error: the 21st history-candles request in 2 s is 429 + 50011, other buckets are untouched', async () => {
    const own = createOkxSimulator(market, { now: () => clock });
    const call = (path: string) => own.handler(new Request(`${BASE}${path}`), 'egress-a');
    const candles = '/api/v5/market/history-candles?instId=BTC-USDT-SWAP&limit=1';
    for (let i = 0; i < 20; i++) expect((await call(candles)).status).toBe(200);
    const refused = await call(candles);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(await refused.json()).toEqual({ msg: 'Too Many Requests', code: '50011' });
    expect((await call('/api/v5/public/time')).status).toBe(200);
    clock = NOW + 2_000;
    expect((await call(candles)).status).toBe(200);
    expect(own.stats.rateLimited).toBe(1);
  });

  it('behavior: IP + instId buckets count per instrument', async () => {
    const own = createOkxSimulator(market, { now: () => clock });
    const call = (instId: string) =>
      own.handler(
        new Request(`${BASE}/api/v5/rubik/stat/taker-volume-contract?instId=${instId}`),
        'egress-a',
      );
    for (let i = 0; i < 5; i++) expect((await call('BTC-USDT-SWAP')).status).toBe(200);
    expect((await call('BTC-USDT-SWAP')).status).toBe(429);
    expect((await call('ETH-USDT-SWAP')).status).toBe(200);
  });

  it('behavior: the 200 variant of 50011 is an error body too', async () => {
    const own = createOkxSimulator(market, {
      now: () => clock,
      rateLimitStatus: 200,
      rateLimits: { '/api/v5/public/time': 1 },
    });
    await own.handler(new Request(`${BASE}/api/v5/public/time`), 'x');
    const second = await own.handler(new Request(`${BASE}/api/v5/public/time`), 'x');
    expect(second.status).toBe(200);
    expect(raw.envelopeError(await second.json())?.code).toBe('50011');
  });
});

describe('okx simulator: instruments', () => {
  it('default: linear USDT swaps with ctVal; inverse and preopen rows are listed but not mapped', async () => {
    const { body } = await get('/api/v5/public/instruments', { instType: 'SWAP' });
    const rows = raw.instruments.parse(body).data;
    expect(rows.map((r) => r.instId)).toContain('BTC-USD-SWAP');
    expect(rows.map((r) => r.instId)).toContain('NEWCOIN-USDT-SWAP');
    expect(okxInstruments(rows).map((i) => [i.instrument, i.symbol, i.contractSize])).toEqual([
      ['BTC-USDT-SWAP', 'BTC', 0.01],
      ['ETH-USDT-SWAP', 'ETH', 0.1],
      ['PEPE-USDT-SWAP', 'PEPE', 10_000_000],
      ['SHIB-USDT-SWAP', 'SHIB', 1_000_000],
    ]);
    const missing = await get('/api/v5/public/instruments');
    expect(raw.envelopeError(missing.body)?.code).toBe('50014');
  });
});
