/**
 * A web dashboard over a perpdata database: every series with its coverage (stored, empty, missing),
 * lag, job status and recent errors, a paginated table and a candle chart with RSI below it.
 *
 *   npm run example:dashboard -- --simulate       # fill a database from the simulated venues, serve it
 *   npm run example:dashboard                     # serve an existing database (DATABASE_URL or ./.perpdata/db)
 *   npx tsx examples/dashboard/main.ts --help
 *
 * With `--simulate` it runs the pipeline of examples/backfill-then-live.ts on the venue simulators of
 * perpdata/testing (a backfill, then live until Ctrl-C) while serving the dashboard, so the page shows
 * the backfill's progress, then the series kept current. Without it, it only reads: use the read-only
 * role of examples/dashboard/README.md.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import {
  HISTORY_KINDS,
  type HistoryKind,
  PerpdataError,
  PostgresStorage,
  redactUrl,
  Sync,
  type VenueClient,
} from '../../src/index.js';
import type { Simulation } from '../../src/testing/index.js';
import {
  configOrExit,
  DAY,
  HOUR,
  MINUTE,
  parseKinds,
  parseSchema,
  parseSymbols,
  parseTime,
  parseVenues,
  UsageError,
  type Venue,
} from '../lib/cli.js';
import { iso } from '../lib/format.js';
import { simulatedStart, stopOnSignals } from '../lib/live.js';
import { createProgress, type Progress } from '../lib/progress.js';
import { backfillEvents, createClients, DERIVE, printBackfillReport, simulatorsLine } from '../lib/setup.js';
import { checkNames, type Queryable } from './queries.js';
import { type Dashboard, startDashboard } from './server.js';

const USAGE = `Usage: npx tsx examples/dashboard/main.ts [options]   (npm run example:dashboard -- [options])

Serves a web dashboard over a perpdata database: series with coverage, holes and lag, job status and
recent errors, a paginated table, a candle chart with RSI. With --simulate it first fills the database
from the local venue simulators (a backfill, then live until Ctrl-C) while serving it.

Options:
  --port N          port to listen on (default: 8787; 0 picks a free one)
  --host ADDR       address to listen on (default: 127.0.0.1)
  --schema NAME     PostgreSQL schema of the tables (default: public; --simulate with DATABASE_URL:
                    perpdata_dashboard)
  --table-prefix P  table prefix, as given to PostgresStorage (default: perp_)
  --data-dir DIR    embedded PGlite folder when DATABASE_URL is unset
                    (default: ./.perpdata/dashboard with --simulate, else ./.perpdata/db)
  --simulate        fill the database from the venue simulators of perpdata/testing (no network) on a
                    fast clock, then keep it current, while serving the dashboard
  --venues LIST     with --simulate: binance, bybit, okx, coinalyze (default: binance,bybit,okx)
  --symbols LIST    with --simulate: base assets (default: BTC,ETH,PEPE)
  --kinds LIST      with --simulate: ${HISTORY_KINDS.join(', ')}
                    (default: every kind each venue serves)
  --from TIME       with --simulate: backfill start, an age like 6h or 2d, an ISO date or epoch ms
                    (default: 1d)
  --speed N         with --simulate: simulated minutes per real minute (default: 60)
  -h, --help        print this help

Environment:
  DATABASE_URL            PostgreSQL connection string; unset: embedded PGlite in --data-dir
  DASHBOARD_DATABASE_URL  connection string the dashboard reads with (e.g. the read-only role of
                          examples/dashboard/README.md); default: DATABASE_URL

Without --simulate the dashboard only reads, each query in a read-only transaction. Ctrl-C stops it.`;

interface Config {
  readonly port: number;
  readonly host: string;
  readonly schema: string;
  readonly tablePrefix: string;
  readonly simulate: boolean;
  readonly venues: readonly Venue[];
  readonly symbols: readonly string[];
  readonly kinds: readonly HistoryKind[] | undefined;
  readonly from: string | undefined;
  readonly speed: number;
  readonly databaseUrl: string | undefined;
  readonly readUrl: string | undefined;
  readonly dataDir: string;
}

function parseConfig(argv: string[], env: NodeJS.ProcessEnv): Config | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        schema: { type: 'string' },
        'table-prefix': { type: 'string' },
        'data-dir': { type: 'string' },
        simulate: { type: 'boolean', default: false },
        venues: { type: 'string' },
        symbols: { type: 'string' },
        kinds: { type: 'string' },
        from: { type: 'string' },
        speed: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const str = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const simulate = values.simulate === true;

  const portText = str('port') ?? '8787';
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 0 && port <= 65_535))
    throw new UsageError(`--port: ${JSON.stringify(portText)} is not a port (0 to 65535)`);
  const host = str('host') ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(host))
    throw new UsageError(`--host: ${JSON.stringify(host)} is not an address or host name`);

  for (const flag of ['venues', 'symbols', 'kinds', 'from', 'speed'])
    if (!simulate && values[flag] !== undefined) throw new UsageError(`--${flag} applies to --simulate only`);
  const venues = parseVenues(str('venues') ?? 'binance,bybit,okx');
  const symbols = parseSymbols(str('symbols') ?? 'BTC,ETH,PEPE');
  const kinds = parseKinds(str('kinds'));
  const speedText = str('speed');
  const speed = speedText === undefined ? 60 : Number(speedText);
  if (!(speed >= 1 && speed <= 3_600))
    throw new UsageError(`--speed: ${JSON.stringify(speedText)} is not a speed from 1 to 3600`);

  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  const readUrl = env.DASHBOARD_DATABASE_URL?.trim() || databaseUrl;
  const dataDir = str('data-dir');
  if (readUrl && dataDir !== undefined)
    throw new UsageError('--data-dir applies to the embedded database; unset DATABASE_URL to use it');
  if (simulate && !databaseUrl && readUrl)
    throw new UsageError('--simulate writes to DATABASE_URL (or embedded PGlite): set DATABASE_URL too');
  const schema = parseSchema(str('schema')) ?? (simulate && databaseUrl ? 'perpdata_dashboard' : 'public');
  const tablePrefix = str('table-prefix') ?? 'perp_';
  try {
    checkNames(schema, tablePrefix);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    port,
    host,
    schema,
    tablePrefix,
    simulate,
    venues,
    symbols,
    kinds,
    from: str('from'),
    speed,
    databaseUrl,
    readUrl,
    dataDir: dataDir ?? (simulate ? './.perpdata/dashboard' : './.perpdata/db'),
  };
}

/** A `pg` pool whose every statement runs read-only and gives up after 15 s. */
function readOnlyPool(url: string): pg.Pool {
  return new pg.Pool({
    connectionString: url,
    max: 4,
    application_name: 'perpdata-dashboard',
    options: '-c default_transaction_read_only=on -c statement_timeout=15000',
  });
}

async function openPglite(dataDir: string): Promise<PGlite> {
  // PGlite creates its folder but not the folders above it.
  await mkdir(dirname(resolve(dataDir)), { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  return new PGlite(dataDir);
}

/** Resolves when `signal` aborts. */
const aborted = (signal: AbortSignal) =>
  new Promise<void>((done) => {
    if (signal.aborted) done();
    else signal.addEventListener('abort', () => done(), { once: true });
  });

async function main(): Promise<number> {
  const c = await configOrExit('dashboard', USAGE, () => parseConfig(process.argv.slice(2), process.env));
  if (typeof c === 'number') return c;

  const controller = new AbortController();
  stopOnSignals(controller);
  const closers: (() => Promise<unknown>)[] = [];
  let dashboard: Dashboard | undefined;
  let progress: Progress | undefined;
  let sim: Simulation | undefined;
  const clients: VenueClient[] = [];
  try {
    // The database: the storage the pipeline writes through (with --simulate) and what the dashboard reads.
    let read: Queryable;
    let storage: PostgresStorage | undefined;
    if (c.simulate) {
      let db: pg.Pool | PGlite;
      if (c.databaseUrl) {
        const pool = new pg.Pool({ connectionString: c.databaseUrl, max: 8 });
        closers.unshift(() => pool.end());
        db = pool;
        console.log(`storage: PostgreSQL ${redactUrl(c.databaseUrl)}, schema ${c.schema}`);
      } else {
        const lite = await openPglite(c.dataDir);
        closers.unshift(() => lite.close());
        db = lite;
        console.log(
          `storage: embedded PGlite in ${c.dataDir} (kept for the next run; delete the folder to start over)`,
        );
      }
      storage = new PostgresStorage({ db, schema: c.schema, tablePrefix: c.tablePrefix });
      const s = storage;
      closers.unshift(() => s.close());
      await storage.migrate();
      if (c.readUrl && c.readUrl !== c.databaseUrl) {
        const pool = readOnlyPool(c.readUrl);
        closers.unshift(() => pool.end());
        read = pool;
      } else read = db;
    } else if (c.readUrl) {
      const pool = readOnlyPool(c.readUrl);
      closers.unshift(() => pool.end());
      read = pool;
      console.log(`database: PostgreSQL ${redactUrl(c.readUrl)}, schema ${c.schema} (read-only)`);
    } else {
      const exists = await stat(c.dataDir).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!exists)
        throw new UsageError(
          `no database in ${c.dataDir}: run an example first (npm run example:backfill -- --data-dir ${c.dataDir}), ` +
            'pass --simulate, or set DATABASE_URL',
        );
      const lite = await openPglite(c.dataDir);
      closers.unshift(() => lite.close());
      await lite.query('SET default_transaction_read_only = on');
      read = lite;
      console.log(`database: embedded PGlite in ${c.dataDir}, schema ${c.schema} (read-only)`);
    }

    let clock: () => number = Date.now;
    dashboard = await startDashboard({
      db: read,
      schema: c.schema,
      tablePrefix: c.tablePrefix,
      port: c.port,
      host: c.host,
      now: () => clock(),
      info: c.simulate ? { mode: 'simulated', speed: c.speed } : { mode: 'read-only' },
    });
    const d = dashboard;
    closers.unshift(() => d.close());
    console.log(`dashboard: ${dashboard.url}`);

    if (!c.simulate || !storage) {
      console.log('serving until Ctrl-C');
      await aborted(controller.signal);
      return 0;
    }

    const { DEFAULT_ASSETS, simulateVenues } = await import('../../src/testing/index.js');
    const start = await simulatedStart(storage, c.venues, c.symbols);
    const from =
      c.from === undefined ? Math.floor((start - DAY) / HOUR) * HOUR : parseTime('--from', c.from, start);
    if (from >= start) throw new UsageError('--from must be in the past');
    // Something for the coverage strips to show: a venue-side outage of BTC (the ledger records it
    // empty) and PEPE listed a quarter into the range (its series start there), at whole minutes.
    const at = (share: number) => Math.floor((from + share * (start - from)) / MINUTE) * MINUTE;
    const outage = { symbol: 'BTC', from: at(0.5), to: at(0.5) + 20 * MINUTE };
    const assets = DEFAULT_ASSETS.map((a) => (a.symbol === 'PEPE' ? { ...a, listedAt: at(0.25) } : a));
    sim = await simulateVenues({ clock: { start, speed: c.speed }, holes: [outage], assets });
    clock = sim.clock.now;
    console.log(simulatorsLine(sim, `, clock ${c.speed}× from ${iso(start)}`));
    console.log(
      `simulated market: BTC has no data on any venue from ${iso(outage.from)} to ${iso(outage.to)}, PEPE is listed at ${iso(at(0.25))}`,
    );
    clients.push(...createClients(c.venues, sim, undefined));
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
      batchDelayMs: 250,
      clock: sim.clock,
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
    if (!controller.signal.aborted) {
      console.log('');
      console.log(
        `live: keeping every series current until Ctrl-C; watch it at ${dashboard.url} (simulated clock, ${c.speed}×)`,
      );
      const off = [
        sync.on('error', (e) =>
          console.log(`error: ${e.series ? `${e.series.id}: ` : ''}${e.error.message.split('\n')[0]}`),
        ),
        sync.on('banned', (e) => console.log(`banned by ${e.venue}: ${e.message} (waiting)`)),
      ];
      await aborted(controller.signal);
      for (const f of off) f();
    }
    await live.stop();
    console.log('live stopped: status rows say stopped; the next run goes on from where the data ends');
    return 0;
  } catch (error) {
    progress?.stop();
    if (error instanceof UsageError) {
      console.error(`dashboard: ${error.message}\nRun with --help for the options.`);
      return 2;
    }
    const message = error instanceof PerpdataError ? error.message : String((error as Error)?.stack ?? error);
    console.error(`dashboard failed: ${message}`);
    return 1;
  } finally {
    await Promise.allSettled(clients.map((client) => client.close()));
    for (const close of closers) await close().catch(() => {});
    await sim?.close();
  }
}

process.exitCode = await main();
