/**
 * Validation shared by every adapter: rows are checked before anything is written, series keys and
 * ranges before anything is read, so all adapters refuse the same input with the same message.
 */
import { InvalidArgumentError } from '../core/errors.js';
import { isInterval } from '../core/intervals.js';
import { DATA_KINDS, type DataKind, EXCHANGES, type SeriesKey, SOURCES } from '../core/types.js';
import type { ConflictPolicy } from './adapter.js';
import { KIND_SPECS, type KindSpec, keyFields } from './records.js';

/** Largest epoch ms accepted for `ts` and time fields: 2100-01-01. */
export const MAX_TS = Date.UTC(2100, 0, 1);
/** Longest accepted symbol, indicator name or other free-text key field. */
const MAX_KEY_LENGTH = 100;

/** A series key with exactly the fields its kind uses, validated. */
export interface NormalizedSeriesKey {
  readonly source: SeriesKey['source'];
  readonly exchange: SeriesKey['exchange'];
  readonly symbol: string;
  readonly interval?: NonNullable<SeriesKey['interval']>;
  readonly kind?: string;
}

/** Asserts `kind` is a `DataKind` and returns its spec. */
export function specOf(kind: DataKind): KindSpec {
  const spec = (DATA_KINDS as readonly string[]).includes(kind) ? KIND_SPECS[kind] : undefined;
  if (!spec) {
    throw new InvalidArgumentError(`Unknown data kind ${JSON.stringify(kind)}`, {
      meta: { Expected: DATA_KINDS.join(' ') },
    });
  }
  return spec;
}

/** A short description of a value for messages. */
export function show(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null) return 'null';
  return typeof value;
}

/** Why a key value is invalid, or `undefined` when it is fine. */
function keyProblem(field: string, value: unknown, spec: KindSpec): string | undefined {
  switch (field) {
    case 'source':
      return (SOURCES as readonly unknown[]).includes(value)
        ? undefined
        : `expected one of ${SOURCES.join(', ')}`;
    case 'exchange':
      return (EXCHANGES as readonly unknown[]).includes(value)
        ? undefined
        : `expected one of ${EXCHANGES.join(', ')}`;
    case 'interval':
      return isInterval(value) ? undefined : 'expected a canonical interval such as "1m"';
    default: {
      const allowed = field === spec.subKey?.field ? spec.subKey.values : undefined;
      if (allowed)
        return allowed.includes(value as string) ? undefined : `expected one of ${allowed.join(', ')}`;
      if (typeof value !== 'string' || value.length === 0) return 'expected a non-empty string';
      if (value.length > MAX_KEY_LENGTH) return `expected at most ${MAX_KEY_LENGTH} characters`;
      // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL cannot be stored in a Postgres text column.
      if (/\u0000/.test(value)) return 'must not contain NUL characters';
      return undefined;
    }
  }
}

function timeProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return 'expected integer epoch milliseconds';
  if (value < 0 || value >= MAX_TS) return 'expected epoch milliseconds between 1970 and 2100';
  return undefined;
}

/** Why a row is invalid for `spec`, as `[field, problem]`, or `undefined` when it is valid. */
function rowProblem(
  row: unknown,
  spec: KindSpec,
  keys: readonly string[],
  checked: unknown[],
): [string, string] | undefined {
  if (typeof row !== 'object' || row === null) return ['(row)', `expected an object, got ${show(row)}`];
  const r = row as Record<string, unknown>;
  for (let k = 0; k < keys.length; k++) {
    const field = keys[k] as string;
    const value = r[field];
    // Rows of a batch mostly share their key: a value equal to the last valid one is valid.
    if (value === checked[k] && value !== undefined) continue;
    const problem = keyProblem(field, value, spec);
    if (problem) return [field, `is ${show(value)}; ${problem}`];
    checked[k] = value;
  }
  const tsProblem = timeProblem(r.ts);
  if (tsProblem) return ['ts', `is ${show(r.ts)}; ${tsProblem}`];
  for (const v of spec.values) {
    const value = r[v.field];
    if (value === undefined || value === null) {
      if (v.required) return [v.field, 'is missing; it is required'];
      continue;
    }
    if (v.type === 'time') {
      const problem = timeProblem(value);
      if (problem) return [v.field, `is ${show(value)}; ${problem}`];
    } else if (typeof value !== 'number' || !Number.isFinite(value)) {
      return [v.field, `is ${show(value)}; expected a finite number`];
    } else if (v.type === 'integer' && !Number.isSafeInteger(value)) {
      return [v.field, `is ${show(value)}; expected an integer`];
    }
  }
  return undefined;
}

/** A kind's value fields as flat arrays, for the per-row fast check. */
interface FastSpec {
  readonly fields: readonly string[];
  readonly required: readonly boolean[];
  /** 0 float, 1 integer, 2 time. */
  readonly types: readonly number[];
}

const fastSpecs = new Map<KindSpec, FastSpec>();

function fastSpecOf(spec: KindSpec): FastSpec {
  let fast = fastSpecs.get(spec);
  if (!fast) {
    fast = {
      fields: spec.values.map((v) => v.field),
      required: spec.values.map((v) => v.required),
      types: spec.values.map((v) => (v.type === 'float' ? 0 : v.type === 'integer' ? 1 : 2)),
    };
    fastSpecs.set(spec, fast);
  }
  return fast;
}

/** Whether `t` is an accepted epoch-ms time (what `timeProblem` accepts). */
const isTime = (t: unknown): boolean =>
  typeof t === 'number' && Number.isSafeInteger(t) && t >= 0 && t < MAX_TS;

/**
 * The common case, checked without building messages: the row's key equals the batch's last valid
 * key, `ts` is a time, and every value is present where required and of its type. False sends the row
 * through `rowProblem`, which accepts exactly the same rows and says what is wrong.
 */
function rowIsFine(
  row: unknown,
  keys: readonly string[],
  checked: readonly unknown[],
  fast: FastSpec,
): boolean {
  if (typeof row !== 'object' || row === null) return false;
  const r = row as Record<string, unknown>;
  for (let k = 0; k < keys.length; k++) {
    const value = r[keys[k] as string];
    if (value !== checked[k] || value === undefined) return false;
  }
  if (!isTime(r.ts)) return false;
  const { fields, required, types } = fast;
  for (let v = 0; v < fields.length; v++) {
    const value = r[fields[v] as string];
    if (value === undefined || value === null) {
      if (required[v]) return false;
      continue;
    }
    const type = types[v];
    if (type === 0) {
      if (typeof value !== 'number' || value - value !== 0) return false; // NaN and ±Infinity fail
    } else if (type === 1) {
      if (!Number.isSafeInteger(value)) return false;
    } else if (!isTime(value)) return false;
  }
  return true;
}

/**
 * Checks every row of a batch and throws an `InvalidArgumentError` naming the first invalid row, its
 * field and the number of invalid rows. Nothing is written when one row is invalid.
 */
export function validateRows(kind: DataKind, rows: unknown): asserts rows is readonly object[] {
  const spec = specOf(kind);
  if (!Array.isArray(rows)) {
    throw new InvalidArgumentError(`write('${kind}'): rows must be an array, got ${show(rows)}`);
  }
  const keys = keyFields(spec);
  let first: { index: number; field: string; problem: string } | undefined;
  let invalid = 0;
  const checked: unknown[] = [];
  const fast = fastSpecOf(spec);
  for (let i = 0; i < rows.length; i++) {
    if (rowIsFine(rows[i], keys, checked, fast)) continue;
    const problem = rowProblem(rows[i], spec, keys, checked);
    if (problem) {
      invalid++;
      first ??= { index: i, field: problem[0], problem: problem[1] };
    }
  }
  if (first) {
    throw new InvalidArgumentError(
      `write('${kind}') refused the batch: row ${first.index} ${first.field} ${first.problem}`,
      {
        meta: {
          Kind: kind,
          Row: first.index,
          Field: first.field,
          'Invalid rows': invalid,
          Rows: rows.length,
        },
      },
    );
  }
}

/** Validates a series key for `kind` and keeps only the fields the kind uses. */
export function normalizeSeriesKey(kind: DataKind, key: SeriesKey, op = 'read'): NormalizedSeriesKey {
  const spec = specOf(kind);
  if (typeof key !== 'object' || key === null) {
    throw new InvalidArgumentError(`${op}('${kind}'): series key must be an object`);
  }
  const problem = seriesKeyProblem(spec, key);
  if (problem) {
    throw new InvalidArgumentError(`${op}('${kind}'): series key ${problem[0]} ${problem[1]}`, {
      meta: { Kind: kind, Field: problem[0] },
    });
  }
  const raw = key as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of keyFields(spec)) {
    const from = field === 'name' ? 'kind' : field;
    out[from] = raw[from];
  }
  return out as unknown as NormalizedSeriesKey;
}

/**
 * Why a series key (an object) is invalid for `spec`, as `[SeriesKey field, 'is …; expected …']`, or
 * `undefined` when it is valid.
 */
export function seriesKeyProblem(spec: KindSpec, key: object): [string, string] | undefined {
  const raw = key as Record<string, unknown>;
  for (const field of keyFields(spec)) {
    // SeriesKey.kind carries the ratio kind or the indicator name.
    const from = field === 'name' ? 'kind' : field;
    const problem = keyProblem(field, raw[from], spec);
    if (problem) return [from, `is ${show(raw[from])}; ${problem}`];
  }
  return undefined;
}

/** Key values of a valid series key in key order (`source, exchange, symbol, [interval], [kind|name]`). */
export function seriesKeyValues(spec: KindSpec, key: object): string[] {
  const raw = key as Record<string, unknown>;
  return keyFields(spec).map((f) => raw[f === 'name' ? 'kind' : f] as string);
}

/** Validates a half-open range `[from, to)`. */
export function validateRange(kind: DataKind, from: number, to: number): void {
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InvalidArgumentError(
        `read('${kind}'): ${name} is ${show(value)}; expected epoch milliseconds`,
      );
    }
  }
  if (from > to) {
    throw new InvalidArgumentError(`read('${kind}'): from (${from}) is after to (${to})`);
  }
}

/** Validates a conflict policy option. */
export function validateConflictPolicy(value: unknown): ConflictPolicy {
  if (value !== 'update' && value !== 'ignore') {
    throw new InvalidArgumentError(`onConflict must be 'update' or 'ignore', got ${show(value)}`);
  }
  return value;
}

/** Validates a positive integer option. */
export function validatePositiveInteger(name: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer between 1 and ${max}, got ${show(value)}`);
  }
  return value;
}

/** One series within a batch. */
export interface SeriesGroup {
  /** Key values in key order (`source, exchange, symbol, [interval], [kind|name]`). */
  readonly values: readonly string[];
  /** Rows of the batch in this series (after de-duplication). */
  count: number;
  /** Smallest and largest `ts` of the series in the batch. */
  minTs: number;
  maxTs: number;
}

/** A validated batch with its series and without duplicate keys. */
export interface PreparedBatch<R> {
  readonly rows: readonly R[];
  /** Index into `groups` of each row. */
  readonly groupOf: Uint32Array;
  readonly groups: readonly SeriesGroup[];
}

/**
 * Groups a validated batch by series and removes rows whose key repeats within the batch: the batch acts
 * as if its rows were written one after another, so the last one wins under `'update'` and the first one
 * under `'ignore'`. Batches with strictly ascending `ts` per series (the usual case) are not copied.
 */
export function prepareBatch<R extends object>(
  kind: DataKind,
  rows: readonly R[],
  policy: ConflictPolicy,
): PreparedBatch<R> {
  const keys = keyFields(specOf(kind));
  const groups: SeriesGroup[] = [];
  const index = new Map<string, number>();
  const groupOf = new Uint32Array(rows.length);
  const lastTs: number[] = [];
  let sorted = true;
  let prev: Record<string, unknown> | undefined;
  let prevGroup = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Record<string, unknown>;
    let g = prevGroup;
    let same = prev !== undefined;
    for (let k = 0; same && k < keys.length; k++) same = row[keys[k] as string] === prev?.[keys[k] as string];
    if (!same) {
      const values = keys.map((k) => row[k] as string);
      const id = values.join('\u0000');
      const found = index.get(id);
      if (found === undefined) {
        g = groups.length;
        index.set(id, g);
        groups.push({ values, count: 0, minTs: Number.POSITIVE_INFINITY, maxTs: Number.NEGATIVE_INFINITY });
        lastTs.push(Number.NEGATIVE_INFINITY);
      } else g = found;
    }
    const ts = row.ts as number;
    if (ts <= (lastTs[g] as number)) sorted = false;
    lastTs[g] = ts;
    groupOf[i] = g;
    prev = row;
    prevGroup = g;
  }
  if (sorted) {
    for (let i = 0; i < rows.length; i++) bump(groups[groupOf[i] as number] as SeriesGroup, rows[i] as R);
    return { rows, groupOf, groups };
  }
  // Some series repeat or go back in time: keep one row per key.
  const position = new Map<string, number>();
  const out: R[] = [];
  const outGroup: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as R;
    const g = groupOf[i] as number;
    const id = `${g}:${(row as { ts: number }).ts}`;
    const at = position.get(id);
    if (at === undefined) {
      position.set(id, out.length);
      out.push(row);
      outGroup.push(g);
    } else if (policy === 'update') {
      out[at] = row;
    }
  }
  for (let i = 0; i < out.length; i++) bump(groups[outGroup[i] as number] as SeriesGroup, out[i] as R);
  return { rows: out, groupOf: Uint32Array.from(outGroup), groups };
}

function bump(group: SeriesGroup, row: object): void {
  const ts = (row as { ts: number }).ts;
  group.count++;
  if (ts < group.minTs) group.minTs = ts;
  if (ts > group.maxTs) group.maxTs = ts;
}

/**
 * A canonical copy of a valid row: key fields, `ts` and the kind's value fields, with absent optional
 * values left out. What every adapter gives back from `read()`.
 */
export function canonicalRecord(spec: KindSpec, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keyFields(spec)) out[k] = row[k];
  out.ts = row.ts;
  for (const v of spec.values) {
    const value = row[v.field];
    if (value !== undefined && value !== null) out[v.field] = value;
  }
  return out;
}

/** Throws when `options` has a key not in `allowed` (a typo such as `tablePrefx` would otherwise be ignored). */
export function checkOptionKeys(what: string, options: object, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError(`${what}: unknown option ${JSON.stringify(key)}`, {
        meta: { Expected: allowed.join(' ') },
      });
    }
  }
}
