import { afterEach, describe, expect, it } from 'vitest';
import { BinanceClient } from '../../src/clients/binance/rest.js';
import { UnknownSymbolError } from '../../src/core/errors.js';
import { SymbolRegistry } from '../../src/normalize/symbols.js';
import { BINANCE_INSTRUMENTS, createBinanceSimulator } from '../../src/testing/binance.js';
import { type LocalServer, startLocalServer } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';
import { startProxy } from '../../src/testing/proxy.js';
import { BinanceWsServer } from '../../src/testing/ws/binance.js';
import {
  atLeast,
  expectCompleteSeries,
  instrument,
  liveHandles,
  MINUTE,
  record,
  SPEED,
  STRICT_SPEED,
  TEST_TIMING,
  take,
  testClock,
  until,
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

async function setup(options: { rest?: boolean; speed?: number; proxies?: string[]; direct?: boolean } = {}) {
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
    ...(options.proxies ? { proxies: options.proxies } : {}),
    ...(options.direct === undefined ? {} : { direct: options.direct }),
  });
  cleanup.push(() => client.close());
  return { clock, ws, client };
}

describe('binance watchCandles', () => {
  it('default: yields each closed candle once, per base unit, ignoring open-candle updates', async () => {
    const { client, clock } = await setup();
    const stream = client.watchCandles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    const candles = await take(stream, atLeast(SYMBOLS, 3));
    expectCompleteSeries(candles, SYMBOLS, market);
    const pepe = candles.find((c) => c.symbol === 'PEPE')!;
    expect(pepe.close).toBeLessThan(0.001); // 1000PEPEUSDT prices divided by 1,000
    expect(pepe).toMatchObject({ source: 'binance', exchange: 'binance', interval: '1m' });
    expect(events.connected).toHaveLength(1);
    expect(events.closed).toHaveLength(1);
  });

  it('behavior: sockets go through a CONNECT proxy (with credentials) when the client has one', async () => {
    const proxy = await startProxy({ auth: { user: 'ws', pass: 'proxy-secret' } });
    cleanup.push(() => proxy.close());
    const { client, clock } = await setup({ proxies: [proxy.url], direct: false });
    const stream = client.watchCandles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const candles = await take(stream, atLeast(SYMBOLS, 2));
    expectCompleteSeries(candles, SYMBOLS, market);
    expect(proxy.tunnels).toBeGreaterThanOrEqual(1);
  });

  it('behavior: a dropped connection is resubscribed and the missed candles are filled over REST', async () => {
    const { client, clock, ws } = await setup({ rest: true });
    const stream = client.watchCandles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    let dropped = false;
    const two = atLeast(SYMBOLS, 2);
    const eight = atLeast(SYMBOLS, 8);
    const candles = await take(stream, (items) => {
      if (!dropped && two(items)) {
        dropped = true;
        ws.server.downUntil(clock.now() + 3 * MINUTE);
        ws.server.dropAll();
      }
      return eight(items);
    });
    expectCompleteSeries(candles, SYMBOLS, market);
    expect(events.reconnecting.length).toBeGreaterThanOrEqual(1);
    expect(events.reconnected.length).toBeGreaterThanOrEqual(1);
    const gaps = events.reconnected.flatMap((e) => e.gaps);
    expect(gaps.map((g) => g.symbol).sort()).toEqual(expect.arrayContaining(SYMBOLS));
    for (const g of gaps) expect(g.firstNewTs - g.lastClosedTs).toBeGreaterThanOrEqual(2 * MINUTE);
    expect(events.gapFilled.reduce((n, e) => n + e.candles, 0)).toBeGreaterThanOrEqual(SYMBOLS.length * 2);
    expect(ws.server.topics()).toEqual(
      new Set(['btcusdt@kline_1m', 'ethusdt@kline_1m', '1000pepeusdt@kline_1m']),
    );
  });

  it('behavior: a stalled socket (open, silent) is detected from the candle cadence and replaced', async () => {
    const { client, clock, ws } = await setup({ rest: true });
    const stream = client.watchCandles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    let stalledAt = 0;
    const two = atLeast(SYMBOLS, 2);
    const nine = atLeast(SYMBOLS, 9);
    const candles = await take(stream, (items) => {
      if (stalledAt === 0 && two(items)) {
        stalledAt = clock.now();
        ws.server.stalled = true;
        const resume = setTimeout(
          () => {
            ws.server.stalled = false;
          },
          (4 * MINUTE) / SPEED,
        );
        cleanup.push(async () => clearTimeout(resume));
      }
      return nine(items);
    });
    expectCompleteSeries(candles, SYMBOLS, market);
    expect(events.stalled.map((e) => e.symbol)).toEqual(expect.arrayContaining(SYMBOLS));
    expect(events.reconnecting.some((e) => e.reason === 'stall')).toBe(true);
    expect(events.reconnected.length).toBeGreaterThanOrEqual(1);
  });

  it('behavior: reconnects refused twice then accepted, with backoff, and nothing lost', async () => {
    const { client, clock, ws } = await setup({ rest: true });
    const stream = client.watchCandles({
      symbols: SYMBOLS,
      interval: '1m',
      clock,
      ...TEST_TIMING,
      backoff: { initialMs: 40_000, maxMs: 120_000, stableMs: 10 * MINUTE },
    });
    const events = record(stream);
    let dropped = false;
    const two = atLeast(SYMBOLS, 2);
    const eight = atLeast(SYMBOLS, 8);
    const candles = await take(stream, (items) => {
      if (!dropped && two(items)) {
        dropped = true;
        ws.server.refuseNext(2);
        ws.server.dropAll();
      }
      return eight(items);
    });
    expectCompleteSeries(candles, SYMBOLS, market);
    expect(ws.server.stats.refused).toBe(2);
    expect(events.reconnecting.map((e) => e.attempt).slice(0, 3)).toEqual([1, 2, 3]);
    const delays = events.reconnecting.slice(0, 3).map((e) => e.delayMs);
    expect(delays[1]!).toBeGreaterThanOrEqual(40_000); // grows: 20–40 s, 40–80 s, 60–120 s
    expect(events.reconnected[0]!.attempt).toBe(3);
    expect(events.gapFilled.length).toBeGreaterThan(0);
  });

  it('behavior: a repeated closed candle is yielded once', async () => {
    const { client, clock, ws } = await setup();
    const stream = client.watchCandles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const four = atLeast(SYMBOLS, 4);
    const candles = await take(stream, (items) => {
      if (items.length === 1) ws.duplicateNext = true;
      return four(items);
    });
    expectCompleteSeries(candles, SYMBOLS, market);
  });

  it('behavior: a candle that arrives after its successor still leaves a complete series', async () => {
    const { client, clock, ws } = await setup({ rest: true });
    const stream = client.watchCandles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    const five = atLeast(SYMBOLS, 5);
    const candles = await take(stream, (items) => {
      if (items.length === 1) ws.swapNext = true;
      return five(items);
    });
    expect(events.error).toEqual([]);
    expectCompleteSeries(candles, SYMBOLS, market);
    expect(events.gapFilled.length).toBeGreaterThan(0);
  });

  it('error: a malformed frame is reported as data and the stream goes on', async () => {
    const { client, clock, ws } = await setup({ speed: STRICT_SPEED });
    const stream = client.watchCandles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    const four = atLeast(SYMBOLS, 4);
    const candles = await take(stream, (items) => {
      if (items.length === 1) ws.malformedNext = true;
      return four(items);
    });
    expectCompleteSeries(candles, SYMBOLS, market);
    expect(events.error.length).toBe(1);
    expect(events.error[0]!.error.code).toBe('WEBSOCKET');
    expect(events.reconnecting).toHaveLength(0);
  });

  it('error: an unknown symbol is a typed error for its topic; the others keep flowing', async () => {
    const { client, clock } = await setup();
    const stream = client.watchCandles({
      symbols: ['BTC', 'NOPE', 'ETH'],
      interval: '1m',
      clock,
      ...TEST_TIMING,
    });
    const events = record(stream);
    const candles = await take(stream, atLeast(['BTC', 'ETH'], 3));
    expectCompleteSeries(candles, ['BTC', 'ETH'], market);
    expect(events.error).toHaveLength(1);
    expect(events.error[0]!.error).toBeInstanceOf(UnknownSymbolError);
    expect(events.error[0]!.symbol).toBe('NOPE');
  });

  it('behavior: breaking out of for await closes sockets and timers', async () => {
    const before = liveHandles();
    const { client, clock, ws } = await setup();
    const stream = client.watchCandles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    for await (const candle of stream) {
      expect(candle.symbol).toBeTypeOf('string');
      break;
    }
    await until(() => ws.server.connections.size === 0);
    await ws.close();
    await client.close();
    await until(() => liveHandles() <= before);
    expect(liveHandles()).toBeLessThanOrEqual(before);
  });

  it('behavior: client.close() closes the streams it opened and ends their iteration', async () => {
    const { client, clock, ws } = await setup();
    const stream = client.watchCandles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    let seen = 0;
    for await (const _candle of stream) {
      if (++seen === 1) void client.close();
    }
    expect(seen).toBeGreaterThanOrEqual(1);
    await until(() => events.closed.length === 1);
    expect(events.closed).toHaveLength(1);
    await until(() => ws.server.connections.size === 0);
    expect(ws.server.connections.size).toBe(0);
  });
});
