/**
 * Backfill every data kind of a symbol list across venues with `Sync`, into PostgreSQL or an embedded
 * PGlite database, with a progress bar per venue and a summary at the end. Run it again and it resumes
 * from the coverage ledger: only what is missing (the tail that closed since) is fetched.
 *
 *   npm run example:backfill                                # = npx tsx examples/backfill.ts --simulate
 *   npx tsx examples/backfill.ts --help
 *   npx tsx examples/backfill.ts --venues binance,okx --symbols BTC,ETH --kinds candles,funding --from 7d
 *   DATABASE_URL=postgres://user@localhost/db npx tsx examples/backfill.ts --from 2024-06-01
 *
 * `--simulate` starts the venue simulators of perpdata/testing on 127.0.0.1 (a synthetic market on the
 * real clock, with venue-side outages that show up as holes) and points the clients at them: no
 * network. Without it, it talks to the real venues.
 */
import { parseArgs } from 'node:util';
import {
  HISTORY_KINDS,
  type HistoryKind,
  PerpdataError,
  type PostgresStorage,
  Sync,
  type VenueClient,
} from '../src/index.js';
import type { Simulation, SyntheticHole } from '../src/testing/index.js';
import {
  checkCoinalyze,
  checkDataDir,
  DAY,
  HOUR,
  MINUTE,
  parseKinds,
  parseSchema,
  parseSymbols,
  parseTime,
  parseVenues,
  UsageError,
  VENUES,
  type Venue,
} from './lib/cli.js';
import { iso } from './lib/format.js';
import { createProgress, type Progress } from './lib/progress.js';
import {
  backfillEvents,
  createClients,
  DERIVE,
  openStorage,
  printBackfillReport,
  simulatorsLine,
} from './lib/setup.js';

const USAGE = `Usage: npx tsx examples/backfill.ts [options]

Backfills every kind of a symbol list across venues with Sync, resumable: run it again and only what
is missing is fetched.

Options:
  --venues LIST     comma-separated: ${VENUES.join(', ')} (default: binance,bybit,okx;
                    coinalyze needs COINALYZE_API_KEY unless --simulate)
  --symbols LIST    canonical base assets (default: BTC,ETH,PEPE)
  --kinds LIST      ${HISTORY_KINDS.join(', ')} (default: every kind each venue serves)
  --from TIME       start: ISO date, epoch ms, or an age like 12h, 2d, 4w
                    (default: 2d with --simulate, else 30d)
  --to TIME         end (default: now; only closed periods are stored)
  --simulate        use the local venue simulators of perpdata/testing (no network)
  --data-dir DIR    embedded PGlite folder when DATABASE_URL is unset
                    (default: ./.perpdata/simulated with --simulate, else ./.perpdata/db)
  --schema NAME     PostgreSQL schema (default: perpdata_simulated with --simulate, else public)
  -h, --help        print this help

Environment:
  DATABASE_URL       PostgreSQL connection string; unset: embedded PGlite in --data-dir
  COINALYZE_API_KEY  Coinalyze API key (free at coinalyze.net)

Ctrl-C stops the run: what was fetched is written, and the next run goes on from there.`;

interface Config {
  readonly venues: readonly Venue[];
  readonly symbols: readonly string[];
  readonly kinds: readonly HistoryKind[] | undefined;
  readonly from: number;
  readonly to: number | undefined;
  readonly simulate: boolean;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly schema: string | undefined;
  readonly coinalyzeKey: string | undefined;
}

function parseConfig(argv: string[], env: NodeJS.ProcessEnv): Config | 'help' {
  let values: ReturnType<typeof parse>['values'];
  function parse() {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        venues: { type: 'string' },
        symbols: { type: 'string' },
        kinds: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        simulate: { type: 'boolean', default: false },
        'data-dir': { type: 'string' },
        schema: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  }
  try {
    values = parse().values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const simulate = values.simulate === true;

  const venues = parseVenues(values.venues ?? 'binance,bybit,okx');
  const coinalyzeKey = env.COINALYZE_API_KEY?.trim() || undefined;
  checkCoinalyze(venues, simulate, coinalyzeKey);
  const symbols = parseSymbols(values.symbols ?? 'BTC,ETH,PEPE');
  const kinds = parseKinds(values.kinds);

  const now = Date.now();
  // Whole hours, so that runs of the same hour ask for the same range.
  const defaultFrom = Math.floor((now - (simulate ? 2 : 30) * DAY) / HOUR) * HOUR;
  const from = values.from === undefined ? defaultFrom : parseTime('--from', values.from, now);
  const to = values.to === undefined ? undefined : parseTime('--to', values.to, now);
  if (to !== undefined && to <= from) throw new UsageError('--to must be after --from');
  if (from >= now) throw new UsageError('--from must be in the past');

  const schema = parseSchema(values.schema);
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  checkDataDir(databaseUrl, values['data-dir']);
  return {
    venues,
    symbols,
    kinds,
    from,
    to,
    simulate,
    databaseUrl,
    dataDir: values['data-dir'] ?? (simulate ? './.perpdata/simulated' : './.perpdata/db'),
    // The simulated market goes to a schema of its own so that it never mixes with real data.
    schema: schema ?? (simulate && databaseUrl ? 'perpdata_simulated' : undefined),
    coinalyzeKey,
  };
}

// ---------------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  let config: Config | 'help';
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`backfill: ${error.message}\nRun with --help for the options.`);
    return 2;
  }
  if (config === 'help') {
    console.log(USAGE);
    return 0;
  }
  const c = config;

  // Ctrl-C: the first stops the run (Sync flushes what was fetched), the second exits at once.
  const controller = new AbortController();
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    controller.abort(new Error('interrupted'));
    console.error('\nstopping: writing what was fetched (Ctrl-C again to quit at once)…');
  });

  let sim: Simulation | undefined;
  const clients: VenueClient[] = [];
  let storage: PostgresStorage | undefined;
  let progress: Progress | undefined;
  try {
    let now: () => number = Date.now;
    if (c.simulate) {
      const { simulateVenues } = await import('../src/testing/index.js');
      // Venue-side outages at fixed times of the day (the same in both runs of the same day).
      const today = Math.floor(Date.now() / DAY) * DAY;
      const holes: SyntheticHole[] = [
        { symbol: 'BTC', from: today - 21 * HOUR, to: today - 21 * HOUR + 25 * MINUTE },
        { symbol: 'PEPE', from: today - 10 * HOUR, to: today - 8 * HOUR },
      ];
      sim = await simulateVenues({ holes, ws: false }); // the real clock: the next run has a tail to fetch
      now = sim.clock.now;
      console.log(simulatorsLine(sim, ''));
    }
    clients.push(...createClients(c.venues, sim, c.coinalyzeKey));
    const opened = await openStorage(c);
    storage = opened.storage;
    console.log(opened.line);
    console.log(
      `backfill ${c.venues.join(', ')} × ${c.symbols.join(', ')} × ${c.kinds?.join(', ') ?? 'every kind'} from ${iso(c.from)} to ${c.to === undefined ? 'now' : iso(c.to)}`,
    );

    const sync = new Sync({
      storage,
      clients,
      symbols: c.symbols,
      ...(c.kinds ? { kinds: c.kinds } : {}),
      from: c.from,
      ...(c.to !== undefined ? { to: c.to } : {}),
      derive: DERIVE,
      signal: controller.signal,
      now,
    });
    const p = createProgress(
      clients.map((client) => client.venue),
      process.stdout.isTTY === true,
    );
    progress = p;
    backfillEvents(sync, p);

    const report = await sync.backfill();
    p.stop();
    progress = undefined;

    const failed = printBackfillReport(report, sim);
    if (!report.resumed && !report.aborted) {
      console.log(
        'Fresh start: nothing was stored yet. Run it again to see it resume from the coverage ledger.',
      );
    }
    if (report.aborted) {
      console.log('Stopped early: what was fetched is stored; the next run goes on from there.');
      return 130;
    }
    return failed.length > 0 ? 1 : 0;
  } catch (error) {
    progress?.stop();
    if (controller.signal.aborted) {
      console.error('stopped.');
      return 130;
    }
    const message = error instanceof PerpdataError ? error.message : String((error as Error)?.stack ?? error);
    console.error(`backfill failed: ${message}`);
    return 1;
  } finally {
    await Promise.allSettled(clients.map((client) => client.close()));
    await storage?.close().catch(() => {});
    await sim?.close();
  }
}

process.exitCode = await main();
