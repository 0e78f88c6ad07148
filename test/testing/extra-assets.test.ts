/**
 * Synthetic assets beyond the static instrument tables: any canonical base asset of the market is
 * listed as `<SYM>USDT` on Binance and Bybit and `<SYM>-USDT-SWAP` (ctVal 1) on OKX, and every client
 * backfills it (listed in its registry, candles equal to the market's, volumes in base units).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors.js';
import type { Candle } from '../../src/core/types.js';
import { venuesOfRole } from '../../src/core/venues.js';
import {
  BINANCE_INSTRUMENTS,
  binanceInstruments,
  bybitInstruments,
  DEFAULT_ASSETS,
  okxInstruments,
  type Simulation,
  SyntheticMarket,
  simulateVenues,
} from '../../src/testing/index.js';
import { simulatedClient } from '../venue-clients.js';

const MINUTE = 60_000;
const T = Date.UTC(2024, 5, 1, 12, 0, 30);
const FROM = Date.UTC(2024, 5, 1, 9);
const TO = Date.UTC(2024, 5, 1, 12);
const EXTRA = [
  { symbol: 'SOL', basePrice: 150, listedAt: Date.UTC(2020, 8, 14) },
  { symbol: 'DOGE', basePrice: 0.12, listedAt: Date.UTC(2024, 5, 1, 10) },
];

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

async function all<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...page);
  return out;
}

function expectMarket(sim: Simulation, candles: readonly Candle[], symbol: string, from: number): void {
  expect(candles).toHaveLength((TO - from) / MINUTE);
  for (const [i, c] of candles.entries()) {
    const m = sim.market.candle(symbol, from + i * MINUTE, MINUTE);
    expect(c.ts).toBe(m.ts);
    expect(c.symbol).toBe(symbol);
    expect(c.open).toBeCloseTo(m.open, 12);
    expect(c.close).toBeCloseTo(m.close, 12);
    expect(c.volume).toBeCloseTo(m.volume, 6);
  }
}

describe('synthetic assets beyond the instrument tables', () => {
  it('are derived per venue, the static table unchanged', () => {
    const market = new SyntheticMarket({ assets: [...DEFAULT_ASSETS, ...EXTRA] });
    expect(binanceInstruments(market).SOLUSDT).toEqual({ symbol: 'SOL', baseAsset: 'SOL', multiplier: 1 });
    expect(bybitInstruments(market).DOGEUSDT).toEqual({ symbol: 'DOGE', baseCoin: 'DOGE', multiplier: 1 });
    expect(okxInstruments(market)['SOL-USDT-SWAP']).toEqual({ symbol: 'SOL', ctVal: 1 });
    // Assets the table names keep their own instruments (1000 bundles, contract values).
    expect(binanceInstruments(market)['1000PEPEUSDT']).toEqual(BINANCE_INSTRUMENTS['1000PEPEUSDT']);
    expect(binanceInstruments(market).PEPEUSDT).toBeUndefined();
    expect(okxInstruments(market)['BTC-USDT-SWAP']).toEqual({ symbol: 'BTC', ctVal: 0.01 });
    expect(Object.keys(BINANCE_INSTRUMENTS)).toHaveLength(4);
    expect(Object.keys(binanceInstruments(new SyntheticMarket()))).toEqual(Object.keys(BINANCE_INSTRUMENTS));
  });

  it('every client lists and backfills them, from their listing on', async () => {
    const sim = await simulateVenues({ now: () => T, ws: false, assets: [...DEFAULT_ASSETS, ...EXTRA] });
    cleanup.push(() => sim.close());
    // Every exchange of the registry (an aggregator lists no instruments of its own).
    const exchanges = venuesOfRole('exchange');
    expect(exchanges).toEqual(expect.arrayContaining(['binance', 'bybit', 'okx']));
    for (const venue of exchanges) {
      const client = simulatedClient(sim, venue);
      cleanup.push(() => client.close());
      const registry = await client.registry();
      for (const { symbol } of EXTRA) expect(registry.has(venue, symbol)).toBe(true);
      const sol = await all(client.history('candles', { symbol: 'SOL', interval: '1m', from: FROM, to: TO }));
      expectMarket(sim, sol, 'SOL', FROM);
      // DOGE lists at 10:00: nothing before it.
      const doge = await all(
        client.history('candles', { symbol: 'DOGE', interval: '1m', from: FROM, to: TO }),
      );
      expectMarket(sim, doge, 'DOGE', EXTRA[1]!.listedAt);
      // The static assets are served as before.
      const btc = await all(client.history('candles', { symbol: 'BTC', interval: '1m', from: FROM, to: TO }));
      expectMarket(sim, btc, 'BTC', FROM);
    }
  });

  it('error: a name no venue could list is refused eagerly', async () => {
    for (const symbol of ['1000DOGE', 'DOGE1000', 'doge', 'DO-GE', '123'])
      await expect(
        simulateVenues({ ws: false, assets: [{ symbol, basePrice: 0.1, listedAt: 0 }] }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
