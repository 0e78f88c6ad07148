import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BinanceClient } from '../../src/clients/binance/rest.js';
import {
  HistoryRangeError,
  InvalidArgumentError,
  UnknownSymbolError,
  UnsupportedError,
  ValidationError,
} from '../../src/core/errors.js';
import type { Candle } from '../../src/core/types.js';
import { decodeBinanceKlines } from '../../src/normalize/binance.js';
import { SymbolRegistry } from '../../src/normalize/symbols.js';
import { createBinanceSimulator } from '../../src/testing/binance.js';
import { json, mswHandlers } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';
import { collect } from './helpers.js';

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

function expectSeries(candles: Candle[], from: number, count: number, symbol: string) {
  expect(candles).toHaveLength(count);
  candles.forEach((c, i) => {
    const ts = from + i * MIN;
    const m = market.candle(symbol, ts, MIN);
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

describe('BinanceClient.candles', () => {
  it('default: a range of exactly two pages returns every candle once, in order, with venue values', async () => {
    const binance = client();
    const from = Date.UTC(2024, 4, 20);
    const before = sim.stats.requests;
    const { rows, pages } = await collect(
      binance.candles({ symbol: 'BTC', interval: '1m', from, to: from + 2 * 499 * MIN }),
    );
    expectSeries(rows, from, 998, 'BTC');
    expect(pages).toBe(2);
    // exchangeInfo once, then exactly two kline pages.
    expect(sim.stats.requests - before).toBe(3);
    await binance.close();
  });

  it('behavior: multiplier contracts give prices per one PEPE and volume in PEPE', async () => {
    const binance = client();
    const from = Date.UTC(2024, 4, 20, 3);
    const { rows } = await collect(
      binance.candles({ symbol: 'PEPE', interval: '1m', from, to: from + 10 * MIN }),
    );
    expectSeries(rows, from, 10, 'PEPE');
    expect(rows[0]!.open).toBeLessThan(0.001);
    await binance.close();
  });

  it('behavior: off-by-one-ms bounds are half-open on open time', async () => {
    const binance = client();
    const t = Date.UTC(2024, 4, 20, 6);
    const a = await collect(
      binance.candles({ symbol: 'BTC', interval: '1m', from: t + 1, to: t + 3 * MIN + 1 }),
    );
    expect(a.rows.map((c) => c.ts)).toEqual([t + MIN, t + 2 * MIN, t + 3 * MIN]);
    const b = await collect(binance.candles({ symbol: 'BTC', interval: '1m', from: t, to: t + 3 * MIN }));
    expect(b.rows.map((c) => c.ts)).toEqual([t, t + MIN, t + 2 * MIN]);
    await binance.close();
  });

  it('behavior: a range inside one page costs one request of the smallest weight', async () => {
    const binance = client();
    await binance.registry();
    const before = { requests: sim.stats.requests, weight: sim.stats.weight };
    const t = Date.UTC(2024, 4, 21);
    const { rows, pages } = await collect(
      binance.candles({ symbol: 'ETH', interval: '5m', from: t, to: t + 50 * 5 * MIN }),
    );
    expect(rows).toHaveLength(50);
    expect(pages).toBe(1);
    expect(sim.stats.requests - before.requests).toBe(1);
    expect(sim.stats.weight - before.weight).toBe(1);
    await binance.close();
  });

  it('behavior: an empty range yields nothing ([t, t) too); an inverted one is an InvalidArgumentError', async () => {
    const binance = client();
    const forming = Math.floor(NOW / MIN) * MIN;
    expect(
      (await collect(binance.candles({ symbol: 'BTC', interval: '1m', from: forming, to: forming + MIN })))
        .rows,
    ).toEqual([]);
    expect(
      (await collect(binance.candles({ symbol: 'BTC', interval: '1m', from: forming, to: forming }))).rows,
    ).toEqual([]);
    await expect(
      collect(binance.candles({ symbol: 'BTC', interval: '1m', from: forming + MIN, to: forming })),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await binance.close();
  });

  it('behavior: a range that starts before listing starts at the first candle', async () => {
    const binance = client();
    const listed = market.asset('PEPE')!.listedAt;
    const { rows } = await collect(
      binance.candles({
        symbol: 'PEPE',
        interval: '1h',
        from: listed - 30 * 24 * 60 * MIN,
        to: listed + 5 * 60 * MIN,
      }),
    );
    expect(rows.map((c) => c.ts)).toEqual([0, 1, 2, 3, 4].map((i) => listed + i * 60 * MIN));
    await binance.close();
  });

  it('behavior: a venue-side hole is skipped, not looped on, and stays visible as missing timestamps', async () => {
    const binance = client();
    const from = HOLE.from - 5 * MIN;
    const to = HOLE.to + 5 * MIN;
    const before = sim.stats.requests;
    const { rows } = await collect(binance.candles({ symbol: 'ETH', interval: '1m', from, to }));
    const present = new Set(rows.map((c) => c.ts));
    expect(rows).toHaveLength(10);
    for (let ts = HOLE.from; ts < HOLE.to; ts += MIN) expect(present.has(ts)).toBe(false);
    expect(sim.stats.requests - before).toBeLessThanOrEqual(2);
    await binance.close();
  });

  it('behavior: a range ending in the future stops at the last closed candle', async () => {
    const binance = client();
    const from = Math.floor(NOW / MIN) * MIN - 600 * MIN;
    const { rows } = await collect(
      binance.candles({ symbol: 'BTC', interval: '1m', from, to: NOW + 3_600_000 }),
    );
    expect(rows).toHaveLength(600);
    expect(rows.at(-1)!.ts).toBe(Math.floor(NOW / MIN) * MIN - MIN);
    await binance.close();
  });

  it('error: an unknown symbol fails before any data request', async () => {
    const binance = client();
    await binance.registry();
    const before = sim.stats.requests;
    await expect(
      collect(binance.candles({ symbol: 'NOPE', interval: '1m', from: NOW - 3_600_000, to: NOW })),
    ).rejects.toBeInstanceOf(UnknownSymbolError);
    expect(sim.stats.requests).toBe(before);
    await binance.close();
  });

  it('error: -1121 from the venue is an UnknownSymbolError and is not retried', async () => {
    const registry = new SymbolRegistry([
      { exchange: 'binance', instrument: 'GHOSTUSDT', symbol: 'GHOST', quote: 'USDT', multiplier: 1 },
    ]);
    const binance = client({ registry });
    let klineCalls = 0;
    intercept = (url) => {
      if (url.pathname === '/fapi/v1/klines') klineCalls++;
      return undefined;
    };
    const error = await collect(
      binance.candles({ symbol: 'GHOST', interval: '1m', from: NOW - 3_600_000, to: NOW }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(UnknownSymbolError);
    expect(error.message).toContain('GHOSTUSDT');
    expect(klineCalls).toBe(1);
    await binance.close();
  });

  it('error: a drifting payload is a ValidationError naming the endpoint, never retried', async () => {
    const binance = client();
    await binance.registry();
    let calls = 0;
    intercept = (url) => {
      if (url.pathname !== '/fapi/v1/klines') return undefined;
      calls++;
      return json([[NOW - 120_000, '1', '2', '0.5', '1.5', '', NOW - 60_001, '10', 'many', '1', '1', '0']]);
    };
    const error = await collect(
      binance.candles({ symbol: 'BTC', interval: '1m', from: NOW - 3 * MIN, to: NOW }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.endpoint).toBe('/fapi/v1/klines');
    expect(error.sample).toContain('many');
    expect(calls).toBe(1);
    await binance.close();
  });

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

  it('behavior: 5xx is retried and the page still arrives', async () => {
    const binance = client();
    await binance.registry();
    let failures = 2;
    intercept = (url) =>
      url.pathname === '/fapi/v1/klines' && failures-- > 0
        ? json({ code: -1001, msg: 'Internal error' }, { status: 503 })
        : undefined;
    const { rows } = await collect(
      binance.candles({ symbol: 'BTC', interval: '1m', from: NOW - 10 * MIN - 30_000, to: NOW }),
    );
    expect(rows).toHaveLength(10);
    expect(failures).toBe(-1);
    await binance.close();
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
