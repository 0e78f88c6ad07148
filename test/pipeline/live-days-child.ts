/**
 * A day and more of `Sync.live()` in a child process started with `--expose-gc`, for the days-long
 * operation test: the simulated venues run `speed` times faster than real time, Binance, Bybit and OKX
 * stream BTC candles and open interest is polled, with RSI derived live, into a MemoryStorage. At the
 * simulated hours in `at` it collects garbage and prints one `SAMPLE {json}` line: heap, active timers,
 * sockets, listeners on the caller's signal, the Binance server's connection count and the events seen.
 * Halfway, Binance's server goes silent for `stallMs` (simulated) with its sockets open. Then it stops
 * and prints `DONE {json}` with the stored candles per venue.
 *
 *   PERPDATA_CHILD='{"speed":3000,"hours":26,"at":[2,14,26],"stallMs":600000}' node --expose-gc --import tsx test/pipeline/live-days-child.ts
 */
import { getEventListeners } from 'node:events';
import type { Interval } from '../../src/core/intervals.js';
import { Sync } from '../../src/pipeline/index.js';
import { MemoryStorage } from '../../src/storage/index.js';
import { simulateVenues } from '../../src/testing/index.js';
import { simulatedClient } from '../venue-clients.js';

interface DaysConfig {
  readonly speed: number;
  readonly hours: number;
  readonly at: readonly number[];
  readonly stallMs: number;
}

const HOUR = 3_600_000;
const config = JSON.parse(process.env.PERPDATA_CHILD ?? '{}') as DaysConfig;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const EPOCH = Date.UTC(2024, 5, 1, 0, 0, 30);
const sim = await simulateVenues({ clock: { start: EPOCH, speed: config.speed } });
const venues = ['binance', 'bybit', 'okx'] as const;
const clients = venues.map((v) => simulatedClient(sim, v, { retryDelayMs: 5 }));
const storage = new MemoryStorage();
const controller = new AbortController();
const sync = new Sync({
  storage,
  clients,
  symbols: ['BTC'],
  kinds: ['candles', 'openInterest'],
  from: EPOCH - 2 * HOUR,
  clock: sim.clock,
  signal: controller.signal,
  batchDelayMs: 10,
  derive: { rsi: [14] },
});
const events = { reconnected: 0, stalled: 0, errors: [] as string[] };
sync.on('reconnected', () => events.reconnected++);
sync.on('stalled', () => events.stalled++);
sync.on('error', (e) => events.errors.push(`${e.series?.id ?? ''}: ${e.error.message.split('\n')[0]}`));
const { live } = await sync.run();
const liveFrom = sim.clock.now();
const until = async (t: number) => {
  while (sim.clock.now() < t) await new Promise((resolve) => setTimeout(resolve, 20));
};

const binance = sim.ws.binance?.server;
if (!binance) throw new Error('no Binance socket server');
let stalled = false;
for (const hour of config.at) {
  if (!stalled && hour > config.hours / 2) {
    await until(liveFrom + (config.hours / 2) * HOUR);
    binance.stalled = true;
    await until(sim.clock.now() + config.stallMs);
    binance.stalled = false;
    stalled = true;
  }
  await until(liveFrom + hour * HOUR);
  // Health before the collections: a full GC takes simulated minutes at this speed.
  const health = live.health().map((h) => `${h.series.id} ${h.state} ${Math.round((h.lagMs ?? -1) / 1000)}s`);
  gc();
  gc();
  const resources = process.getActiveResourcesInfo();
  const count = (type: string) => resources.filter((r) => r === type).length;
  const sample = {
    hour,
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
    timers: count('Timeout'),
    sockets: count('TCPSocketWrap'),
    signalListeners: getEventListeners(controller.signal, 'abort').length,
    binanceUpgrades: binance.stats.upgrades,
    ...events,
    health,
  };
  process.stdout.write(`SAMPLE ${JSON.stringify(sample)}\n`);
}
await live.stop();
const stoppedAt = sim.clock.now();
const candles: Record<string, number[]> = {};
for (const source of venues) {
  const key = { source, exchange: source, symbol: 'BTC', interval: '1m' as Interval };
  const ts: number[] = [];
  for await (const page of storage.read('candles', key, 0, Number.MAX_SAFE_INTEGER))
    for (const r of page) ts.push(r.ts);
  candles[source] = ts;
}
for (const c of clients) await c.close();
await sim.close();
const expectedFirst = Math.ceil((EPOCH - 2 * HOUR) / 60_000) * 60_000;
const market = Object.fromEntries(
  Object.entries(candles).map(([source, ts]) => {
    const expected: number[] = [];
    for (let t = expectedFirst; t <= (ts.at(-1) ?? 0); t += 60_000)
      if (sim.market.has('BTC', t)) expected.push(t);
    return [
      source,
      { rows: ts.length, last: ts.at(-1), equal: JSON.stringify(ts) === JSON.stringify(expected) },
    ];
  }),
);
process.stdout.write(`DONE ${JSON.stringify({ stoppedAt, market })}\n`);
process.exit(0);
