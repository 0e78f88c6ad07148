import { afterEach, describe, expect, it } from 'vitest';
import { BinanceClient } from '../../src/clients/binance/rest.js';
import { BinanceStreams } from '../../src/clients/binance/ws.js';
import type { FetchClosed } from '../../src/clients/ws/processors.js';
import { UnsupportedError } from '../../src/core/errors.js';
import type { Candle } from '../../src/core/types.js';
import { SymbolRegistry } from '../../src/normalize/symbols.js';
import { BINANCE_INSTRUMENTS, createBinanceSimulator } from '../../src/testing/binance.js';
import { type LocalServer, startLocalServer } from '../../src/testing/http.js';
import { type SyntheticAsset, SyntheticMarket } from '../../src/testing/market.js';
import { BinanceWsServer } from '../../src/testing/ws/binance.js';
import {
  atLeast,
  expectCompleteSeries,
  instrument,
  MINUTE,
  record,
  SPEED,
  STRICT_SPEED,
  TEST_TIMING,
  take,
  testClock,
} from './helpers.js';

const market = new SyntheticMarket();
const registry = new SymbolRegistry(
  Object.entries(BINANCE_INSTRUMENTS).map(([id, i]) => instrument('binance', id, i.symbol, i.multiplier)),
);
const SYMBOLS = ['BTC', 'ETH', 'PEPE'];

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

async function setup(options: { rest?: boolean; speed?: number } = {}) {
  const clock = testClock(options.speed);
  const ws = await new BinanceWsServer({ clock, market, instruments: BINANCE_INSTRUMENTS }).start();
  cleanup.push(() => ws.close());
  let rest: LocalServer | undefined;
  if (options.rest) {
    const sim = createBinanceSimulator(market, { now: () => clock.now() });
    rest = await startLocalServer(sim.handler);
    cleanup.push(() => rest!.close());
  }
  const client = new BinanceClient({
    baseUrl: rest?.url ?? 'http://127.0.0.1:9',
    wsUrl: ws.url,
    registry,
    now: () => clock.now(),
    retryDelayMs: 1,
  });
  cleanup.push(() => client.close());
  return { clock, ws, client };
}

describe('binance sharding', () => {
  it('behavior: 2,000 symbols shard over two connections within 1,024 streams and 10 messages/s each', async () => {
    const clock = testClock();
    const assets: SyntheticAsset[] = Array.from({ length: 2_000 }, (_, i) => ({
      symbol: `C${i}`,
      basePrice: 10 + i,
      listedAt: 0,
    }));
    const big = new SyntheticMarket({ assets });
    const instruments = Object.fromEntries(
      assets.map((a) => [`${a.symbol}USDT`, { symbol: a.symbol, multiplier: 1 }]),
    );
    const ws = await new BinanceWsServer({ clock, market: big, instruments, openUpdates: 0 }).start();
    cleanup.push(() => ws.close());
    const symbols = assets.map((a) => a.symbol);
    const fetchClosed: FetchClosed = async (symbol, from, to) => {
      const out: Candle[] = [];
      for (let ts = from; ts < to; ts += MINUTE) {
        const c = big.candle(symbol, ts, MINUTE);
        out.push({ source: 'binance', exchange: 'binance', symbol, interval: '1m', ...c });
      }
      return out;
    };
    const streams = new BinanceStreams({
      wsUrl: ws.url,
      registry: new SymbolRegistry(assets.map((a) => instrument('binance', `${a.symbol}USDT`, a.symbol))),
      fetchClosed: () => fetchClosed,
    });
    const stream = streams.candles({ symbols, interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    let dropped = false;
    const one = atLeast(symbols, 1);
    const four = atLeast(symbols, 4);
    const candles = await take(
      stream,
      (items) => {
        if (!dropped && one(items)) {
          dropped = true;
          ws.server.dropAll();
        }
        return four(items);
      },
      30_000,
    );
    expect(events.connected).toHaveLength(2);
    expect(ws.server.stats.maxConnections).toBe(2);
    expect(ws.server.stats.maxTopicsPerConnection).toBeLessThanOrEqual(1024);
    expect(events.reconnected.length).toBeGreaterThanOrEqual(2);
    expect(events.error).toHaveLength(0);
    expectCompleteSeries(candles, symbols, big);
  });
});

describe('binance other streams', () => {
  it('watchFunding: yields the accruing rate when it changes', async () => {
    const { client, clock, ws } = await setup();
    const stream = client.watchFunding({ symbols: ['BTC'], clock, ...TEST_TIMING });
    stream.on('connected', () => {
      const next = Date.UTC(2024, 5, 1, 8);
      const push = (rate: number, delay: number) =>
        setTimeout(() => ws.pushMarkPrice('BTCUSDT', rate, next), delay);
      for (const [i, rate] of [0.0001, 0.0001, 0.0002, 0.0002, -0.00005].entries()) push(rate, 40 + i * 10);
    });
    const rows = await take(stream, (items) => items.length >= 3);
    expect(rows.map((r) => r.rate)).toEqual([0.0001, 0.0002, -0.00005]);
    expect(rows[0]).toMatchObject({
      source: 'binance',
      symbol: 'BTC',
      nextFundingTime: Date.UTC(2024, 5, 1, 8),
    });
  });

  it('watchLiquidations: SELL orders are longs liquidated, summed per minute', async () => {
    const { client, clock, ws } = await setup();
    const stream = client.watchLiquidations({ symbols: ['BTC', 'PEPE'], clock, ...TEST_TIMING });
    stream.on('connected', () => {
      setTimeout(() => {
        const t = clock.now();
        ws.pushForceOrder('BTCUSDT', 'SELL', '0.5', '60000', t);
        ws.pushForceOrder('BTCUSDT', 'SELL', '0.25', '60000', t);
        ws.pushForceOrder('BTCUSDT', 'BUY', '0.1', '60000', t);
        ws.pushForceOrder('1000PEPEUSDT', 'BUY', '1000', '0.01', t);
      }, 20);
    });
    const rows = await take(stream, (items) => items.length >= 2);
    const btc = rows.find((r) => r.symbol === 'BTC')!;
    expect(btc.longUsd).toBeCloseTo(45_000, 6);
    expect(btc.shortUsd).toBeCloseTo(6_000, 6);
    expect(rows.find((r) => r.symbol === 'PEPE')).toMatchObject({ longUsd: 0, shortUsd: 10 });
    expect(btc.ts % MINUTE).toBe(0);
  });

  it('error: watchOpenInterest is not streamed by Binance', async () => {
    const { client } = await setup();
    expect(() => client.watchOpenInterest({ symbols: ['BTC'] })).toThrow(UnsupportedError);
  });
});

describe('binance lifecycle', () => {
  it('behavior: a connection is replaced before its lifetime ends, at once, without losing a candle', async () => {
    const { client, clock } = await setup({ rest: true });
    const stream = client.watchCandles({
      symbols: SYMBOLS,
      interval: '1m',
      clock,
      ...TEST_TIMING,
      maxLifetimeMs: 2.5 * MINUTE,
    });
    const events = record(stream);
    const candles = await take(stream, atLeast(SYMBOLS, 6));
    expectCompleteSeries(candles, SYMBOLS, market);
    expect(events.reconnecting.length).toBeGreaterThanOrEqual(1);
    expect(events.reconnecting[0]).toMatchObject({ reason: 'lifetime', delayMs: 0 });
  });

  it('behavior: a slow consumer fills a bounded buffer, overflow is reported, and the series heals over REST', async () => {
    const { client, clock } = await setup({ rest: true });
    const stream = client.watchCandles({
      symbols: SYMBOLS,
      interval: '1m',
      clock,
      ...TEST_TIMING,
      bufferSize: 4,
    });
    const events = record(stream);
    const candles: Candle[] = [];
    const done = atLeast(SYMBOLS, 9);
    for await (const c of stream) {
      candles.push(c);
      if (candles.length === 3) await new Promise((r) => setTimeout(r, (4 * MINUTE) / SPEED));
      if (done(candles)) break;
      expect(stream.buffered).toBeLessThanOrEqual(4);
    }
    expect(events.overflow.length).toBeGreaterThan(0);
    expect(events.overflow[0]!.capacity).toBe(4);
    expectCompleteSeries(candles, SYMBOLS, market);
  });
});

describe('binance quiet markets', () => {
  it('behavior: one symbol that stops closing candles is reported as stalled; the socket is kept', async () => {
    const { client, clock, ws } = await setup({ speed: STRICT_SPEED });
    ws.silent.add('BTCUSDT');
    const stream = client.watchCandles({ symbols: ['BTC', 'ETH'], interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    const candles = await take(stream, atLeast(['ETH'], 4));
    expectCompleteSeries(candles, ['ETH'], market);
    expect(events.stalled.map((e) => e.symbol)).toContain('BTC');
    expect(events.stalled.map((e) => e.symbol)).not.toContain('ETH');
    expect(events.reconnecting).toHaveLength(0);
  });

  it('behavior: a liquidation topic may be silent for 3 minutes without a reconnect', async () => {
    const { client, clock, ws } = await setup({ speed: STRICT_SPEED });
    const stream = client.watchLiquidations({ symbols: ['BTC'], clock, ...TEST_TIMING });
    const events = record(stream);
    stream.on('connected', () => {
      const later = setTimeout(
        () => ws.pushForceOrder('BTCUSDT', 'BUY', '1', '60000', clock.now()),
        (3 * MINUTE) / STRICT_SPEED,
      );
      cleanup.push(async () => clearTimeout(later));
    });
    const [row] = await take(stream, (items) => items.length >= 1);
    expect(row).toMatchObject({ symbol: 'BTC', longUsd: 0, shortUsd: 60_000 });
    expect(events.reconnecting).toHaveLength(0);
    expect(events.stalled).toHaveLength(0);
    expect(ws.server.stats.messages).toBeGreaterThan(1); // idle LIST_SUBSCRIPTIONS heartbeats were answered
  });
});
