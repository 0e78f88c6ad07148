/**
 * Validation and redaction of `logStatus` / `logError` entries, shared by every adapter so that no
 * adapter stores a secret: messages go through `redact()`, details are walked and secret-looking keys masked.
 */
import { InvalidArgumentError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import type { SeriesKey } from '../core/types.js';
import { type ErrorEntry, JOB_STATUSES, type JobStatus, type StatusEntry } from './adapter.js';
import { MAX_TS } from './validate.js';

/** Keys whose values are masked wherever they appear in an error detail. */
const SECRET_KEY =
  /^(api[_-]?key|apikey|key|secret|api[_-]?secret|signature|sign|token|access[_-]?token|passphrase|password|pass|pwd|authorization|cookie|credentials?|connection[_-]?string|database[_-]?url|db[_-]?url)$/i;

/** Longest stored message; longer ones are cut with an ellipsis. */
const MAX_MESSAGE = 4000;

/** A status entry checked and redacted, ready to store. */
export interface CleanStatus {
  readonly job: string;
  readonly status: JobStatus;
  readonly series: SeriesKey | undefined;
  /** `source/exchange/symbol[/interval][/kind]`, `''` for the job as a whole. */
  readonly seriesLabel: string;
  readonly message: string | undefined;
  readonly progress: number | undefined;
  readonly ts: number;
}

/** An error entry checked and redacted, ready to store. */
export interface CleanError {
  readonly job: string;
  readonly message: string;
  readonly code: string | undefined;
  readonly series: SeriesKey | undefined;
  readonly seriesLabel: string;
  readonly ts: number;
  /** Redacted detail as JSON-compatible data, `undefined` when none. */
  readonly detail: unknown;
}

function cut(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

function checkJob(op: string, job: unknown): string {
  if (typeof job !== 'string' || job.length === 0 || job.length > 200) {
    throw new InvalidArgumentError(`${op}: job must be a non-empty string of at most 200 characters`);
  }
  return redact(job);
}

function checkTs(op: string, ts: unknown, now: number): number {
  if (ts === undefined) return now;
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0 || ts >= MAX_TS) {
    throw new InvalidArgumentError(`${op}: ts must be integer epoch milliseconds`);
  }
  return ts;
}

function checkSeries(op: string, series: unknown): SeriesKey | undefined {
  if (series === undefined || series === null) return undefined;
  const s = series as Record<string, unknown>;
  if (typeof s !== 'object' || typeof s.source !== 'string' || typeof s.exchange !== 'string') {
    throw new InvalidArgumentError(`${op}: series must be a SeriesKey with source, exchange and symbol`);
  }
  if (typeof s.symbol !== 'string') {
    throw new InvalidArgumentError(`${op}: series must be a SeriesKey with source, exchange and symbol`);
  }
  const out: Record<string, unknown> = { source: s.source, exchange: s.exchange, symbol: s.symbol };
  if (typeof s.interval === 'string') out.interval = s.interval;
  if (typeof s.kind === 'string') out.kind = s.kind;
  return out as unknown as SeriesKey;
}

/** `source/exchange/symbol[/interval][/kind]`: the text a series is listed under. */
export function seriesLabel(series: SeriesKey | undefined): string {
  if (!series) return '';
  const parts: string[] = [series.source, series.exchange, series.symbol];
  if (series.interval !== undefined || series.kind !== undefined) parts.push(series.interval ?? '');
  if (series.kind !== undefined) parts.push(series.kind);
  return parts.join('/');
}

/** Checks and redacts a status entry. */
export function cleanStatus(entry: StatusEntry, now = Date.now()): CleanStatus {
  const op = 'logStatus()';
  if (typeof entry !== 'object' || entry === null)
    throw new InvalidArgumentError(`${op}: entry must be an object`);
  const job = checkJob(op, entry.job);
  if (!(JOB_STATUSES as readonly unknown[]).includes(entry.status)) {
    throw new InvalidArgumentError(`${op}: status must be one of ${JOB_STATUSES.join(', ')}`);
  }
  if (
    entry.progress !== undefined &&
    (typeof entry.progress !== 'number' || !Number.isFinite(entry.progress))
  ) {
    throw new InvalidArgumentError(`${op}: progress must be a finite number`);
  }
  if (entry.message !== undefined && typeof entry.message !== 'string') {
    throw new InvalidArgumentError(`${op}: message must be a string`);
  }
  const series = checkSeries(op, entry.series);
  return {
    job,
    status: entry.status,
    series,
    seriesLabel: seriesLabel(series),
    message: entry.message === undefined ? undefined : cut(redact(entry.message)),
    progress: entry.progress,
    ts: checkTs(op, entry.ts, now),
  };
}

/** Checks and redacts an error entry. */
export function cleanError(entry: ErrorEntry, now = Date.now()): CleanError {
  const op = 'logError()';
  if (typeof entry !== 'object' || entry === null)
    throw new InvalidArgumentError(`${op}: entry must be an object`);
  const job = checkJob(op, entry.job);
  if (typeof entry.message !== 'string') throw new InvalidArgumentError(`${op}: message must be a string`);
  if (entry.code !== undefined && typeof entry.code !== 'string') {
    throw new InvalidArgumentError(`${op}: code must be a string`);
  }
  const series = checkSeries(op, entry.series);
  return {
    job,
    message: cut(redact(entry.message)),
    code: entry.code === undefined ? undefined : redact(entry.code).slice(0, 200),
    series,
    seriesLabel: seriesLabel(series),
    ts: checkTs(op, entry.ts, now),
    detail: entry.detail === undefined ? undefined : redactDetail(entry.detail, 0, new WeakSet()),
  };
}

/**
 * JSON-compatible copy of `value` with strings redacted, secret-looking keys masked, errors reduced to
 * name/message/code, depth capped at 6 and long arrays cut.
 */
export function redactDetail(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string') return cut(redact(value));
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined;
  if (seen.has(value) || depth >= 6) return '[…]';
  seen.add(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      message: cut(redact(value.message)),
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    };
  }
  if (Array.isArray(value)) {
    const items = value.slice(0, 100).map((item) => redactDetail(item, depth + 1, seen) ?? null);
    if (value.length > 100) items.push(`… ${value.length - 100} more`);
    return items;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (SECRET_KEY.test(key)) {
      out[key] = '***';
      continue;
    }
    const clean = redactDetail(item, depth + 1, seen);
    if (clean !== undefined) out[key] = clean;
  }
  return out;
}
