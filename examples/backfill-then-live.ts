/**
 * The whole system in one process: `Sync.run()` backfills every kind of a symbol list across venues
 * (with progress, as examples/backfill.ts does), then keeps every series current with `live()`:
 * candles over WebSocket, the other kinds polled on their cadence, every hole (the hand-off, a
 * reconnect) fetched over REST from the coverage ledger. A status table on a TTY, plain lines
 * otherwise; SIGINT / SIGTERM (or `--duration`) stop it cleanly, then a summary of what live stored.
 *
 *   npm run demo                  # = npx tsx examples/backfill-then-live.ts --simulate (30 s of live)
 *   npx tsx examples/backfill-then-live.ts --help
 *   npx tsx examples/backfill-then-live.ts --symbols BTC,ETH --from 7d             # real venues, until Ctrl-C
 *   DATABASE_URL=postgres://user@localhost/db npx tsx examples/backfill-then-live.ts --config perpdata.json
 *
 * This replaces the seeds' history scripts, their live `-c` scripts, the "final loop" that caught up
 * between the two, and the status rows a web page watched (`perp_status`: job `live`, per series
 * `live:<kind>` with the stored end as `ts`).
 */
import { HISTORY_KINDS, PerpdataError, type PostgresStorage, Sync, type VenueClient } from '../src/index.js';
import type { Simulation } from '../src/testing/index.js';
import { configOrExit, DAY, HOUR, parseTime, UsageError } from './lib/cli.js';
import { iso, span } from './lib/format.js';
import {
  type LiveView,
  parseLiveConfig,
  printLiveSummary,
  simulatedStart,
  stateCounts,
  stopOnSignals,
  watchLive,
} from './lib/live.js';
import { createProgress, type Progress } from './lib/progress.js';
import {
  backfillEvents,
  createClients,
  DERIVE,
  openStorage,
  printBackfillReport,
  simulatorsLine,
} from './lib/setup.js';

const USAGE = `Usage: npx tsx examples/backfill-then-live.ts [options]

Backfills every kind of a symbol list across venues with Sync.run(), then keeps every series current
(streamed candles, polled statistics, holes fetched over REST) until stopped; then a summary.

Options:
  --venues LIST     comma-separated: binance, bybit, okx, coinalyze (default: binance,bybit,okx, plus
                    coinalyze when COINALYZE_API_KEY is set; --simulate: binance,bybit,okx)
  --symbols LIST    canonical base assets (default: BTC,ETH,PEPE)
  --kinds LIST      ${HISTORY_KINDS.join(', ')}
                    (default: every kind each venue serves)
  --from TIME       backfill start: ISO date, epoch ms, or an age like 12h, 2d, 4w
                    (default: 1d with --simulate, else 30d)
  --duration TIME   how long to stay live (wall clock): 30s, 10m, 2h, 1d, or forever (until
                    SIGINT / SIGTERM) (default: forever; with --simulate 30s)
  --config FILE     a JSON object with the same settings: {"venues": ["binance", "okx"],
                    "symbols": ["BTC"], "kinds": ..., "from": "7d", "duration": "1h", "simulate": false,
                    "speed": 60, "dataDir": ..., "schema": ...}; flags win over the file
  --simulate        use the local venue simulators of perpdata/testing (no network) on a fast clock
  --speed N         simulated minutes per real minute with --simulate (default: 60)
  --data-dir DIR    embedded PGlite folder when DATABASE_URL is unset
                    (default: ./.perpdata/demo with --simulate, else ./.perpdata/db)
  --schema NAME     PostgreSQL schema (default: perpdata_demo with --simulate, else public)
  -h, --help        print this help

Environment:
  DATABASE_URL       PostgreSQL connection string; unset: embedded PGlite in --data-dir
  COINALYZE_API_KEY  Coinalyze API key (free at coinalyze.net)

Ctrl-C (or SIGTERM) stops it: what was fetched is written, status rows say 'stopped', and the next
run goes on from where the stored data ends.`;

async function main(): Promise<number> {
  const c = await configOrExit('backfill-then-live', USAGE, () =>
    parseLiveConfig(process.argv.slice(2), process.env, { withFrom: true }),
  );
  if (typeof c === 'number') return c;

  const controller = new AbortController();
  stopOnSignals(controller);
  for (const note of c.notes) console.log(note);

  let sim: Simulation | undefined;
  const clients: VenueClient[] = [];
  let storage: PostgresStorage | undefined;
  let progress: Progress | undefined;
  let view: LiveView | undefined;
  let durationTimer: NodeJS.Timeout | undefined;
  try {
    const opened = await openStorage(c);
    storage = opened.storage;
    console.log(opened.line);
    if (c.simulate) {
      const { simulateVenues } = await import('../src/testing/index.js');
      // A second run goes on from where the first one's fast clock left the candles.
      const start = await simulatedStart(storage, c.venues, c.symbols);
      sim = await simulateVenues({ clock: { start, speed: c.speed } });
      console.log(simulatorsLine(sim, `, clock ${c.speed}× from ${iso(start)}`));
    }
    clients.push(...createClients(c.venues, sim, c.coinalyzeKey));
    const now = sim ? sim.clock.now : Date.now;
    const t0 = now();
    // Whole hours, so that runs of the same hour ask for the same range.
    const from =
      c.from === undefined
        ? Math.floor((t0 - (c.simulate ? 1 : 30) * DAY) / HOUR) * HOUR
        : parseTime('--from', c.from, t0);
    if (from >= t0) throw new UsageError('--from must be in the past');
    console.log(
      `backfill then live: ${c.venues.join(', ')} × ${c.symbols.join(', ')} × ${c.kinds?.join(', ') ?? 'every kind'} from ${iso(from)}`,
    );

    const sync = new Sync({
      storage,
      clients,
      symbols: c.symbols,
      ...(c.kinds ? { kinds: c.kinds } : {}),
      from,
      derive: DERIVE,
      signal: controller.signal,
      // Live rows land within a quarter of a second; the backfill's derived series, computed one after
      // the other, each wait for their last batch this long.
      batchDelayMs: 250,
      ...(sim ? { clock: sim.clock } : {}),
    });
    const p = createProgress(
      clients.map((client) => client.venue),
      process.stdout.isTTY === true,
    );
    progress = p;
    const offBackfill = backfillEvents(sync, p);

    const { backfill, live } = await sync.run();
    offBackfill();
    p.stop();
    progress = undefined;
    printBackfillReport(backfill, sim);
    // Where each series' backfill ended: what live stores is counted from there.
    const handoff = new Map(backfill.series.map((r) => [r.id, r.to]));

    const liveStarted = Date.now();
    const simStarted = now();
    if (!controller.signal.aborted) {
      console.log('');
      console.log(
        `live: keeping every series current${c.durationMs === undefined ? ' until Ctrl-C' : ` for ${span(c.durationMs)}`} ` +
          '(candles streamed, other kinds polled after each period closes; derived series follow their inputs)',
      );
      if (c.durationMs !== undefined)
        durationTimer = setTimeout(() => controller.abort(new Error('duration')), c.durationMs);
      const tty = process.stdout.isTTY === true;
      view = watchLive(live, {
        tty,
        now,
        clockNote: sim ? `simulated, ${c.speed}×` : 'venue clock',
      });
      const liveView = view;
      const offLive = [
        sync.on('error', (e) =>
          liveView.log(`error: ${e.series ? `${e.series.id}: ` : ''}${e.error.message.split('\n')[0]}`),
        ),
        sync.on('banned', (e) => liveView.log(`banned by ${e.venue}: ${e.message} (waiting)`)),
        sync.on('retry', (e) =>
          liveView.log(
            `retry: ${e.what}: ${String((e.error as Error)?.message ?? e.error).split('\n')[0]} (again in ${span(e.delayMs)})`,
          ),
        ),
      ];
      await new Promise<void>((resolve) => {
        if (controller.signal.aborted) resolve();
        else controller.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      for (const off of offLive) off();
    } else {
      console.log(
        'stopped during the backfill: what was fetched is stored; the next run goes on from there.',
      );
    }
    clearTimeout(durationTimer);
    const realMs = Date.now() - liveStarted;
    const simulatedMs = now() - simStarted;
    const stopping = Date.now();
    const stoppedAt = Math.floor(now() / 1000) * 1000;
    await live.stop();
    view?.stop();
    view = undefined;
    const health = live.health();
    const why = controller.signal.reason instanceof Error ? controller.signal.reason.message : 'stop';
    console.log(
      `live stopped (${why}) at ${iso(stoppedAt)}${sim ? ' (simulated)' : ''} in ${span(Date.now() - stopping)}; ${stateCounts(health)}`,
    );
    await printLiveSummary(storage, health, (id) => handoff.get(id) ?? from, {
      job: 'live',
      realMs,
      ...(sim ? { simulatedMs } : {}),
    });
    return 0;
  } catch (error) {
    progress?.stop();
    view?.stop();
    if (error instanceof UsageError) {
      console.error(`backfill-then-live: ${error.message}\nRun with --help for the options.`);
      return 2;
    }
    const message = error instanceof PerpdataError ? error.message : String((error as Error)?.stack ?? error);
    console.error(`backfill-then-live failed: ${message}`);
    return 1;
  } finally {
    clearTimeout(durationTimer);
    await Promise.allSettled(clients.map((client) => client.close()));
    await storage?.close().catch(() => {});
    await sim?.close();
  }
}

process.exitCode = await main();
