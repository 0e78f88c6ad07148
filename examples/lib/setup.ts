/**
 * What the examples share around a `Sync`: the venue clients (real, or pointed at the simulators),
 * the storage (`DATABASE_URL` or embedded PGlite), the derived series, the backfill's event lines and
 * its summary table.
 */
import {
  type BackfillReport,
  BinanceClient,
  BybitClient,
  CoinalyzeClient,
  intervalMs,
  OkxClient,
  openPostgresStorage,
  type PostgresStorage,
  redactUrl,
  type SeriesReport,
  type Sync,
  type SyncOptions,
  type VenueClient,
} from '../../src/index.js';
import type { Simulation } from '../../src/testing/index.js';
import { VENUES, type Venue } from './cli.js';
import { fmt, plural, seconds, table, venueName } from './format.js';
import type { Progress } from './progress.js';

/** The derived series the examples keep: RSI 14, the MT token, 1m expansions, Binance taker volume at 1m. */
export const DERIVE = {
  rsi: [14],
  marketAverage: true,
  expandTo1m: ['openInterest', 'longShortRatio'],
  takerTo1m: true,
} as const satisfies SyncOptions['derive'];

/** One client per venue: the real venues, or the simulators of `sim` (Coinalyze over Binance). */
export function createClients(
  venues: readonly Venue[],
  sim: Simulation | undefined,
  coinalyzeKey: string | undefined,
): VenueClient[] {
  const clients: VenueClient[] = [];
  for (const venue of venues) {
    if (venue === 'binance') clients.push(new BinanceClient(sim ? sim.clientOptions('binance') : {}));
    if (venue === 'bybit') clients.push(new BybitClient(sim ? sim.clientOptions('bybit') : {}));
    if (venue === 'okx') clients.push(new OkxClient(sim ? sim.clientOptions('okx') : {}));
    if (venue === 'coinalyze')
      clients.push(
        new CoinalyzeClient(
          sim ? sim.clientOptions('coinalyze', 'binance') : { apiKey: coinalyzeKey!, exchange: 'binance' },
        ),
      );
  }
  return clients;
}

/** Where the simulators listen, as one line. */
export const simulatorsLine = (sim: Simulation, what: string) =>
  `simulated venues on 127.0.0.1${what} (binance ${sim.urls.binance.baseUrl}, bybit ${sim.urls.bybit.baseUrl}, okx ${sim.urls.okx.baseUrl}, coinalyze ${sim.urls.coinalyze.baseUrl})`;

export interface StorageConfig {
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly schema: string | undefined;
}

/** PostgreSQL at `DATABASE_URL`, else embedded PGlite in `dataDir`; migrated. */
export async function openStorage(c: StorageConfig): Promise<{ storage: PostgresStorage; line: string }> {
  const storage = await openPostgresStorage({
    url: c.databaseUrl,
    ...(c.databaseUrl ? {} : { dataDir: c.dataDir }),
    ...(c.schema ? { schema: c.schema } : {}),
  });
  const line = c.databaseUrl
    ? `storage: PostgreSQL ${redactUrl(c.databaseUrl)}, schema ${c.schema ?? 'public'}`
    : `storage: embedded PGlite in ${c.dataDir} (kept for the next run; delete the folder to start over)`;
  return { storage, line };
}

/**
 * The backfill's events as progress and lines: warnings said once (a clamped range or an unlisted
 * symbol reads the same for every kind or symbol), bans and errors. Returns what removes the listeners.
 */
export function backfillEvents(sync: Sync, p: Progress): () => void {
  const warned = new Set<string>();
  const off = [
    sync.on('progress', (e) => p.update(e.series.key.source, e.series.id, e.done, e.total, e.rows)),
    sync.on('seriesDone', (e) => p.finished(e.report)),
    sync.on('warning', (e) => {
      const message = e.message.replace(/^\S+: /, '');
      if (warned.has(message)) return;
      warned.add(message);
      const notice = e.code === 'UNLISTED' || e.code === 'UNSUPPORTED' || e.code === 'RANGE_CLAMPED';
      p.log(`${notice ? 'note' : 'warning'}: ${message}`);
    }),
    sync.on('banned', (e) => p.log(`banned by ${e.venue}: ${e.message} (waiting)`)),
    sync.on('error', (e) =>
      p.log(`error: ${e.series ? `${e.series.id}: ` : ''}${e.error.message.split('\n')[0]}`),
    ),
  ];
  return () => {
    for (const f of off) f();
  };
}

/** One row per venue and kind (and interval); the MT token's series in one row per venue. */
export function summaryTable(reports: readonly SeriesReport[]): string {
  const groups = new Map<string, { venue: string; label: string; list: SeriesReport[] }>();
  for (const r of reports) {
    const venue = venueName(r);
    const label =
      r.key.symbol === 'MT'
        ? 'MT token (derived)'
        : `${r.kind}${r.key.interval ? ` ${r.key.interval}` : ''}${r.derived ? ' (derived)' : ''}`;
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

/**
 * The backfill's report as lines: the summary table, the failed and skipped series, the totals and
 * (for a resumed run) what was already complete. Returns the failed series.
 */
export function printBackfillReport(report: BackfillReport, sim: Simulation | undefined): SeriesReport[] {
  console.log('');
  console.log(summaryTable(report.series));
  console.log('');
  const fetched = report.series.filter((r) => !r.derived);
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
        (v) => sim.stats.requests(v) > 0,
      )
        .map((v) => `${v} ${sim.stats.requests(v)}`)
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
  }
  return failed;
}
