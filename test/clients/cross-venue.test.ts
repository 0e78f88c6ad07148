/**
 * One market, four venues: the same synthetic market is served in Binance, Bybit, OKX and Coinalyze
 * formats (Bybit `1000PEPEUSDT` / `SHIB1000USDT`, Binance `1000PEPEUSDT` / `1000SHIBUSDT`, OKX
 * contracts of `ctVal` coins, Coinalyze symbols of each venue), and the canonical records must come out
 * equal: same ts grid, same units, same values within float tolerance.
 *
 * What a venue cannot serve, and is therefore left out of a comparison (asserted at the end):
 * - taker-buy volume inside candles: Binance and Coinalyze only (Bybit and OKX klines lack it);
 * - long/short shares: OKX reports the ratio only; top-trader ratios: Binance and OKX only;
 *   Coinalyze has no long/short data for OKX instruments (the symbol is absent from its answers);
 * - liquidation history over REST: Coinalyze only (Binance, Bybit and OKX reject with `UnsupportedError`);
 * - granularity: Bybit statistics 5m–1d, OKX rubik 5m and up (latest 1,440 rows), Binance statistics
 *   30 days, Coinalyze intraday ~1,500 buckets — the window below (1h, late May 2024) fits them all.
 */
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinanceClient } from '../../src/clients/binance/rest.js';
import { BybitClient } from '../../src/clients/bybit/rest.js';
import { CoinalyzeClient } from '../../src/clients/coinalyze/rest.js';
import { OkxClient } from '../../src/clients/okx/rest.js';
import { UnsupportedError } from '../../src/core/errors.js';
import type { Exchange } from '../../src/core/types.js';
import { createBinanceSimulator } from '../../src/testing/binance.js';
import { createBybitSimulator } from '../../src/testing/bybit.js';
import { createCoinalyzeSimulator } from '../../src/testing/coinalyze.js';
import { mswHandlers } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';
import { createOkxSimulator } from '../../src/testing/okx.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.UTC(2024, 5, 1, 12, 0, 30);
const FROM = Date.UTC(2024, 4, 28);
const TO = FROM + 48 * HOUR;
const SYMBOLS = ['BTC', 'PEPE', 'SHIB'] as const;
const market = new SyntheticMarket();
const now = () => NOW;
const lifted = { limit: 1_000_000, intervalMs: 60_000 };

const okxPaths = [
  '/api/v5/market/history-candles',
  '/api/v5/public/funding-rate-history',
  '/api/v5/rubik/stat/contracts/open-interest-history',
  '/api/v5/rubik/stat/contracts/long-short-account-ratio-contract',
  '/api/v5/public/instruments',
];
const server = setupServer(
  ...mswHandlers('http://binance.mock', createBinanceSimulator(market, { now, weightLimit: 1e12 }).handler),
  ...mswHandlers('http://bybit.mock', createBybitSimulator(market, { now, requestLimit: 1e9 }).handler),
  ...mswHandlers(
    'http://okx.mock',
    createOkxSimulator(market, { now, rateLimits: Object.fromEntries(okxPaths.map((p) => [p, 1e9])) })
      .handler,
  ),
  ...mswHandlers(
    'http://coinalyze.mock/v1',
    createCoinalyzeSimulator(market, { now, callLimit: 1e9 }).handler,
  ),
);

const binance = new BinanceClient({ baseUrl: 'http://binance.mock', now, rateLimit: lifted });
const bybit = new BybitClient({ baseUrl: 'http://bybit.mock', now, rateLimit: lifted });
const okx = new OkxClient({ baseUrl: 'http://okx.mock', now, rateLimit: lifted });
const coinalyze = (exchange: Exchange) =>
  new CoinalyzeClient({
    apiKey: 'test-key',
    baseUrl: 'http://coinalyze.mock/v1',
    now,
    exchange,
    rateLimit: lifted,
  });
const viaCoinalyze = { binance: coinalyze('binance'), bybit: coinalyze('bybit'), okx: coinalyze('okx') };

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(async () => {
  await Promise.all([binance, bybit, okx, ...Object.values(viaCoinalyze)].map((c) => c.close()));
  server.close();
});

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const rows: T[] = [];
  for await (const page of pages) rows.push(...page);
  return rows;
}

/** Every series equals the first one: same timestamps, and each field within a relative tolerance. */
function expectSame<T extends { ts: number }>(
  series: Record<string, T[]>,
  fields: (keyof T)[],
  digits = 12,
): void {
  const entries = Object.entries(series);
  const [, reference] = entries[0]!;
  expect(reference.length).toBeGreaterThan(0);
  for (const [name, rows] of entries) {
    expect(
      rows.map((r) => r.ts),
      name,
    ).toEqual(reference.map((r) => r.ts));
    rows.forEach((r, i) => {
      for (const field of fields) {
        const a = r[field] as number;
        const b = reference[i]![field] as number;
        expect(b === 0 ? a : a / b, `${name} ${String(field)} at ${r.ts}`).toBeCloseTo(
          b === 0 ? 0 : 1,
          digits,
        );
      }
    });
  }
}

describe('one market seen the same from every venue', () => {
  it.each(SYMBOLS)('candles of %s: same grid, prices per coin, volume in coins', async (symbol) => {
    const params = { symbol, interval: '1h' as const, from: FROM, to: TO };
    const series = {
      binance: await collect(binance.candles(params)),
      bybit: await collect(bybit.candles(params)),
      okx: await collect(okx.candles(params)),
      'coinalyze/binance': await collect(viaCoinalyze.binance.candles(params)),
      'coinalyze/bybit': await collect(viaCoinalyze.bybit.candles(params)),
      'coinalyze/okx': await collect(viaCoinalyze.okx.candles(params)),
    };
    expect(series.binance).toHaveLength(48);
    expectSame(series, ['open', 'high', 'low', 'close', 'volume']);
    // Taker-buy volume: Binance and Coinalyze (for every venue) agree.
    expectSame(
      {
        binance: series.binance,
        'coinalyze/bybit': series['coinalyze/bybit'],
        'coinalyze/okx': series['coinalyze/okx'],
      },
      ['takerBuyVolume'],
    );
    const truth = market.candle(symbol, FROM, HOUR);
    expect(series.okx[0]!.close / truth.close).toBeCloseTo(1, 12);
    expect(series.bybit[0]!.volume / truth.volume).toBeCloseTo(1, 12);
  });

  it.each(SYMBOLS)('settled funding of %s: same 8 h grid, same fractions', async (symbol) => {
    const params = { symbol, from: FROM, to: TO };
    const series = {
      binance: await collect(binance.funding(params)),
      bybit: await collect(bybit.funding(params)),
      okx: await collect(okx.funding(params)),
      'coinalyze/binance': await collect(viaCoinalyze.binance.funding(params)),
      'coinalyze/bybit': await collect(viaCoinalyze.bybit.funding(params)),
      'coinalyze/okx': await collect(viaCoinalyze.okx.funding(params)),
    };
    expect(series.binance).toHaveLength(6);
    expectSame(series, ['rate']);
    expect(series.okx[0]!.rate).toBeCloseTo(market.fundingRate(symbol, FROM), 14);
  });

  it.each(SYMBOLS)('open interest of %s: one side, in coins, on the same hourly grid', async (symbol) => {
    const params = { symbol, interval: '1h' as const, from: FROM, to: TO };
    const series = {
      binance: await collect(binance.openInterest(params)),
      bybit: await collect(bybit.openInterest(params)),
      okx: await collect(okx.openInterest(params)),
      'coinalyze/binance': await collect(viaCoinalyze.binance.openInterest(params)),
      'coinalyze/bybit': await collect(viaCoinalyze.bybit.openInterest(params)),
      'coinalyze/okx': await collect(viaCoinalyze.okx.openInterest(params)),
    };
    expect(series.binance).toHaveLength(48);
    expectSame(series, ['openInterest'], 9);
    expect(series.bybit[5]!.openInterest / market.openInterest(symbol, series.bybit[5]!.ts)).toBeCloseTo(
      1,
      9,
    );
  });

  it.each(SYMBOLS)(
    'all-accounts long/short ratio of %s: same grid, same ratio (shares where reported)',
    async (symbol) => {
      const params = { symbol, interval: '1h' as const, from: FROM, to: TO };
      const series = {
        binance: await collect(binance.longShortRatio(params)),
        bybit: await collect(bybit.longShortRatio(params)),
        okx: await collect(okx.longShortRatio(params)),
        'coinalyze/binance': await collect(viaCoinalyze.binance.longShortRatio(params)),
        'coinalyze/bybit': await collect(viaCoinalyze.bybit.longShortRatio(params)),
      };
      expect(series.binance).toHaveLength(48);
      // Coinalyze rounds the ratio to 4 decimals; the shares it sends are exact.
      expectSame(series, ['ratio'], 3);
      const { okx: _ratioOnly, ...withShares } = series;
      expectSame(withShares, ['longShare', 'shortShare'], 9);
      for (const r of series.okx) expect(r.longShare).toBeUndefined();
      // Coinalyze has no long/short data for OKX instruments: the symbol is absent, so nothing is yielded.
      expect(await collect(viaCoinalyze.okx.longShortRatio(params))).toEqual([]);
    },
  );

  it('documents what a venue cannot serve', async () => {
    const params = { symbol: 'BTC', interval: '1h' as const, from: FROM, to: TO };
    // Every unserved method rejects the first next() with UnsupportedError (none throws, none is missing).
    await expect(collect(bybit.longShortRatio({ ...params, kind: 'topPosition' }))).rejects.toBeInstanceOf(
      UnsupportedError,
    );
    const unserved: AsyncIterable<unknown[]>[] = [
      binance.liquidations(params),
      bybit.liquidations(params),
      bybit.takerVolume(params),
      okx.liquidations(params),
      viaCoinalyze.bybit.takerVolume(params),
    ];
    for (const pages of unserved) {
      await expect(collect(pages)).rejects.toBeInstanceOf(UnsupportedError);
    }
    const liquidations = await collect(viaCoinalyze.bybit.liquidations(params));
    expect(liquidations).toHaveLength(48);
    expect(liquidations[0]!.longUsd).toBeCloseTo(market.liquidations('BTC', FROM).longUsd, 6);
    const candles = await collect(bybit.candles(params));
    expect(candles[0]!.takerBuyVolume).toBeUndefined();
    await expect(collect(bybit.openInterest({ ...params, interval: '1m' }))).rejects.toBeInstanceOf(
      UnsupportedError,
    );
    await expect(collect(okx.openInterest({ ...params, interval: '1m' }))).rejects.toBeInstanceOf(
      UnsupportedError,
    );
  });
});
