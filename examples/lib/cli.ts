/**
 * Flag parsing shared by the examples: venue, symbol and kind lists, times (`2d`, ISO dates, epoch ms),
 * durations (`30s`, `10m`), schema names. A bad value throws `UsageError`, which the examples print
 * with a hint and exit 2.
 */
import { HISTORY_KINDS, type HistoryKind, toEpochMs } from '../../src/index.js';

export const VENUES = ['binance', 'bybit', 'okx', 'coinalyze'] as const;
export type Venue = (typeof VENUES)[number];
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** A bad flag or value: printed with a hint, exit code 2. */
export class UsageError extends Error {}

export const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/** `12h`, `2d`, `4w`, `90m` before `now`; otherwise an ISO date or epoch ms. */
export function parseTime(flag: string, value: string, now: number): number {
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

/** `30s`, `10m`, `1.5h`, `2d` (wall-clock time) in ms. */
export function parseDuration(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/i.exec(value.trim());
  const ms = m
    ? Number(m[1]) * { s: 1_000, m: MINUTE, h: HOUR, d: DAY }[(m[2] as string).toLowerCase() as 's']
    : Number.NaN;
  if (!(ms > 0))
    throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a duration (like 30s, 10m, 2h or 1d)`);
  return ms;
}

/** A comma-separated venue list, lower-cased and checked. */
export function parseVenues(value: string): Venue[] {
  const venues = [...new Set(list(value).map((v) => v.toLowerCase()))];
  if (venues.length === 0) throw new UsageError('--venues: give at least one venue');
  for (const v of venues)
    if (!(VENUES as readonly string[]).includes(v))
      throw new UsageError(`--venues: unknown venue ${JSON.stringify(v)} (one of ${VENUES.join(', ')})`);
  return venues as Venue[];
}

/** Coinalyze needs a key unless it is simulated. */
export function checkCoinalyze(venues: readonly Venue[], simulate: boolean, key: string | undefined): void {
  if (venues.includes('coinalyze') && !simulate && !key)
    throw new UsageError(
      'coinalyze needs an API key: set COINALYZE_API_KEY (free at coinalyze.net), or add --simulate, or leave coinalyze out of --venues',
    );
}

/** Canonical base assets (`BTC,ETH`), upper-cased and checked; `MT` is derived and refused. */
export function parseSymbols(value: string): string[] {
  const symbols = [...new Set(list(value).map((s) => s.toUpperCase()))];
  if (symbols.length === 0) throw new UsageError('--symbols: give at least one symbol');
  for (const s of symbols) {
    if (!/^[A-Z0-9]{1,30}$/.test(s))
      throw new UsageError(`--symbols: ${JSON.stringify(s)} is not a base asset like BTC`);
    if (s === 'MT') throw new UsageError('--symbols: MT is the derived market token, it cannot be fetched');
  }
  return symbols;
}

/** A kind list, or `undefined` for every kind (`all` or no flag). */
export function parseKinds(value: string | undefined): HistoryKind[] | undefined {
  if (value === undefined || value.trim() === 'all') return undefined;
  const kinds = [...new Set(list(value))] as HistoryKind[];
  if (kinds.length === 0) throw new UsageError('--kinds: give at least one kind');
  for (const k of kinds)
    if (!HISTORY_KINDS.includes(k))
      throw new UsageError(`--kinds: unknown kind ${JSON.stringify(k)} (one of ${HISTORY_KINDS.join(', ')})`);
  return kinds;
}

/** A plain PostgreSQL identifier, or `undefined`. */
export function parseSchema(value: string | undefined): string | undefined {
  if (value !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(value))
    throw new UsageError(`--schema: ${JSON.stringify(value)} is not a plain identifier`);
  return value;
}

/** `--data-dir` is for the embedded database only. */
export function checkDataDir(databaseUrl: string | undefined, dataDir: string | undefined): void {
  if (databaseUrl && dataDir !== undefined)
    throw new UsageError('--data-dir applies to the embedded database; unset DATABASE_URL to use it');
}

/**
 * The parsed flags of an example, or its exit code: 0 after printing `usage` for `--help`, 2 after
 * printing a `UsageError` (anything else is thrown on).
 */
export async function configOrExit<T>(
  name: string,
  usage: string,
  parse: () => T | 'help' | Promise<T | 'help'>,
): Promise<T | number> {
  try {
    const config = await parse();
    if (config !== 'help') return config;
    console.log(usage);
    return 0;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${name}: ${error.message}\nRun with --help for the options.`);
    return 2;
  }
}
