import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BinanceClient } from '../../src/clients/binance/rest.js';
import { HistoryRangeError, UnsupportedError, ValidationError } from '../../src/core/errors.js';
import type { Candle } from '../../src/core/types.js';
import { decodeBinanceKlines } from '../../src/normalize/binance.js';
import { createBinanceSimulator } from '../../src/testing/binance.js';
import { json, mswHandlers } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';
import { collect } from './helpers.js';
import { venueContract } from './venue-contract.js';

const BASE = 'http://binance.mock';
const MIN = 60_000;
/** The simulated present: 2024-06-01 12:00:30 UTC, half a minute into a candle. */
const NOW = Date.UTC(2024, 5, 1, 12, 0, 30);
const HOLE = { symbol: 'ETH', from: Date.UTC(2024, 4, 1, 10), to: Date.UTC(2024, 4, 1, 10, 17) };
const market = new SyntheticMarket({ holes: [HOLE] });
let intercept: ((url: URL) => Response | undefined) | undefined;
const sim = createBinanceSimulator(market, { now: () => NOW, intercept: (url) => intercept?.(url) });
const server = setupServer(...mswHandlers(BASE, sim.handler));

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  intercept = undefined;
});
afterAll(() => server.close());

const client = (extra: ConstructorParameters<typeof BinanceClient>[0] = {}) =>
  new BinanceClient({ baseUrl: BASE, now: () => NOW, retryDelayMs: 1, ...extra });

function expectSeries(candles: Candle[], from: number, count: number, symbol: string, ms = MIN) {
  expect(candles).toHaveLength(count);
  candles.forEach((c, i) => {
    const ts = from + i * ms;
    const m = market.candle(symbol, ts, ms);
    expect(c.ts).toBe(ts);
    expect(c.open).toBeCloseTo(m.open, 12);
    expect(c.close).toBeCloseTo(m.close, 12);
    expect(c.high).toBeCloseTo(m.high, 12);
    expect(c.low).toBeCloseTo(m.low, 12);
    expect(c.volume / m.volume).toBeCloseTo(1, 12);
    expect(c.takerBuyVolume! / Math.max(m.takerBuyVolume, 1e-12)).toBeCloseTo(
      m.takerBuyVolume === 0 ? 0 : 1,
      12,
    );
  });
}

const KLINES = '/fapi/v1/klines';
const HOUR = 60 * MIN;

venueContract({
  name: 'BinanceClient.candles',
  client,
  market,
  now: NOW,
  hole: HOLE,
  intercept: (fn) => {
    intercept = fn;
  },
  sim,
  isCandlePath: (url) => url.pathname === KLINES,
  // The simulator counts requests, not paths; the cases that count candle requests load the registry
  // first or count exchangeInfo in.
  candleCalls: () => sim.stats.requests,
  expectSeries,
  // exchangeInfo once, then exactly two kline pages.
  twoPages: { pageRows: 499, loadRegistry: false, requests: 3 },
  multiplier: { contracts: '1000PEPEUSDT', reads: [{ symbol: 'PEPE', interval: '1m', count: 10, ms: MIN }] },
  halfOpen: { t: Date.UTC(2024, 4, 20, 6) },
  onePage: { what: 'of the smallest weight', check: () => {}, weight: () => sim.stats.weight },
  holeRead: { loadRegistry: false, calls: (n) => expect(n).toBeLessThanOrEqual(2) },
  future: { note: 'candle' },
  unknownSymbol: true,
  venueUnknownSymbol: {
    what: '-1121 from the venue',
    instrument: {
      exchange: 'binance',
      instrument: 'GHOSTUSDT',
      symbol: 'GHOST',
      quote: 'USDT',
      multiplier: 1,
    },
    from: NOW - HOUR,
    to: NOW,
  },
  drift: {
    reply: () =>
      json([[NOW - 120_000, '1', '2', '0.5', '1.5', '', NOW - 60_001, '10', 'many', '1', '1', '0']]),
    endpoint: KLINES,
    interval: '1m',
    from: NOW - 3 * MIN,
    to: NOW,
    sample: 'many',
  },
  retried: {
    what: '5xx is',
    replies: () => [
      json({ code: -1001, msg: 'Internal error' }, { status: 503 }),
      json({ code: -1001, msg: 'Internal error' }, { status: 503 }),
    ],
  },
});

describe('BinanceClient.candles', () => {
  it('error: a blank price is a ValidationError, never a price of 0', async () => {
    const binance = client();
    await binance.registry();
    intercept = (url) =>
      url.pathname === '/fapi/v1/klines'
        ? json([[NOW - 120_000, '', '2', '0.5', '1.5', '3', NOW - 60_001, '10', 4, '1', '1', '0']])
        : undefined;
    const error = await collect(
      binance.candles({ symbol: 'BTC', interval: '1m', from: NOW - 3 * MIN, to: NOW }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain('open is not a finite number');
    await binance.close();
  });

  it('behavior: a page outside the byte decoder (escapes, spacing, exponents) gives the same candles', async () => {
    const from = Date.UTC(2024, 4, 20, 5);
    const range = { symbol: 'BTC', interval: '1m' as const, from, to: from + 30 * MIN };
    const plain = await collect(client().candles(range));
    const url = `${BASE}/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=${from}&endTime=${range.to - 1}&limit=30`;
    const rows = (await (await sim.handler(new Request(url), 'test')).json()) as unknown[][];
    // The same rows with spacing, a \u-escaped digit and a trade count written as `n.0`: valid JSON
    // the decoder does not take, so the general path reads it.
    const text = `[\n${rows
      .map(
        (row, i) =>
          `  [ ${row
            .map((v, j) => {
              if (i === 0 && j === 1)
                return `"\\u${(v as string).charCodeAt(0).toString(16).padStart(4, '0')}${(v as string).slice(1)}"`;
              if (i === 1 && j === 8) return `${v}.0`;
              return JSON.stringify(v);
            })
            .join(', ')} ]`,
      )
      .join(',\n')}\n]`;
    let served = 0;
    intercept = (u) => {
      if (u.pathname !== '/fapi/v1/klines') return undefined;
      served++;
      return new Response(text, { headers: { 'content-type': 'application/json' } });
    };
    const general = await collect(client().candles(range));
    expect(served).toBe(1);
    const instrument = (await client().registry()).toInstrument('binance', 'BTC');
    expect(
      decodeBinanceKlines(new TextEncoder().encode(text), { instrument, interval: '1m' }),
    ).toBeUndefined();
    expect(general.rows).toHaveLength(30);
    expect(general.rows).toEqual(plain.rows);
  });
});

describe('BinanceClient other kinds', () => {
  it('default: funding times are snapped to the grid, ascending, without duplicates across windows', async () => {
    const binance = client();
    const from = Date.UTC(2024, 0, 1);
    const to = Date.UTC(2024, 5, 1);
    const { rows, pages } = await collect(binance.funding({ symbol: 'BTC', from, to }));
    expect(pages).toBeGreaterThan(1);
    expect(rows).toHaveLength((to - from) / (8 * 60 * MIN));
    rows.forEach((r, i) => {
      expect(r.ts).toBe(from + i * 8 * 60 * MIN);
      expect(r.rate).toBeCloseTo(market.fundingRate('BTC', r.ts), 12);
    });
    await binance.close();
  });

  it('default: open interest, long/short ratios and taker volume in base units', async () => {
    const binance = client();
    const from = Date.UTC(2024, 4, 25);
    const to = from + 600 * 5 * MIN;
    const oi = await collect(binance.openInterest({ symbol: 'PEPE', interval: '5m', from, to }));
    expect(oi.rows).toHaveLength(600);
    expect(oi.rows[7]!.openInterest / market.openInterest('PEPE', oi.rows[7]!.ts)).toBeCloseTo(1, 9);
    const ls = await collect(
      binance.longShortRatio({ symbol: 'BTC', interval: '1h', from, to, kind: 'topPosition' }),
    );
    expect(ls.rows[0]!.kind).toBe('topPosition');
    expect(ls.rows[0]!.longShare).toBeCloseTo(market.longShare('BTC', ls.rows[0]!.ts, 'topPosition'), 9);
    const tv = await collect(
      binance.takerVolume({ symbol: 'BTC', interval: '5m', from, to: from + 20 * 5 * MIN }),
    );
    const expected = market.takerVolume('BTC', from, 5 * MIN);
    expect(tv.rows[0]!.buyVolume).toBeCloseTo(expected.buy, 9);
    expect(tv.rows[0]!.sellVolume).toBeCloseTo(expected.sell, 9);
    await binance.close();
  });

  it('behavior: statistics older than 30 days are clamped with a warning by default', async () => {
    const warnings: string[] = [];
    const binance = client({ onWarning: (w) => warnings.push(w.code) });
    const { rows } = await collect(
      binance.openInterest({ symbol: 'BTC', interval: '1h', from: Date.UTC(2024, 0, 1), to: NOW }),
    );
    expect(warnings).toEqual(['RANGE_CLAMPED']);
    expect(rows[0]!.ts).toBeGreaterThanOrEqual(NOW - 30 * 24 * 60 * MIN);
    expect(rows.at(-1)!.ts).toBe(Math.floor(NOW / 3_600_000) * 3_600_000 - 3_600_000);
    await binance.close();
  });

  it("error: outOfRange 'throw' raises HistoryRangeError", async () => {
    const binance = client({ outOfRange: 'throw' });
    await expect(
      collect(binance.openInterest({ symbol: 'BTC', interval: '1h', from: Date.UTC(2024, 0, 1), to: NOW })),
    ).rejects.toBeInstanceOf(HistoryRangeError);
    await binance.close();
  });

  it('error: liquidations and a 1m statistics period are UnsupportedError', async () => {
    const binance = client();
    await expect(
      collect(binance.liquidations({ symbol: 'BTC', interval: '1m', from: NOW - 3_600_000, to: NOW })),
    ).rejects.toBeInstanceOf(UnsupportedError);
    await expect(
      collect(binance.openInterest({ symbol: 'BTC', interval: '1m', from: NOW - 3_600_000, to: NOW })),
    ).rejects.toBeInstanceOf(UnsupportedError);
    await binance.close();
  });

  it('default: predicted funding and instruments with multiplier mapping', async () => {
    const binance = client();
    const { rows } = await collect(binance.predictedFunding({ symbol: 'BTC' }));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.nextFundingTime! % (8 * 60 * MIN)).toBe(0);
    const instruments = await binance.instruments();
    expect(instruments.find((i) => i.instrument === '1000PEPEUSDT')).toMatchObject({
      symbol: 'PEPE',
      multiplier: 1000,
    });
    expect(instruments.some((i) => i.quote === 'USDC')).toBe(false);
    expect(await binance.serverTime()).toBe(NOW);
    await binance.close();
  });
});
