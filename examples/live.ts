/**
 * Live only, from now: `Sync.live()` over a symbol list across venues, with no backfill. Every series
 * starts a quarter of an hour back (so that each 1m and 5m series has a stored end to go on from) and
 * is kept current: candles over WebSocket, the other kinds polled as their periods close. Each row is
 * printed as it is stored, with a health line every 10 s; SIGINT / SIGTERM (or `--duration`) stop it,
 * then a summary.
 *
 *   npx tsx examples/live.ts --simulate                   # the local simulators on a fast clock, 30 s
 *   npx tsx examples/live.ts --symbols BTC --kinds candles  # the real venues, until Ctrl-C
 *   npx tsx examples/live.ts --help
 */
import {
  type AnyRecord,
  type DataKind,
  HISTORY_KINDS,
  PerpdataError,
  type PostgresStorage,
  type SeriesHealth,
  Sync,
  type VenueClient,
} from '../src/index.js';
import type { Simulation } from '../src/testing/index.js';
import { configOrExit, MINUTE } from './lib/cli.js';
import { iso, span } from './lib/format.js';
import {
  lagByPeriod,
  parseLiveConfig,
  printLiveSummary,
  simulatedStart,
  stateCounts,
  stopOnSignals,
} from './lib/live.js';
import { createClients, openStorage, simulatorsLine } from './lib/setup.js';

const USAGE = `Usage: npx tsx examples/live.ts [options]

Keeps every kind of a symbol list current across venues with Sync.live(), from now (no backfill),
printing each row as it is stored and the series' health every 10 s; then a summary.

Options:
  --venues LIST     comma-separated: binance, bybit, okx, coinalyze (default: binance,bybit,okx, plus
                    coinalyze when COINALYZE_API_KEY is set; --simulate: binance,bybit,okx)
  --symbols LIST    canonical base assets (default: BTC,ETH,PEPE)
  --kinds LIST      ${HISTORY_KINDS.join(', ')}
                    (default: every kind each venue serves)
  --duration TIME   how long to run (wall clock): 30s, 10m, 2h, 1d, or forever (until
                    SIGINT / SIGTERM) (default: forever; with --simulate 30s)
  --config FILE     a JSON object with the same settings ({"symbols": ["BTC"], "duration": "1h", ...});
                    flags win over the file
  --simulate        use the local venue simulators of perpdata/testing (no network) on a fast clock
  --speed N         simulated minutes per real minute with --simulate (default: 60)
  --data-dir DIR    embedded PGlite folder when DATABASE_URL is unset
                    (default: ./.perpdata/demo with --simulate, else ./.perpdata/db)
  --schema NAME     PostgreSQL schema (default: perpdata_demo with --simulate, else public)
  -h, --help        print this help

Environment:
  DATABASE_URL       PostgreSQL connection string; unset: embedded PGlite in --data-dir
  COINALYZE_API_KEY  Coinalyze API key (free at coinalyze.net)`;

/** How far back the series start: one closed 5m period at least. */
const LOOKBACK_MS = 15 * MINUTE;

const num = (n: number | undefined) =>
  n === undefined ? '-' : Math.abs(n) >= 1e6 || Math.abs(n) < 1e-3 ? n.toPrecision(6) : String(+n.toFixed(6));
const pct = (n: number) => `${(n * 100).toFixed(4)} %`;

/** The values of one stored row, in a line. */
function describe(kind: DataKind, row: AnyRecord): string {
  const r = row as unknown as Record<string, number | string | undefined>;
  const n = (field: string) => num(r[field] as number | undefined);
  switch (kind) {
    case 'candles':
      return `o ${n('open')}  h ${n('high')}  l ${n('low')}  c ${n('close')}  v ${n('volume')}`;
    case 'funding':
      return `rate ${pct(r.rate as number)}${r.markPrice === undefined ? '' : `  mark ${n('markPrice')}`}`;
    case 'predictedFunding':
      return `rate ${pct(r.rate as number)}${r.nextFundingTime === undefined ? '' : `  settles ${iso(r.nextFundingTime as number)}`}`;
    case 'openInterest':
      return `open interest ${n('openInterest')}${r.openInterestUsd === undefined ? '' : ` (${n('openInterestUsd')} USD)`}`;
    case 'longShortRatio':
      return `long/short ${n('ratio')}`;
    case 'takerVolume':
      return `taker buy ${n('buyVolume')}  sell ${n('sellVolume')}`;
    case 'liquidations':
      return `liquidated long ${n('longUsd')} USD  short ${n('shortUsd')} USD`;
    default:
      return Object.entries(r)
        .filter(([k, v]) => typeof v === 'number' && k !== 'ts')
        .map(([k, v]) => `${k} ${num(v as number)}`)
        .join('  ');
  }
}

async function main(): Promise<number> {
  const c = await configOrExit('live', USAGE, () =>
    parseLiveConfig(process.argv.slice(2), process.env, { withFrom: false }),
  );
  if (typeof c === 'number') return c;

  const controller = new AbortController();
  stopOnSignals(controller);
  for (const note of c.notes) console.log(note);

  let sim: Simulation | undefined;
  const clients: VenueClient[] = [];
  let storage: PostgresStorage | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    const opened = await openStorage(c);
    storage = opened.storage;
    const store = storage;
    console.log(opened.line);
    if (c.simulate) {
      const { simulateVenues } = await import('../src/testing/index.js');
      const start = await simulatedStart(storage, c.venues, c.symbols);
      sim = await simulateVenues({ clock: { start, speed: c.speed } });
      console.log(simulatorsLine(sim, `, clock ${c.speed}× from ${iso(start)}`));
    }
    clients.push(...createClients(c.venues, sim, c.coinalyzeKey));
    const now = sim ? sim.clock.now : Date.now;
    const from = Math.floor((now() - LOOKBACK_MS) / MINUTE) * MINUTE;
    console.log(
      `live: ${c.venues.join(', ')} × ${c.symbols.join(', ')} × ${c.kinds?.join(', ') ?? 'every kind'} from ${iso(from)}` +
        `${c.durationMs === undefined ? ' until Ctrl-C' : ` for ${span(c.durationMs)}`}`,
    );

    const sync = new Sync({
      storage,
      clients,
      symbols: c.symbols,
      ...(c.kinds ? { kinds: c.kinds } : {}),
      from,
      signal: controller.signal,
      ...(sim ? { clock: sim.clock } : {}),
    });
    sync.on('error', (e) =>
      console.log(`error: ${e.series ? `${e.series.id}: ` : ''}${e.error.message.split('\n')[0]}`),
    );
    sync.on('warning', (e) => console.log(`note: ${e.message}`));
    sync.on('banned', (e) => console.log(`banned by ${e.venue}: ${e.message} (waiting)`));

    const started = Date.now();
    const simStarted = now();
    const live = sync.live();
    if (c.durationMs !== undefined)
      timers.push(setTimeout(() => controller.abort(new Error('duration')), c.durationMs));

    // Rows as they are stored: each series read from where the last look ended.
    const cursor = new Map<string, number>();
    let reading: Promise<void> | undefined;
    const print = async (health: readonly SeriesHealth[]) => {
      for (const h of health) {
        if (h.lastTs === undefined) continue;
        const at = cursor.get(h.series.id) ?? from;
        if (h.lastTs < at) continue;
        cursor.set(h.series.id, h.lastTs + 1);
        for await (const page of store.read(h.series.kind, h.series.key, at, h.lastTs + 1))
          for (const row of page)
            console.log(`${iso(row.ts)}  ${h.series.id.padEnd(42)}  ${describe(h.series.kind, row)}`);
      }
    };
    timers.push(
      setInterval(() => {
        if (reading || controller.signal.aborted) return;
        reading = print(live.health())
          .catch((error: unknown) => console.log(`could not read what was stored: ${String(error)}`))
          .finally(() => {
            reading = undefined;
          });
      }, 1_000),
      setInterval(() => {
        const health = live.health();
        console.log(
          `[live ${span(Date.now() - started)} · ${iso(Math.floor(now() / 1000) * 1000)}${sim ? ` (simulated, ${c.speed}×)` : ''}] ${stateCounts(health)}; lag: ${lagByPeriod(health)}`,
        );
      }, 10_000),
    );

    await new Promise<void>((resolve) => {
      if (controller.signal.aborted) resolve();
      else controller.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    for (const t of timers) clearInterval(t);
    await reading;
    const realMs = Date.now() - started;
    const simulatedMs = now() - simStarted;
    const stoppedAt = Math.floor(now() / 1000) * 1000;
    await live.stop();
    const health = live.health();
    console.log(`live stopped at ${iso(stoppedAt)}${sim ? ' (simulated)' : ''}; ${stateCounts(health)}`);
    await printLiveSummary(storage, health, () => from, {
      job: 'live',
      realMs,
      ...(sim ? { simulatedMs } : {}),
    });
    return 0;
  } catch (error) {
    const message = error instanceof PerpdataError ? error.message : String((error as Error)?.stack ?? error);
    console.error(`live failed: ${message}`);
    return 1;
  } finally {
    for (const t of timers) clearInterval(t);
    await Promise.allSettled(clients.map((client) => client.close()));
    await storage?.close().catch(() => {});
    await sim?.close();
  }
}

process.exitCode = await main();
