/**
 * Derived series during `Sync.live()`: RSI, the MT candles and their RSI, the 1m expansion of open
 * interest and Binance's taker distribution are kept current as their inputs close (fast clock: 1 real
 * second = 5 simulated minutes), through a dropped stream, and equal a batch recompute over the stored
 * inputs at the stop.
 */
import { describe, expect, it } from 'vitest';
import type { VenueClient } from '../../src/clients/base.js';
import { Sync } from '../../src/pipeline/index.js';
import { MemoryStorage } from '../../src/storage/index.js';
import { simulateVenues } from '../../src/testing/index.js';
import { simulatedClient } from '../venue-clients.js';
import { expectDerivedEqualRecompute } from './derived-check.js';
import { closeAfterEach, waitUntil } from './live-fixture.js';

const MINUTE = 60_000;
const SPEED = 300;
const EPOCH = Date.UTC(2024, 5, 1, 0, 0, 30);
const SYMBOLS = ['BTC', 'ETH', 'PEPE'];
const VENUES = ['binance', 'bybit', 'okx'] as const;

const cleanup = closeAfterEach();

describe('Sync.live(): derived series', () => {
  it('behavior: RSI, MT, 1m expansion and taker distribution follow their inputs live and equal a recompute', async () => {
    const sim = await simulateVenues({ clock: { start: EPOCH, speed: SPEED } });
    cleanup.push(() => sim.close());
    const clients: VenueClient[] = VENUES.map((v) => simulatedClient(sim, v, { retryDelayMs: 1 }));
    cleanup.push(async () => {
      for (const c of clients) await c.close();
    });
    const storage = new MemoryStorage();
    const sync = new Sync({
      storage,
      clients,
      symbols: SYMBOLS,
      kinds: ['candles', 'openInterest', 'takerVolume'],
      intervals: { candles: ['1m'], openInterest: ['5m'], takerVolume: ['5m'] },
      from: EPOCH - 6 * 60 * MINUTE,
      clock: sim.clock,
      batchDelayMs: 50,
      derive: { rsi: [14], marketAverage: true, expandTo1m: ['openInterest'], takerTo1m: true },
    });
    const errors: string[] = [];
    sync.on('error', (e) => errors.push(`${e.series?.id ?? ''}: ${e.error.message}`));
    const { backfill, live } = await sync.run({ pollDelayMs: 3_000 });
    cleanup.push(() => live.stop());
    expect(backfill.series.filter((s) => s.outcome !== 'done').map((s) => s.id)).toEqual([]);
    const liveFrom = sim.clock.now();

    await waitUntil(sim.clock, liveFrom + 12 * MINUTE);
    for (const ws of Object.values(sim.ws)) ws?.server.dropAll();
    await waitUntil(sim.clock, liveFrom + 25 * MINUTE);
    const health = live.health();
    const started = Date.now();
    await live.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
    const stoppedAt = sim.clock.now();
    expect(errors).toEqual([]);

    // Derived series appear in health, current and without error.
    const derived = health.filter((h) => h.derived);
    expect(derived.some((h) => h.series.key.symbol === 'MT')).toBe(true);
    expect(derived.filter((h) => h.state !== 'live').map((h) => `${h.series.id} ${h.state}`)).toEqual([]);

    const compared = await expectDerivedEqualRecompute(storage, {
      sources: VENUES,
      symbols: SYMBOLS,
      trailing: true,
      closedMinute: Math.floor(stoppedAt / MINUTE) * MINUTE,
      // Written live: within a few minutes of the stop, far past where the backfill ended.
      reach: Math.floor(stoppedAt / MINUTE) * MINUTE - 3 * MINUTE,
    });
    expect(compared).toBeGreaterThan(VENUES.length * SYMBOLS.length * 300);
  }, 60_000);
});
