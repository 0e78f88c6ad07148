/**
 * A live run in a child process, for the SIGKILL-during-live test: it starts the simulated venues on a
 * clock shared with its parent through wall-clock anchors (`simStart` at `realStart`, `speed` times
 * faster), so a second child continues the same simulated timeline over the same deterministic market,
 * and runs `Sync.run()` into Postgres. It prints `LIVE <simulated ms>` every simulated minute once live,
 * and `STOPPED` after `stop()` when `liveMs` (simulated) have passed; 1% of REST answers are 5xx.
 *
 *   PERPDATA_CHILD='{"db":"postgres://…","schema":"…","simStart":…,"realStart":…,"speed":60,"from":…,"liveMs":…}' tsx test/pipeline/live-child.ts
 */
import { BinanceClient, BybitClient, OkxClient } from '../../src/clients/index.js';
import type { WsClock } from '../../src/clients/ws/clock.js';
import { Sync } from '../../src/pipeline/index.js';
import { PostgresStorage } from '../../src/storage/index.js';
import { simulateVenues } from '../../src/testing/index.js';

interface LiveChildConfig {
  readonly db: string;
  readonly schema: string;
  readonly simStart: number;
  readonly realStart: number;
  readonly speed: number;
  readonly from: number;
  /** Simulated ms of live before a clean stop; absent: live until killed. */
  readonly liveMs?: number;
}

const config = JSON.parse(process.env.PERPDATA_CHILD ?? '{}') as LiveChildConfig;
const clockNow = () => Math.floor(config.simStart + (Date.now() - config.realStart) * config.speed);
const sim = await simulateVenues({ clock: { start: clockNow(), speed: config.speed } });
const clock: WsClock = sim.clock;
sim.faults.errorRate(0.01, { venue: ['binance', 'bybit', 'okx'] });
const common = { retryDelayMs: 20, maxEgressWaitMs: 200 };
const clients = [
  new BinanceClient({ ...sim.clientOptions('binance'), ...common }),
  new BybitClient({ ...sim.clientOptions('bybit'), ...common }),
  new OkxClient({ ...sim.clientOptions('okx'), ...common }),
];
const storage = new PostgresStorage({ db: config.db, schema: config.schema });
await storage.migrate();
const sync = new Sync({
  storage,
  clients,
  symbols: ['BTC', 'ETH'],
  kinds: ['candles'],
  from: config.from,
  clock,
  batchDelayMs: 200,
});
const { live } = await sync.run();
const liveFrom = clock.now();
const timer = setInterval(
  () => process.stdout.write(`LIVE ${clock.now() - liveFrom}\n`),
  60_000 / config.speed,
);
if (config.liveMs !== undefined) {
  while (clock.now() - liveFrom < config.liveMs) await new Promise((resolve) => setTimeout(resolve, 50));
  clearInterval(timer);
  await live.stop();
  for (const c of clients) await c.close();
  await storage.close();
  await sim.close();
  process.stdout.write('STOPPED\n');
  process.exit(0);
}
