/**
 * The venue clients' own `watchCandles`: sockets from `wsUrl`, the client's registry (loaded over REST)
 * and its `candles()` as the gap-fill fetcher, against the REST simulators and the WebSocket servers on
 * one clock (`simulateVenues`). Every live venue of the registry; a 3-minute outage must end in a
 * complete series.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LiveVenueClient } from '../../src/clients/base.js';
import { type LiveVenueId, VENUE_IDS, VENUES } from '../../src/core/venues.js';
import { simulateVenues } from '../../src/testing/index.js';
import { simulatedClient } from '../venue-clients.js';
import { atLeast, EPOCH, expectCompleteSeries, MINUTE, record, SPEED, TEST_TIMING, take } from './helpers.js';

const SYMBOLS = ['BTC', 'ETH', 'PEPE'];
const LIVE = VENUE_IDS.filter((v): v is LiveVenueId => VENUES[v].live);

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

describe('venue clients wiring', () => {
  it.each(LIVE)(
    `behavior: %s: its client's watchCandles heals a 3-minute outage with its own REST candles()`,
    async (venue) => {
      const sim = await simulateVenues({ clock: { start: EPOCH, speed: SPEED } });
      cleanup.push(() => sim.close());
      const clock = sim.clock;
      const ws = sim.ws[venue]!;
      const client = simulatedClient(sim, venue, { retryDelayMs: 1 }) as unknown as LiveVenueClient;
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
      expectCompleteSeries(candles, SYMBOLS, sim.market);
      expect(events.gapFilled.reduce((n, e) => n + e.candles, 0)).toBeGreaterThanOrEqual(SYMBOLS.length * 2);
    },
  );
});
