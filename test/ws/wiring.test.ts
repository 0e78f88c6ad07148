/**
 * The wiring the venue clients use: `BybitStreams` / `OkxStreams` with the client's own registry
 * (loaded over REST) and its `candles()` as the gap-fill fetcher, against the REST simulators and the
 * WebSocket servers on one clock. A 3-minute outage must end in a complete series.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BybitClient } from '../../src/clients/bybit/rest.js';
import { BybitStreams } from '../../src/clients/bybit/ws.js';
import { OkxClient } from '../../src/clients/okx/rest.js';
import { OkxStreams } from '../../src/clients/okx/ws.js';
import { BYBIT_INSTRUMENTS, createBybitSimulator } from '../mocks/bybit.js';
import { startLocalServer } from '../mocks/http.js';
import { SyntheticMarket } from '../mocks/market.js';
import { createOkxSimulator, OKX_INSTRUMENTS } from '../mocks/okx.js';
import { atLeast, expectCompleteSeries, MINUTE, record, TEST_TIMING, take, testClock } from './helpers.js';
import { BybitWsServer } from './servers/bybit.js';
import { OkxWsServer } from './servers/okx.js';

const market = new SyntheticMarket();
const SYMBOLS = ['BTC', 'ETH', 'PEPE'];

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

describe('venue clients wiring', () => {
  it('bybit: registry() and candles() of BybitClient heal a 3-minute outage', async () => {
    const clock = testClock();
    const now = () => clock.now();
    const rest = await startLocalServer(createBybitSimulator(market, { now }).handler);
    cleanup.push(() => rest.close());
    const ws = await new BybitWsServer({ clock, market, instruments: BYBIT_INSTRUMENTS }).start();
    cleanup.push(() => ws.close());
    const client = new BybitClient({ baseUrl: rest.url, now, retryDelayMs: 1 });
    cleanup.push(() => client.close());
    const streams = new BybitStreams({
      wsUrl: ws.url,
      registry: () => client.registry(),
      fetchClosed: (interval) => (symbol, from, to, signal) =>
        client.candles({ symbol, interval, from, to, signal }),
    });
    const stream = streams.candles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    const two = atLeast(SYMBOLS, 2);
    const seven = atLeast(SYMBOLS, 7);
    let dropped = false;
    const candles = await take(stream, (items) => {
      if (!dropped && two(items)) {
        dropped = true;
        ws.server.downUntil(clock.now() + 3 * MINUTE);
        ws.server.dropAll();
      }
      return seven(items);
    });
    expect(events.error).toEqual([]);
    expectCompleteSeries(candles, SYMBOLS, market);
    expect(events.gapFilled.reduce((n, e) => n + e.candles, 0)).toBeGreaterThanOrEqual(SYMBOLS.length * 2);
  });

  it('okx: registry() (with ctVal) and candles() of OkxClient heal a 3-minute outage', async () => {
    const clock = testClock();
    const now = () => clock.now();
    const rest = await startLocalServer(createOkxSimulator(market, { now }).handler);
    cleanup.push(() => rest.close());
    const ws = await new OkxWsServer({ clock, market, instruments: OKX_INSTRUMENTS }).start();
    cleanup.push(() => ws.close());
    const client = new OkxClient({ baseUrl: rest.url, now, retryDelayMs: 1 });
    cleanup.push(() => client.close());
    const streams = new OkxStreams({
      wsUrl: ws.url,
      registry: () => client.registry(),
      fetchClosed: (interval) => (symbol, from, to, signal) =>
        client.candles({ symbol, interval, from, to, signal }),
    });
    const stream = streams.candles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    const two = atLeast(SYMBOLS, 2);
    const seven = atLeast(SYMBOLS, 7);
    let dropped = false;
    const candles = await take(stream, (items) => {
      if (!dropped && two(items)) {
        dropped = true;
        ws.server.downUntil(clock.now() + 3 * MINUTE);
        ws.server.dropAll();
      }
      return seven(items);
    });
    expect(events.error).toEqual([]);
    expectCompleteSeries(candles, SYMBOLS, market);
    expect(events.gapFilled.reduce((n, e) => n + e.candles, 0)).toBeGreaterThanOrEqual(SYMBOLS.length * 2);
  });
});
