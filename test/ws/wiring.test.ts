/**
 * The venue clients' own `watchCandles`: sockets from `wsUrl`, the client's registry (loaded over REST)
 * and its `candles()` as the gap-fill fetcher, against the REST simulators and the WebSocket servers on
 * one clock. A 3-minute outage must end in a complete series.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BybitClient } from '../../src/clients/bybit/rest.js';
import { OkxClient } from '../../src/clients/okx/rest.js';
import { BYBIT_INSTRUMENTS, createBybitSimulator } from '../../src/testing/bybit.js';
import { startLocalServer, type VenueHandler } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';
import { createOkxSimulator, OKX_INSTRUMENTS } from '../../src/testing/okx.js';
import { BybitWsServer } from '../../src/testing/ws/bybit.js';
import { OkxWsServer } from '../../src/testing/ws/okx.js';
import { atLeast, expectCompleteSeries, MINUTE, record, TEST_TIMING, take, testClock } from './helpers.js';

const market = new SyntheticMarket();
const SYMBOLS = ['BTC', 'ETH', 'PEPE'];

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

type Clock = ReturnType<typeof testClock>;
interface WsServer {
  url: string;
  server: { downUntil(ts: number): void; dropAll(): void };
  close(): Promise<void>;
}

const venues = [
  {
    name: 'bybit: BybitClient',
    rest: (now: () => number): VenueHandler => createBybitSimulator(market, { now }).handler,
    ws: (clock: Clock): Promise<WsServer> =>
      new BybitWsServer({ clock, market, instruments: BYBIT_INSTRUMENTS }).start(),
    client: (baseUrl: string, wsUrl: string, now: () => number) =>
      new BybitClient({ baseUrl, wsUrl, now, retryDelayMs: 1 }),
  },
  {
    name: 'okx: OkxClient (registry with ctVal)',
    rest: (now: () => number): VenueHandler => createOkxSimulator(market, { now }).handler,
    ws: (clock: Clock): Promise<WsServer> =>
      new OkxWsServer({ clock, market, instruments: OKX_INSTRUMENTS }).start(),
    client: (baseUrl: string, wsUrl: string, now: () => number) =>
      new OkxClient({ baseUrl, wsUrl, now, retryDelayMs: 1 }),
  },
];

describe('venue clients wiring', () => {
  for (const venue of venues) {
    it(`behavior: ${venue.name}.watchCandles heals a 3-minute outage with its own REST candles()`, async () => {
      const clock = testClock();
      const now = () => clock.now();
      const rest = await startLocalServer(venue.rest(now));
      cleanup.push(() => rest.close());
      const ws = await venue.ws(clock);
      cleanup.push(() => ws.close());
      const client = venue.client(rest.url, ws.url, now);
      cleanup.push(() => client.close());
      const stream = client.watchCandles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
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
  }
});
