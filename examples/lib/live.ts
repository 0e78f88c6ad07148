/**
 * What the live examples share: their flags (and `--config file.json`), the simulated clock's start
 * (where a previous simulated run's candles end), signals that stop the run, a status view of
 * `LiveHandle.health()` (a table redrawn in place on a TTY, plain lines otherwise) and the summary of
 * what live stored.
 */
import { readFile } from 'node:fs/promises';
import { clearScreenDown, moveCursor } from 'node:readline';
import { parseArgs } from 'node:util';
import type {
  DataKind,
  HistoryKind,
  LiveHandle,
  LiveState,
  SeriesHealth,
  StatusReader,
  StorageAdapter,
} from '../../src/index.js';
import {
  checkCoinalyze,
  checkDataDir,
  parseDuration,
  parseKinds,
  parseSchema,
  parseSymbols,
  parseVenues,
  UsageError,
  type Venue,
} from './cli.js';
import { fmt, iso, plural, span, table } from './format.js';

/** Settings of a live example, from flags over `--config`. */
export interface LiveConfig {
  readonly venues: readonly Venue[];
  /** Venues left out for a reason worth saying (Coinalyze without a key). */
  readonly notes: readonly string[];
  readonly symbols: readonly string[];
  readonly kinds: readonly HistoryKind[] | undefined;
  /** `--from` as given (resolved against the run's clock once it is known). */
  readonly from: string | undefined;
  /** Wall-clock ms the live part runs; `undefined` (`--duration forever`): until SIGINT / SIGTERM. */
  readonly durationMs: number | undefined;
  readonly simulate: boolean;
  /** Simulated ms per real ms with `--simulate`. */
  readonly speed: number;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly schema: string | undefined;
  readonly coinalyzeKey: string | undefined;
}

/** Keys a `--config` file may hold: the flags' names, camel-cased (`dataDir`). */
const CONFIG_KEYS = [
  'venues',
  'symbols',
  'kinds',
  'from',
  'duration',
  'simulate',
  'speed',
  'dataDir',
  'schema',
] as const;

/** A `--config` file: a JSON object of flag values; lists as arrays or comma-separated strings. */
async function readConfigFile(path: string, withFrom: boolean): Promise<Record<string, string | boolean>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--config: cannot read ${path}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config: ${path} is not JSON: ${(error as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new UsageError(`--config: ${path} must hold a JSON object like {"symbols": ["BTC", "ETH"]}`);
  const out: Record<string, string | boolean> = {};
  for (const [key, value] of Object.entries(data)) {
    const known = (CONFIG_KEYS as readonly string[]).includes(key) && (withFrom || key !== 'from');
    if (!known)
      throw new UsageError(
        `--config: unknown setting ${JSON.stringify(key)} in ${path} (one of ${CONFIG_KEYS.filter((k) => withFrom || k !== 'from').join(', ')})`,
      );
    if (key === 'simulate') {
      if (typeof value !== 'boolean') throw new UsageError(`--config: simulate must be true or false`);
      out[key] = value;
    } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[key] = value.join(',');
    else if (typeof value === 'string' || typeof value === 'number') out[key] = String(value);
    else throw new UsageError(`--config: ${key} must be a string${key === 'speed' ? ' or a number' : ''}`);
  }
  return out;
}

/** Parses the flags of a live example; `'help'` for `--help`. */
export async function parseLiveConfig(
  argv: string[],
  env: NodeJS.ProcessEnv,
  o: { readonly withFrom: boolean },
): Promise<LiveConfig | 'help'> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        venues: { type: 'string' },
        symbols: { type: 'string' },
        kinds: { type: 'string' },
        ...(o.withFrom ? { from: { type: 'string' } } : {}),
        duration: { type: 'string' },
        config: { type: 'string' },
        simulate: { type: 'boolean' },
        speed: { type: 'string' },
        'data-dir': { type: 'string' },
        schema: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const file = typeof values.config === 'string' ? await readConfigFile(values.config, o.withFrom) : {};
  // A flag wins over the file.
  const get = (flag: string, key = flag): string | undefined => {
    const v = values[flag] ?? file[key];
    return typeof v === 'string' ? v : undefined;
  };
  const simulate = (values.simulate ?? file.simulate) === true;

  const coinalyzeKey = env.COINALYZE_API_KEY?.trim() || undefined;
  const notes: string[] = [];
  const given = get('venues');
  let venues: Venue[];
  if (given !== undefined) {
    venues = parseVenues(given);
    checkCoinalyze(venues, simulate, coinalyzeKey);
  } else {
    venues = ['binance', 'bybit', 'okx'];
    if (!simulate && coinalyzeKey) venues.push('coinalyze');
    if (!simulate && !coinalyzeKey)
      notes.push(
        'coinalyze: skipped, COINALYZE_API_KEY is not set (a free key from coinalyze.net adds its series)',
      );
  }
  const symbols = parseSymbols(get('symbols') ?? 'BTC,ETH,PEPE');
  const kinds = parseKinds(get('kinds'));
  const durationText = get('duration') ?? (simulate ? '30s' : undefined);
  const durationMs =
    durationText === undefined || durationText === 'forever'
      ? undefined
      : parseDuration('--duration', durationText);
  const speedText = get('speed');
  const speed = speedText === undefined ? 60 : Number(speedText);
  if (!(speed >= 1 && speed <= 3_600))
    throw new UsageError(`--speed: ${JSON.stringify(speedText)} is not a speed from 1 to 3600`);
  if (speedText !== undefined && !simulate) throw new UsageError('--speed applies to --simulate only');
  const schema = parseSchema(get('schema'));
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  const dataDir = get('data-dir', 'dataDir');
  checkDataDir(databaseUrl, dataDir);
  return {
    venues,
    notes,
    symbols,
    kinds,
    from: o.withFrom ? get('from') : undefined,
    durationMs,
    simulate,
    speed,
    databaseUrl,
    dataDir: dataDir ?? (simulate ? './.perpdata/demo' : './.perpdata/db'),
    // The simulated market goes to a schema of its own so that it never mixes with real data.
    schema: schema ?? (simulate && databaseUrl ? 'perpdata_demo' : undefined),
    coinalyzeKey,
  };
}

/**
 * Where a simulated run's clock starts: now, or where the candles of an earlier simulated run end
 * when that lies ahead (its fast clock ran ahead of real time), so that a second run goes on from there.
 */
export async function simulatedStart(
  storage: StorageAdapter,
  venues: readonly Venue[],
  symbols: readonly string[],
): Promise<number> {
  let end = Date.now();
  for (const venue of venues)
    for (const symbol of symbols) {
      const key = {
        source: venue,
        exchange: venue === 'coinalyze' ? 'binance' : venue,
        symbol,
        interval: '1m',
      } as const;
      const last = (await storage.coverage('candles', key)).at(-1)?.to;
      if (last !== undefined) end = Math.max(end, last);
    }
  return end;
}

/**
 * SIGINT and SIGTERM abort `controller`; a second one exits at once (130). Whatever happens, the
 * process is gone `graceMs` after the first (exit 1 with a message if it had not stopped by then).
 */
export function stopOnSignals(controller: AbortController, graceMs = 4_500): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`${signal} again: quitting at once`);
      process.exit(130);
    }
    stopping = true;
    controller.abort(new Error(signal));
    console.error(`\n${signal}: stopping (flushing what was fetched; Ctrl-C again to quit at once)…`);
    setTimeout(() => {
      console.error(`did not stop within ${graceMs / 1000} s of ${signal}; quitting`);
      process.exit(1);
    }, graceMs).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

// ---------------------------------------------------------------------------------------------------
// The status view

const STATES: readonly LiveState[] = ['live', 'catching-up', 'stalled', 'error'];

/** `54 live, 2 catching-up`. */
export function stateCounts(health: readonly SeriesHealth[]): string {
  const counts = STATES.map((s) => [s, health.filter((h) => h.state === s).length] as const).filter(
    ([, n]) => n > 0,
  );
  return counts.length === 0 ? 'no series' : counts.map(([s, n]) => `${n} ${s}`).join(', ');
}

const lagOf = (h: SeriesHealth) => (h.lagMs === undefined ? '-' : span(h.lagMs));
const lastOf = (h: SeriesHealth) => (h.lastTs === undefined ? '-' : iso(h.lastTs));

/** The health table: one row per series. */
export function healthTable(health: readonly SeriesHealth[]): string {
  const rows = [...health]
    .sort((a, b) => a.series.id.localeCompare(b.series.id))
    .map((h) => [
      h.series.id,
      lastOf(h),
      lagOf(h),
      h.state + (h.error ? `: ${h.error.message.split('\n')[0]?.slice(0, 60)}` : ''),
    ]);
  return table(['series', 'last ts', 'lag', 'state'], rows, [false, false, true, false]);
}

/** Rows of one venue and kind folded into one, for a terminal too short for a row per series. */
function groupedTable(health: readonly SeriesHealth[]): string {
  const groups = new Map<string, SeriesHealth[]>();
  for (const h of health) {
    const { key, kind } = h.series;
    const id = `${key.source === key.exchange ? key.source : `${key.source}/${key.exchange}`} ${kind}${key.interval ? ` ${key.interval}` : ''}${key.kind ? ` ${key.kind}` : ''}`;
    groups.set(id, [...(groups.get(id) ?? []), h]);
  }
  const rows = [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, list]) => {
      const lags = list.map((h) => h.lagMs).filter((l): l is number => l !== undefined);
      const lasts = list.map((h) => h.lastTs).filter((t): t is number => t !== undefined);
      return [
        id,
        String(list.length),
        lasts.length > 0 ? iso(Math.min(...lasts)) : '-',
        lags.length > 0 ? span(Math.max(...lags)) : '-',
        stateCounts(list),
      ];
    });
  return table(['series', 'n', 'oldest last ts', 'max lag', 'states'], rows, [
    false,
    true,
    false,
    true,
    false,
  ]);
}

/** Worst lag per period (`1m ≤ 57 s, 5m ≤ 2.9 min, funding ≤ 2.8 h`): a series is as late as its period allows. */
export function lagByPeriod(health: readonly SeriesHealth[]): string {
  const worst = new Map<string, number>();
  for (const h of health) {
    if (h.lagMs === undefined) continue;
    const label = h.series.key.interval ?? h.series.kind;
    worst.set(label, Math.max(worst.get(label) ?? 0, h.lagMs));
  }
  return worst.size === 0 ? '-' : [...worst].map(([label, ms]) => `${label} ≤ ${span(ms)}`).join(', ');
}

export interface LiveView {
  /** A line that must not break the table. */
  log(line: string): void;
  stop(): void;
}

/**
 * Shows `live.health()`: on a TTY a table redrawn in place every `ttyEveryMs`; otherwise a line every
 * `lineEveryMs`. Both say when every series is first `live` and when one turns `stalled` or `error`
 * (or recovers).
 */
export function watchLive(
  live: LiveHandle,
  o: {
    readonly tty: boolean;
    /** The venue clock (the simulated one with `--simulate`). */
    readonly now: () => number;
    /** Text after the clock in the header, e.g. `simulated, 60×`. */
    readonly clockNote: string;
    readonly ttyEveryMs?: number;
    readonly lineEveryMs?: number;
  },
): LiveView {
  const started = Date.now();
  const last = new Map<string, LiveState>();
  let allLive = false;
  let drawn = 0;
  const clear = () => {
    if (drawn > 0) {
      moveCursor(process.stdout, 0, -drawn);
      clearScreenDown(process.stdout);
      drawn = 0;
    }
  };
  const out = (line: string) => {
    if (o.tty) clear();
    console.log(line);
  };
  const header = (health: readonly SeriesHealth[]) =>
    `live ${span(Date.now() - started)} · ${iso(Math.floor(o.now() / 1000) * 1000)} (${o.clockNote}) · ${plural(health.length, 'series', 'series')}: ${stateCounts(health)}`;

  const check = (health: readonly SeriesHealth[]) => {
    for (const h of health) {
      const before = last.get(h.series.id);
      last.set(h.series.id, h.state);
      const bad = (s: LiveState | undefined) => s === 'stalled' || s === 'error';
      if (before !== undefined && before !== h.state && (bad(before) || bad(h.state)))
        out(
          `${h.series.id}: ${before} -> ${h.state}${h.error ? ` (${h.error.message.split('\n')[0]})` : ''}`,
        );
    }
    if (!allLive && health.length > 0 && health.every((h) => h.state === 'live')) {
      allLive = true;
      out(
        `live: all ${plural(health.length, 'series', 'series')} are current after ${span(Date.now() - started)}`,
      );
    }
  };

  const draw = () => {
    const health = live.health();
    check(health);
    if (o.tty) {
      const rows = process.stdout.rows ?? 40;
      const full = healthTable(health);
      const body = full.split('\n').length + 3 <= rows ? full : groupedTable(health);
      const text = `${header(health)} · Ctrl-C to stop\n${body}`;
      clear();
      console.log(text);
      drawn = text.split('\n').length;
    } else {
      console.log(`[${header(health)}] lag: ${lagByPeriod(health)}`);
    }
  };
  const timer = setInterval(draw, o.tty ? (o.ttyEveryMs ?? 2_000) : (o.lineEveryMs ?? 5_000));
  // Transitions are checked every second, between the views.
  const watcher = setInterval(() => check(live.health()), 1_000);
  return {
    log: out,
    stop() {
      clearInterval(timer);
      clearInterval(watcher);
      if (o.tty) clear();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The summary

/** Rows of one series stored at or after `from`. */
async function countFrom(storage: StorageAdapter, kind: DataKind, h: SeriesHealth, from: number) {
  let n = 0;
  for await (const page of storage.read(kind, h.series.key, from, Number.MAX_SAFE_INTEGER)) n += page.length;
  return n;
}

/**
 * Per series: rows stored by the live run (at or after `since(id)`, where the backfill ended), the
 * newest stored ts, the lag and the state at the stop; then the totals and the job's status row.
 */
export async function printLiveSummary(
  storage: StorageAdapter & StatusReader,
  health: readonly SeriesHealth[],
  since: (id: string) => number,
  o: { readonly job: string; readonly realMs: number; readonly simulatedMs?: number },
): Promise<number> {
  const rows: string[][] = [];
  let total = 0;
  for (const h of [...health].sort((a, b) => a.series.id.localeCompare(b.series.id))) {
    const n = await countFrom(storage, h.series.kind, h, since(h.series.id));
    total += n;
    rows.push([h.series.id, fmt(n), lastOf(h), lagOf(h), h.state]);
  }
  console.log('');
  console.log(
    table(['series', 'live rows', 'last ts', 'lag', 'state'], rows, [false, true, false, true, false]),
  );
  console.log('');
  const simulated = o.simulatedMs === undefined ? '' : ` (${span(o.simulatedMs)} simulated)`;
  console.log(
    `live: ${plural(total, 'row')} stored over ${plural(health.length, 'series', 'series')} in ${span(o.realMs)}${simulated}; at the stop: ${stateCounts(health)}.`,
  );
  const status = (await storage.listStatus(o.job)).find((s) => s.job === o.job && s.series === undefined);
  if (status)
    console.log(`status: ${status.job} ${status.status}${status.message ? ` (${status.message})` : ''}`);
  return total;
}
