/**
 * Backfill every data kind of a symbol list across venues with `Sync`, into PostgreSQL or an embedded
 * PGlite database, with a progress bar per venue and a summary at the end. Run it again and it resumes
 * from the coverage ledger: only what is missing (the tail that closed since) is fetched.
 *
 *   npm run demo                                            # = npx tsx examples/backfill.ts --simulate
 *   npx tsx examples/backfill.ts --help
 *   npx tsx examples/backfill.ts --venues binance,okx --symbols BTC,ETH --kinds candles,funding --from 7d
 *   DATABASE_URL=postgres://user@localhost/db npx tsx examples/backfill.ts --from 2024-06-01
 *
 * `--simulate` starts the venue simulators of perpdata/testing on 127.0.0.1 (a synthetic market on the
 * real clock, with venue-side outages that show up as holes) and points the clients at them: no
 * network. Without it, it talks to the real venues.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import {
  BinanceClient,
  BybitClient,
  CoinalyzeClient,
  HISTORY_KINDS,
  type HistoryKind,
  intervalMs,
  OkxClient,
  openPostgresStorage,
  PerpdataError,
  type PostgresStorage,
  redactUrl,
  type SeriesReport,
  Sync,
  type SyncOptions,
  toEpochMs,
  type VenueClient,
} from '../src/index.js';
import type { Simulation, SyntheticHole } from '../src/testing/index.js';

const VENUES = ['binance', 'bybit', 'okx', 'coinalyze'] as const;
type Venue = (typeof VENUES)[number];
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const DERIVE = {
  rsi: [14],
  marketAverage: true,
  expandTo1m: ['openInterest', 'longShortRatio'],
  takerTo1m: true,
} as const satisfies SyncOptions['derive'];

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

/** A bad flag or value: printed with a hint, exit code 2. */
class UsageError extends Error {}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/** `12h`, `2d`, `4w`, `90m` before `now`; otherwise an ISO date or epoch ms. */
function parseTime(flag: string, value: string, now: number): number {
  const age = /^(\d+(?:\.\d+)?)\s*(m|h|d|w)$/i.exec(value.trim());
  if (age) {
    const unit = { m: MINUTE, h: HOUR, d: DAY, w: 7 * DAY }[(age[2] as string).toLowerCase() as 'm'];
    return now - Number(age[1]) * unit;
  }
  const input = /^\d+$/.test(value) ? Number(value) : value;
  try {
    return toEpochMs(input, flag);
  } catch {
    throw new UsageError(
      `${flag}: ${JSON.stringify(value)} is not a time (an ISO date like 2024-06-01, epoch ms, or an age like 2d)`,
    );
  }
}

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

  const venues = [...new Set(list(values.venues ?? 'binance,bybit,okx').map((v) => v.toLowerCase()))];
  if (venues.length === 0) throw new UsageError('--venues: give at least one venue');
  for (const v of venues)
    if (!(VENUES as readonly string[]).includes(v))
      throw new UsageError(`--venues: unknown venue ${JSON.stringify(v)} (one of ${VENUES.join(', ')})`);
  const coinalyzeKey = env.COINALYZE_API_KEY?.trim() || undefined;
  if (venues.includes('coinalyze') && !simulate && !coinalyzeKey)
    throw new UsageError(
      'coinalyze needs an API key: set COINALYZE_API_KEY (free at coinalyze.net), or add --simulate, or leave coinalyze out of --venues',
    );

  const symbols = [...new Set(list(values.symbols ?? 'BTC,ETH,PEPE').map((s) => s.toUpperCase()))];
  if (symbols.length === 0) throw new UsageError('--symbols: give at least one symbol');
  for (const s of symbols) {
    if (!/^[A-Z0-9]{1,30}$/.test(s))
      throw new UsageError(`--symbols: ${JSON.stringify(s)} is not a base asset like BTC`);
    if (s === 'MT') throw new UsageError('--symbols: MT is the derived market token, it cannot be fetched');
  }

  let kinds: HistoryKind[] | undefined;
  if (values.kinds !== undefined && values.kinds.trim() !== 'all') {
    kinds = [...new Set(list(values.kinds))] as HistoryKind[];
    if (kinds.length === 0) throw new UsageError('--kinds: give at least one kind');
    for (const k of kinds)
      if (!HISTORY_KINDS.includes(k))
        throw new UsageError(
          `--kinds: unknown kind ${JSON.stringify(k)} (one of ${HISTORY_KINDS.join(', ')})`,
        );
  }

  const now = Date.now();
  // Whole hours, so that runs of the same hour ask for the same range.
  const defaultFrom = Math.floor((now - (simulate ? 2 : 30) * DAY) / HOUR) * HOUR;
  const from = values.from === undefined ? defaultFrom : parseTime('--from', values.from, now);
  const to = values.to === undefined ? undefined : parseTime('--to', values.to, now);
  if (to !== undefined && to <= from) throw new UsageError('--to must be after --from');
  if (from >= now) throw new UsageError('--from must be in the past');

  const schema = values.schema;
  if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema))
    throw new UsageError(`--schema: ${JSON.stringify(schema)} is not a plain identifier`);
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && values['data-dir'] !== undefined)
    throw new UsageError('--data-dir applies to the embedded database; unset DATABASE_URL to use it');
  return {
    venues: venues as Venue[],
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
// Formatting

const fmt = (n: number) => n.toLocaleString('en-US');
const iso = (ts: number) => new Date(ts).toISOString().replace(':00.000Z', 'Z');
const plural = (n: number, one: string, many = `${one}s`) => `${fmt(n)} ${n === 1 ? one : many}`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A plain-text table with right-aligned numeric columns. */
function table(head: string[], rows: string[][], numeric: boolean[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Series computed from stored inputs rather than fetched. */
function isDerived(r: SeriesReport): boolean {
  return r.derived;
}

const venueName = (r: { key: SeriesReport['key'] }) =>
  r.key.source === r.key.exchange ? r.key.source : `${r.key.source}/${r.key.exchange}`;

// ---------------------------------------------------------------------------------------------------
// Progress: a bar per venue on a TTY, plain lines otherwise

interface Progress {
  /** A line that must not break the bars. */
  log(line: string): void;
  update(venue: string, id: string, done: number, total: number, rows: number): void;
  finished(report: SeriesReport): void;
  stop(): void;
}

function createProgress(venues: readonly string[], tty: boolean): Progress {
  const series = new Map<string, Map<string, { done: number; total: number; rows: number; over: boolean }>>();
  for (const v of venues) series.set(v, new Map());
  const totals = (venue: string) => {
    let done = 0;
    let total = 0;
    let rows = 0;
    let over = 0;
    const all = series.get(venue) ?? new Map();
    for (const s of all.values()) {
      done += s.done;
      total += s.total;
      rows += s.rows;
      if (s.over) over++;
    }
    return { permille: total > 0 ? Math.floor((1000 * done) / total) : 0, rows, over, known: all.size };
  };
  const entry = (venue: string, id: string) => {
    let perVenue = series.get(venue);
    if (!perVenue) {
      perVenue = new Map();
      series.set(venue, perVenue);
    }
    let e = perVenue.get(id);
    if (!e) {
      e = { done: 0, total: 0, rows: 0, over: false };
      perVenue.set(id, e);
    }
    return e;
  };

  if (tty) {
    const multibar = new cliProgress.MultiBar(
      {
        format: ' {venue} |{bar}| {percentage}% | {over}/{known} series | {rows} rows | {duration_formatted}',
        hideCursor: true,
        clearOnComplete: false,
        autopadding: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    const width = Math.max(...venues.map((v) => v.length));
    const bars = new Map(
      venues.map((v) => [
        v,
        multibar.create(1000, 0, { venue: v.padEnd(width), over: 0, known: 0, rows: '0' }),
      ]),
    );
    const redraw = (venue: string) => {
      const t = totals(venue);
      bars.get(venue)?.update(t.permille, { over: t.over, known: t.known, rows: fmt(t.rows) });
    };
    return {
      log: (line) => multibar.log(`${line}\n`),
      update(venue, id, done, total, rows) {
        Object.assign(entry(venue, id), { done, total, rows });
        redraw(venue);
      },
      finished(report) {
        const venue = report.key.source;
        const span = Math.max(1, report.to - report.from);
        Object.assign(entry(venue, report.id), {
          done: span,
          total: span,
          rows: report.rowsFetched,
          over: true,
        });
        redraw(venue);
      },
      stop: () => multibar.stop(),
    };
  }

  const started = Date.now();
  const timer = setInterval(() => {
    const parts = [...series.keys()].map((v) => {
      const t = totals(v);
      return `${v} ${(t.permille / 10).toFixed(1)}% (${t.over}/${t.known} series, ${fmt(t.rows)} rows)`;
    });
    console.log(`[${seconds(Date.now() - started)}] ${parts.join(' | ')}`);
  }, 5_000);
  timer.unref();
  return {
    log: (line) => console.log(line),
    update(venue, id, done, total, rows) {
      Object.assign(entry(venue, id), { done, total, rows });
    },
    finished(report) {
      const span = Math.max(1, report.to - report.from);
      Object.assign(entry(report.key.source, report.id), {
        done: span,
        total: span,
        rows: report.rowsFetched,
        over: true,
      });
      const what =
        report.outcome !== 'done'
          ? `${report.outcome}${report.error ? `: ${report.error.message.split('\n')[0]}` : ''}`
          : report.spansFetched === 0 && report.rowsFetched === 0
            ? 'already complete'
            : report.rowsFetched === 0
              ? 'up to date (nothing new since the last run)'
              : `${plural(report.rowsFetched, 'row')}${report.gaps.length > 0 ? `, ${plural(report.gaps.length, 'hole')}` : ''}`;
      console.log(`${report.outcome === 'done' ? 'done ' : 'skip '} ${report.id}: ${what}`);
    },
    stop: () => clearInterval(timer),
  };
}

// ---------------------------------------------------------------------------------------------------
// Summary

function summary(reports: readonly SeriesReport[]): string {
  // One row per venue and kind (and interval); the MT token's series in one row per venue.
  const groups = new Map<string, { venue: string; label: string; list: SeriesReport[] }>();
  for (const r of reports) {
    const venue = venueName(r);
    const label =
      r.key.symbol === 'MT'
        ? 'MT token (derived)'
        : `${r.kind}${r.key.interval ? ` ${r.key.interval}` : ''}${isDerived(r) ? ' (derived)' : ''}`;
    const id = `${venue} ${label}`;
    const group = groups.get(id) ?? { venue, label, list: [] };
    group.list.push(r);
    groups.set(id, group);
  }
  const rows = [...groups.values()]
    .sort((a, b) => a.venue.localeCompare(b.venue) || a.label.localeCompare(b.label))
    .map(({ venue, label, list }) => [
      venue,
      label,
      `${list.filter((r) => r.outcome === 'done').length}/${list.length}`,
      fmt(list.reduce((n, r) => n + r.rowsWritten, 0)),
      fmt(list.reduce((n, r) => n + r.gaps.length, 0)),
      fmt(list.filter((r) => r.outcome === 'error').length),
    ]);
  const numeric = [false, false, true, true, true, true];
  return table(['venue', 'kind', 'series', 'rows', 'holes', 'errors'], rows, numeric);
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
      console.log(
        `simulated venues on 127.0.0.1 (binance ${sim.urls.binance.baseUrl}, bybit ${sim.urls.bybit.baseUrl}, okx ${sim.urls.okx.baseUrl}, coinalyze ${sim.urls.coinalyze.baseUrl})`,
      );
    }
    for (const venue of c.venues) {
      if (venue === 'binance') clients.push(new BinanceClient(sim ? sim.clientOptions('binance') : {}));
      if (venue === 'bybit') clients.push(new BybitClient(sim ? sim.clientOptions('bybit') : {}));
      if (venue === 'okx') clients.push(new OkxClient(sim ? sim.clientOptions('okx') : {}));
      if (venue === 'coinalyze')
        clients.push(
          new CoinalyzeClient(
            sim
              ? sim.clientOptions('coinalyze', 'binance')
              : { apiKey: c.coinalyzeKey!, exchange: 'binance' },
          ),
        );
    }

    // PGlite creates its own folder, not the folders above it.
    if (!c.databaseUrl) await mkdir(dirname(resolve(c.dataDir)), { recursive: true });
    storage = await openPostgresStorage({
      url: c.databaseUrl,
      ...(c.databaseUrl ? {} : { dataDir: c.dataDir }),
      ...(c.schema ? { schema: c.schema } : {}),
    });
    console.log(
      c.databaseUrl
        ? `storage: PostgreSQL ${redactUrl(c.databaseUrl)}, schema ${c.schema ?? 'public'}`
        : `storage: embedded PGlite in ${c.dataDir} (kept for the next run; delete the folder to start over)`,
    );
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
    const warned = new Set<string>();
    sync.on('progress', (e) => p.update(e.series.key.source, e.series.id, e.done, e.total, e.rows));
    sync.on('seriesDone', (e) => p.finished(e.report));
    sync.on('warning', (e) => {
      // Said once: a clamped range or an unlisted symbol reads the same for every kind or symbol.
      const message = e.message.replace(/^\S+: /, '');
      if (warned.has(message)) return;
      warned.add(message);
      const notice = e.code === 'UNLISTED' || e.code === 'UNSUPPORTED' || e.code === 'RANGE_CLAMPED';
      p.log(`${notice ? 'note' : 'warning'}: ${message}`);
    });
    sync.on('banned', (e) => p.log(`banned by ${e.venue}: ${e.message} (waiting)`));
    sync.on('error', (e) =>
      p.log(`error: ${e.series ? `${e.series.id}: ` : ''}${e.error.message.split('\n')[0]}`),
    );

    const report = await sync.backfill();
    p.stop();
    progress = undefined;

    console.log('');
    console.log(summary(report.series));
    console.log('');
    const fetched = report.series.filter((r) => !isDerived(r));
    const failed = report.series.filter((r) => r.outcome === 'error');
    const skipped = report.series.filter((r) => r.outcome === 'unlisted' || r.outcome === 'unsupported');
    for (const r of failed) console.log(`error: ${r.id}: ${r.error?.message.split('\n')[0] ?? ''}`);
    // Skipped series per venue and symbol (an unlisted symbol skips every kind of it).
    const skips = new Map<string, SeriesReport[]>();
    for (const r of skipped) {
      const id = `${r.outcome}: ${venueName(r)} ${r.key.symbol}`;
      skips.set(id, [...(skips.get(id) ?? []), r]);
    }
    for (const [id, list] of skips)
      console.log(
        `${id} (${plural(list.length, 'series', 'series')}): ${list[0]?.error?.message.split('\n')[0] ?? ''}`,
      );
    const holes = report.series.reduce((n, r) => n + r.gaps.length, 0);
    const requests = sim
      ? `; ${plural(sim.stats.requests(), 'request')} to the simulators (${VENUES.filter(
          (v) => sim!.stats.requests(v) > 0,
        )
          .map((v) => `${v} ${sim!.stats.requests(v)}`)
          .join(', ')})`
      : '';
    console.log(
      `${plural(report.rowsWritten, 'row')} written, ${plural(holes, 'hole')} recorded in ${seconds(report.elapsedMs)}: ` +
        `${plural(report.series.length, 'series', 'series')} (${fetched.length} fetched, ${report.series.length - fetched.length} derived), ` +
        `${failed.length} failed, ${skipped.length} skipped${requests}.`,
    );
    const complete = fetched.filter((r) => r.outcome === 'done' && r.spansFetched === 0);
    const missing = fetched.filter((r) => r.outcome === 'done' && r.spansFetched > 0);
    const missingRows = plural(
      missing.reduce((n, r) => n + r.rowsFetched, 0),
      'row',
    );
    // What was fetched is "the tail" when no series fetched more than a small part of its range (an
    // interrupted run leaves more: then the rest of its range is fetched).
    const onlyTail = missing.every(
      (r) => !r.key.interval || r.rowsFetched * intervalMs(r.key.interval) <= 0.1 * (r.to - r.from),
    );
    if (report.resumed) {
      console.log(
        `Resumed from the coverage ledger: ${complete.length} of ${fetched.length} fetched series were already complete, ` +
          (onlyTail
            ? `${missing.length} fetched only the tail closed since the last run (${missingRows}).`
            : `${missing.length} fetched what the last run left missing (${missingRows}).`),
      );
    } else if (!report.aborted) {
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
