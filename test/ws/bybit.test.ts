import { afterEach, describe, expect, it } from 'vitest';
import { BybitStreams } from '../../src/clients/bybit/ws.js';
import { UnknownSymbolError } from '../../src/core/errors.js';
import { SymbolRegistry } from '../../src/normalize/symbols.js';
import { SyntheticMarket } from '../../src/testing/market.js';
import { BybitWsServer } from '../../src/testing/ws/bybit.js';
import {
  atLeast,
  expectCompleteSeries,
  instrument,
  MINUTE,
  marketFetcher,
  record,
  STRICT_SPEED,
  TEST_TIMING,
  take,
  testClock,
} from './helpers.js';

const market = new SyntheticMarket();
const INSTRUMENTS = {
  BTCUSDT: { symbol: 'BTC', multiplier: 1 },
  ETHUSDT: { symbol: 'ETH', multiplier: 1 },
  '1000PEPEUSDT': { symbol: 'PEPE', multiplier: 1000 },
};
const SYMBOLS = ['BTC', 'ETH', 'PEPE'];

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

async function setup(extra: { SHIB?: boolean; speed?: number } = {}) {
  const clock = testClock(extra.speed);
  const ws = await new BybitWsServer({ clock, market, instruments: INSTRUMENTS }).start();
  cleanup.push(() => ws.close());
  const entries = Object.entries(INSTRUMENTS).map(([id, i]) =>
    instrument('bybit', id, i.symbol, i.multiplier),
  );
  // A symbol our registry knows but the venue does not serve: the venue refuses its topic.
  if (extra.SHIB) entries.push(instrument('bybit', 'SHIB1000USDT', 'SHIB', 1000));
  const calls: { symbol: string; from: number; to: number }[] = [];
  const streams = new BybitStreams({
    wsUrl: ws.url,
    registry: new SymbolRegistry(entries),
    fetchClosed: () => marketFetcher(market, 'bybit', calls),
  });
  return { clock, ws, streams, calls };
}

describe('bybit watchCandles', () => {
  it('default: yields closed candles (confirm: true) once, pinging every 20 s so the idle cut never fires', async () => {
    const { streams, clock, ws } = await setup({ speed: STRICT_SPEED });
    const stream = streams.candles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    const candles = await take(stream, atLeast(SYMBOLS, 3));
    expectCompleteSeries(candles, SYMBOLS, market);
    expect(candles[0]).toMatchObject({ source: 'bybit', exchange: 'bybit', interval: '1m' });
    expect(candles.find((c) => c.symbol === 'PEPE')!.close).toBeLessThan(0.001);
    expect(ws.pings).toBeGreaterThanOrEqual(4);
    expect(ws.idleCuts).toBe(0);
    expect(events.reconnecting).toHaveLength(0);
    expect(events.error).toHaveLength(0);
  });

  it('behavior: drop and refused reconnects, then resubscribe and fill the hole', async () => {
    const { streams, clock, ws, calls } = await setup();
    const stream = streams.candles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    const two = atLeast(SYMBOLS, 2);
    const seven = atLeast(SYMBOLS, 7);
    let dropped = false;
    const candles = await take(stream, (items) => {
      if (!dropped && two(items)) {
        dropped = true;
        ws.server.downUntil(clock.now() + 2.5 * MINUTE);
        ws.server.dropAll();
      }
      return seven(items);
    });
    expectCompleteSeries(candles, SYMBOLS, market);
    expect(events.reconnected.length).toBeGreaterThanOrEqual(1);
    expect(calls.map((c) => c.symbol).sort()).toEqual(expect.arrayContaining(SYMBOLS));
    expect(ws.server.topics()).toEqual(
      new Set(['kline.1.BTCUSDT', 'kline.1.ETHUSDT', 'kline.1.1000PEPEUSDT']),
    );
  });

  it('behavior: gapFill: false reports the gap windows but fetches nothing', async () => {
    const { streams, clock, ws, calls } = await setup();
    const stream = streams.candles({
      symbols: ['BTC'],
      interval: '1m',
      clock,
      ...TEST_TIMING,
      gapFill: false,
    });
    const events = record(stream);
    let dropped = false;
    const candles = await take(stream, (items) => {
      if (!dropped && items.length === 2) {
        dropped = true;
        ws.server.downUntil(clock.now() + 2.5 * MINUTE);
        ws.server.dropAll();
      }
      return items.length >= 4;
    });
    expect(calls).toEqual([]);
    const gap = events.reconnected.flatMap((e) => e.gaps)[0]!;
    expect(gap.symbol).toBe('BTC');
    expect(gap.lastClosedTs).toBe(candles[1]!.ts);
    // The candles after the gap start at firstNewTs or later; nothing inside the window was invented.
    expect(candles[2]!.ts).toBeGreaterThanOrEqual(gap.firstNewTs);
  });

  it('behavior: a repeated closed candle is yielded once', async () => {
    const { streams, clock, ws } = await setup();
    const stream = streams.candles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const four = atLeast(SYMBOLS, 4);
    const candles = await take(stream, (items) => {
      if (items.length === 1) ws.duplicateNext = true;
      return four(items);
    });
    expectCompleteSeries(candles, SYMBOLS, market);
  });

  it('error: a topic the venue refuses is a typed error for that symbol; the others keep flowing', async () => {
    const { streams, clock } = await setup({ SHIB: true });
    const stream = streams.candles({
      symbols: ['BTC', 'SHIB', 'ETH'],
      interval: '1m',
      clock,
      ...TEST_TIMING,
    });
    const events = record(stream);
    const candles = await take(stream, atLeast(['BTC', 'ETH'], 3));
    expectCompleteSeries(candles, ['BTC', 'ETH'], market);
    expect(events.error).toHaveLength(1);
    expect(events.error[0]!.error).toBeInstanceOf(UnknownSymbolError);
    expect(events.error[0]).toMatchObject({ symbol: 'SHIB', topic: 'kline.1.SHIB1000USDT' });
  });
});

describe('bybit tickers and liquidations', () => {
  it('watchFunding / watchOpenInterest: deltas merge into the snapshot', async () => {
    const { streams, clock, ws } = await setup();
    const funding = streams.funding({ symbols: ['BTC'], clock, ...TEST_TIMING });
    funding.on('connected', () => {
      setTimeout(() => {
        ws.pushTickerDelta('BTCUSDT', { bid1Price: '60000.1' }); // no funding change: nothing yielded
        ws.pushTickerDelta('BTCUSDT', { fundingRate: '0.00025' });
      }, 30);
    });
    const rates = await take(funding, (items) => items.length >= 2);
    expect(rates.map((r) => r.rate)).toEqual([0.0001, 0.00025]);
    expect(rates[1]!.nextFundingTime).toBe(Date.UTC(2024, 5, 1, 8)); // kept from the snapshot

    const oi = streams.openInterest({ symbols: ['PEPE'], clock, ...TEST_TIMING });
    oi.on('connected', () => {
      setTimeout(() => ws.pushTickerDelta('1000PEPEUSDT', { openInterest: '500' }), 200);
    });
    const rows = await take(oi, (items) => items.length >= 1);
    // Snapshot: two-sided OI halved (no singleOpenInterest), × 1,000 for the bundle.
    expect(rows[0]!.openInterest).toBeCloseTo(market.openInterest('PEPE', 0), 3);
    expect(rows[0]!.ts % MINUTE).toBe(0);
  });

  it('watchLiquidations: S "Buy" is a long liquidated (opposite of Binance), summed per minute', async () => {
    const { streams, clock, ws } = await setup();
    const stream = streams.liquidations({ symbols: ['BTC'], clock, ...TEST_TIMING });
    stream.on('connected', () => {
      setTimeout(() => {
        const t = clock.now();
        ws.pushLiquidations('BTCUSDT', [
          { S: 'Buy', v: '0.5', p: '60000', T: t },
          { S: 'Buy', v: '0.5', p: '60000', T: t },
          { S: 'Sell', v: '0.1', p: '60000', T: t },
        ]);
      }, 20);
    });
    const [row] = await take(stream, (items) => items.length >= 1);
    expect(row).toMatchObject({
      exchange: 'bybit',
      symbol: 'BTC',
      longUsd: 60_000,
      shortUsd: 6_000,
      interval: '1m',
    });
  });
});
