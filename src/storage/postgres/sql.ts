/**
 * Names and SQL text. Identifiers come from options validated as `[a-z_][a-z0-9_]*` and are quoted on top
 * of that; every value travels as a bind parameter. Nothing here runs a query.
 */
import { InvalidArgumentError } from '../../core/errors.js';
import { DATA_KINDS, type DataKind } from '../../core/types.js';
import type { ConflictPolicy } from '../adapter.js';
import { KIND_SPECS, type KindSpec, keyFields, type ValueType } from '../records.js';

/** Longest Postgres identifier. */
const MAX_IDENTIFIER = 63;
/** Longest accepted table prefix (the longest table name adds `predicted_funding_pkey`, 22 characters). */
export const MAX_PREFIX = 40;
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** Quotes a validated identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Checks a schema name: lower-case letters, digits and `_`, not starting with a digit, not `pg_…`. */
export function validateSchemaName(schema: unknown): string {
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema) || schema.length > MAX_IDENTIFIER) {
    throw new InvalidArgumentError(
      `schema must be a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most ${MAX_IDENTIFIER} characters), got ${describe(schema)}`,
    );
  }
  if (schema.startsWith('pg_')) {
    throw new InvalidArgumentError(
      `schema must not start with "pg_" (reserved by Postgres), got ${describe(schema)}`,
    );
  }
  return schema;
}

/** Checks a table prefix: empty, or lower-case letters, digits and `_`, not starting with a digit. */
export function validateTablePrefix(prefix: unknown): string {
  if (
    typeof prefix !== 'string' ||
    (prefix !== '' && !IDENTIFIER.test(prefix)) ||
    prefix.length > MAX_PREFIX
  ) {
    throw new InvalidArgumentError(
      `tablePrefix must be empty or a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most ${MAX_PREFIX} characters), got ${describe(prefix)}`,
    );
  }
  return prefix;
}

function describe(value: unknown): string {
  if (typeof value !== 'string') return typeof value;
  return JSON.stringify(value.length > 70 ? `${value.slice(0, 70)}…` : value);
}

/** 32-bit FNV-1a of a string, as 8 hex digits. */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Every table of one storage, unquoted and quoted-qualified. */
export interface Tables {
  readonly schema: string;
  readonly prefix: string;
  /** `"schema"."prefixname"` */
  qualified(name: string): string;
  readonly migrations: string;
  readonly status: string;
  readonly errors: string;
  /** The coverage ledger. */
  readonly coverage: string;
}

/** Table names for a schema and prefix (both validated). */
export function tables(schema: string, prefix: string): Tables {
  const qualified = (name: string) => `${ident(schema)}.${ident(prefix + name)}`;
  return {
    schema,
    prefix,
    qualified,
    migrations: qualified('migrations'),
    status: qualified('status'),
    errors: qualified('errors'),
    coverage: qualified('coverage'),
  };
}

/** One column of a data table. */
export interface Column {
  readonly name: string;
  /** Record property it holds. */
  readonly field: string;
  readonly role: 'key' | 'ts' | 'value';
  readonly type: 'text' | ValueType;
  readonly required: boolean;
}

const columnCache = new Map<DataKind, Column[]>();

/** Columns of a kind's table in table order: series key, `ts`, values. */
export function columnsOf(spec: KindSpec): Column[] {
  let cols = columnCache.get(spec.kind);
  if (!cols) {
    cols = [
      ...keyFields(spec).map(
        (field): Column => ({ name: field, field, role: 'key', type: 'text', required: true }),
      ),
      { name: 'ts', field: 'ts', role: 'ts', type: 'time', required: true },
      ...spec.values.map(
        (v): Column => ({
          name: v.column,
          field: v.field,
          role: 'value',
          type: v.type,
          required: v.required,
        }),
      ),
    ];
    columnCache.set(spec.kind, cols);
  }
  return cols;
}

const SQL_TYPE = { text: 'text', float: 'double precision', integer: 'bigint', time: 'timestamptz' } as const;
const ARRAY_TYPE = { text: 'text[]', float: 'float8[]', integer: 'int8[]', time: 'float8[]' } as const;

/** Comma-separated quoted column names, optionally prefixed by a table alias. */
function list(cols: readonly Column[], alias?: string): string {
  return cols.map((c) => (alias ? `${alias}.${ident(c.name)}` : ident(c.name))).join(', ');
}

/** Columns of the primary key: the series key then `ts`. */
export function primaryKey(spec: KindSpec): Column[] {
  return columnsOf(spec).filter((c) => c.role !== 'value');
}

/** `CREATE TABLE` of a kind's table with its primary key. */
export function createDataTable(spec: KindSpec, t: Tables): string {
  // Key columns hold ASCII identifiers: the "C" collation compares them bytewise, which makes every
  // primary-key insert and lookup cheaper than a locale-aware comparison would.
  const cols = columnsOf(spec).map(
    (c) =>
      `${ident(c.name)} ${SQL_TYPE[c.type]}${c.role === 'key' ? ' COLLATE "C"' : ''}${c.required ? ' NOT NULL' : ''}`,
  );
  const pk = `CONSTRAINT ${ident(`${t.prefix}${spec.table}_pkey`)} PRIMARY KEY (${list(primaryKey(spec))})`;
  return `CREATE TABLE IF NOT EXISTS ${t.qualified(spec.table)} (\n  ${[...cols, pk].join(',\n  ')}\n)`;
}

/** Conflict clause for a target aliased `t`. */
function onConflict(spec: KindSpec, policy: ConflictPolicy): string {
  const pk = list(primaryKey(spec));
  if (policy === 'ignore') return `ON CONFLICT (${pk}) DO NOTHING`;
  const values = columnsOf(spec).filter((c) => c.role === 'value');
  const set = values.map((c) => `${ident(c.name)} = EXCLUDED.${ident(c.name)}`).join(', ');
  return `ON CONFLICT (${pk}) DO UPDATE SET ${set} WHERE ROW(${list(values, 't')}) IS DISTINCT FROM ROW(${list(values, 'EXCLUDED')})`;
}

/**
 * `WHERE NOT EXISTS (…)` over source rows aliased `s`: drops rows stored already with the same values
 * (under `'ignore'`: stored at all). It only reads, so rows that would change nothing are neither written
 * nor locked; `ON CONFLICT` still guards against concurrent writers.
 */
function unchangedFilter(spec: KindSpec, t: Tables, policy: ConflictPolicy): string {
  const match = primaryKey(spec)
    .map((c) => `o.${ident(c.name)} = s.${ident(c.name)}`)
    .join(' AND ');
  const values = columnsOf(spec).filter((c) => c.role === 'value');
  const same =
    policy === 'update'
      ? ` AND ROW(${list(values, 'o')}) IS NOT DISTINCT FROM ROW(${list(values, 's')})`
      : '';
  return `WHERE NOT EXISTS (SELECT 1 FROM ${t.qualified(spec.table)} AS o WHERE ${match}${same})`;
}

/**
 * One `INSERT … SELECT FROM unnest(…)` for a whole batch: one array parameter per column, so the
 * statement text does not depend on the number of rows. Times travel as epoch-ms `float8[]`.
 */
export function insertUnnest(spec: KindSpec, t: Tables, policy: ConflictPolicy): string {
  const cols = columnsOf(spec);
  const arrays = cols.map((c, i) => `$${i + 1}::${ARRAY_TYPE[c.type]}`).join(', ');
  const aliases = cols.map((_, i) => `c${i}`).join(', ');
  const select = cols
    .map((c, i) => `${c.type === 'time' ? `to_timestamp(u.c${i} / 1000.0)` : `u.c${i}`} AS ${ident(c.name)}`)
    .join(', ');
  return `INSERT INTO ${t.qualified(spec.table)} AS t (${list(cols)})\nSELECT ${list(cols, 's')} FROM (SELECT ${select} FROM unnest(${arrays}) AS u(${aliases})) AS s\n${unchangedFilter(spec, t, policy)}\n${onConflict(spec, policy)}`;
}

/** Name of the session-local staging table of a kind (unique per schema and prefix). */
export function stagingName(spec: KindSpec, t: Tables): string {
  return `perpdata_stage_${fnv1a(`${t.schema}.${t.prefix}`)}_${spec.table}`;
}

/** Creates the staging table once per connection; it empties itself at every commit. */
export function createStaging(spec: KindSpec, t: Tables): string {
  return `CREATE TEMP TABLE IF NOT EXISTS ${ident(stagingName(spec, t))} (LIKE ${t.qualified(spec.table)} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`;
}

/** Target of a binary COPY into a kind's table or its staging table (quoted name and column list). */
export function copyTarget(spec: KindSpec, t: Tables, staging: boolean): string {
  const table = staging ? ident(stagingName(spec, t)) : t.qualified(spec.table);
  return `${table} (${list(columnsOf(spec))})`;
}

/** Moves staged rows into the table, skipping rows that would change nothing (see `unchangedFilter`). */
export function mergeFromStaging(spec: KindSpec, t: Tables, policy: ConflictPolicy): string {
  const cols = columnsOf(spec);
  return `INSERT INTO ${t.qualified(spec.table)} AS t (${list(cols)})\nSELECT ${list(cols, 's')} FROM ${ident(stagingName(spec, t))} AS s\n${unchangedFilter(spec, t, policy)}\n${onConflict(spec, policy)}`;
}

/** Epoch-ms of a timestamptz column as a JS number. */
function epochMs(expr: string): string {
  return `(extract(epoch FROM ${expr}) * 1000)::float8`;
}

/** `key1 = $1 AND key2 = $2 …` for the series-key columns of a kind, starting at `$first`. */
function keyMatch(spec: KindSpec, first: number, alias: string): string {
  return keyFields(spec)
    .map((field, i) => `${alias}.${ident(field)} = $${first + i}`)
    .join(' AND ');
}

/**
 * Newest stored `ts` per series of a batch: one backward scan of the primary key per series.
 * Parameters: one `text[]` per key column; rows come back in parameter order.
 */
export function highWater(spec: KindSpec, t: Tables): string {
  const keys = keyFields(spec);
  const arrays = keys.map((_, i) => `$${i + 1}::text[]`).join(', ');
  const aliases = keys.map((_, i) => `k${i}`).join(', ');
  const match = keys.map((k, i) => `o.${ident(k)} = u.k${i}`).join(' AND ');
  return `SELECT ${epochMs(`(SELECT o.ts FROM ${t.qualified(spec.table)} AS o WHERE ${match} ORDER BY o.ts DESC LIMIT 1)`)} AS hw\nFROM unnest(${arrays}) WITH ORDINALITY AS u(${aliases}, n)\nORDER BY u.n`;
}

/** Newest `ts` of one series (parameters: the key values). */
export function latestQuery(spec: KindSpec, t: Tables): string {
  // `ORDER BY t.ts`, qualified: a bare `ts` would name the computed output column and force a sort.
  return `SELECT ${epochMs('t.ts')} AS ts FROM ${t.qualified(spec.table)} AS t\nWHERE ${keyMatch(spec, 1, 't')}\nORDER BY t.ts DESC LIMIT 1`;
}

/**
 * One page of one series (parameters: the key values, then from, to, page size). Keyset pagination on the
 * primary key: the next page starts after the last `ts` seen, so no cursor or connection is held between pages.
 */
export function readPage(spec: KindSpec, t: Tables): string {
  const n = keyFields(spec).length;
  const values = columnsOf(spec)
    .filter((c) => c.role === 'value')
    .map(
      (c) =>
        `${c.type === 'time' ? epochMs(ident(c.name)) : `${ident(c.name)}::float8`} AS ${ident(c.field)}`,
    );
  return `SELECT ${[`${epochMs('t.ts')} AS ts`, ...values].join(', ')}\nFROM ${t.qualified(spec.table)} AS t\nWHERE ${keyMatch(spec, 1, 't')} AND t.ts >= to_timestamp($${n + 1}::float8 / 1000) AND t.ts < to_timestamp($${n + 2}::float8 / 1000)\nORDER BY t.ts LIMIT $${n + 3}`;
}

/** Upsert of the current status of a job and series; an older report does not replace a newer one. */
export function upsertStatus(t: Tables): string {
  return `INSERT INTO ${t.status} AS t (job, series, source, exchange, symbol, "interval", kind, status, message, progress, ts)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, to_timestamp($11::float8 / 1000))
ON CONFLICT (job, series) DO UPDATE SET source = EXCLUDED.source, exchange = EXCLUDED.exchange, symbol = EXCLUDED.symbol,
  "interval" = EXCLUDED."interval", kind = EXCLUDED.kind, status = EXCLUDED.status, message = EXCLUDED.message,
  progress = EXCLUDED.progress, ts = EXCLUDED.ts, updated_at = now()
WHERE EXCLUDED.ts >= t.ts`;
}

/** Insert of one error row. */
export function insertError(t: Tables): string {
  return `INSERT INTO ${t.errors} (job, series, source, exchange, symbol, "interval", kind, code, message, detail, ts)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, to_timestamp($11::float8 / 1000))`;
}

/** Select of stored statuses (parameter: job or NULL). */
export function selectStatus(t: Tables): string {
  return `SELECT job, series, source, exchange, symbol, "interval", kind, status, message, progress, ${epochMs('ts')} AS ts
FROM ${t.status} WHERE ($1::text IS NULL OR job = $1) ORDER BY job, series`;
}

/** Select of stored errors, newest first (parameters: job or NULL, limit). */
export function selectErrors(t: Tables): string {
  return `SELECT job, source, exchange, symbol, "interval", kind, code, message, detail, ${epochMs('ts')} AS ts
FROM ${t.errors} WHERE ($1::text IS NULL OR job = $1) ORDER BY ts DESC, id DESC LIMIT $2`;
}

/** Data tables in `DATA_KINDS` order. */
export function dataSpecs(): KindSpec[] {
  return DATA_KINDS.map((kind) => KIND_SPECS[kind]);
}

/** Columns of the ledger that identify a series: the data kind, then the series key (`''` where unused). */
const LEDGER_KEY = ['kind', 'source', 'exchange', 'symbol', 'interval', 'variant'] as const;

/** `CREATE TABLE` of the coverage ledger: per series, disjoint `[from_ts, to_ts)` intervals. */
export function createCoverageTable(t: Tables): string {
  const keys = LEDGER_KEY.map(
    (k) => `${ident(k)} text COLLATE "C" NOT NULL${k === 'interval' || k === 'variant' ? " DEFAULT ''" : ''}`,
  );
  return `CREATE TABLE IF NOT EXISTS ${t.coverage} (
  ${keys.join(',\n  ')},
  from_ts timestamptz NOT NULL,
  to_ts timestamptz NOT NULL,
  state text NOT NULL,
  reason text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ${ident(`${t.prefix}coverage_pkey`)} PRIMARY KEY (${LEDGER_KEY.map(ident).join(', ')}, from_ts),
  CONSTRAINT ${ident(`${t.prefix}coverage_range`)} CHECK (from_ts < to_ts),
  CONSTRAINT ${ident(`${t.prefix}coverage_state`)} CHECK (state IN ('stored', 'empty') AND (state = 'empty' OR reason IS NULL))
)`;
}

/** Parameters of `updateCoverage` before the newest-ts arrays: kind, 7 series arrays, 5 mark arrays, 3 gap arrays. */
export const UPDATE_COVERAGE_PARAMS = 16;

/**
 * The whole ledger update of one write in one statement, optionally with the newest stored `ts` of the
 * batch's series (`highWater`) and the transaction id. For each series it deletes the intervals that meet
 * or touch the hull of its marks, keeps the parts of them that lie in the gaps between the marks (gaps
 * computed by the caller, from 0 to past 2100), adds the marks (disjoint, applied in order and merged by
 * the caller), merges touching pieces of equal state and reason (gaps and islands) and inserts the result.
 * Every deleted row is read by the sort of the window functions before the first insert, so an interval
 * that keeps its `from_ts` is deleted before its successor is inserted.
 *
 * Parameters: `$1` kind; `$2..$8` per series: source, exchange, symbol, interval, variant (text[]), lo, hi
 * (epoch ms); `$9..$13` per mark: series (1-based), from, to, state, reason; `$14..$16` per gap: series,
 * from, to; then, with `spec`, one text[] per key column of the batch's series for the newest-ts lookup.
 * Columns: `marks` (intervals inserted), `xid`, and with `spec` `hw` (float8[] in series order).
 */
export function updateCoverage(t: Tables, spec?: KindSpec): string {
  const key = LEDGER_KEY.slice(1);
  const match = key.map((k) => `c.${ident(k)} = s.${ident(k)}`).join(' AND ');
  const cols = `${LEDGER_KEY.map(ident).join(', ')}, from_ts, to_ts, state, reason`;
  const hw = spec ? newestOf(spec, t, UPDATE_COVERAGE_PARAMS + 1) : '';
  return `WITH s AS (
  SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::float8[]) WITH ORDINALITY AS u(source, exchange, symbol, "interval", variant, lo, hi, n)
), d AS (
  DELETE FROM ${t.coverage} AS c USING s
  WHERE c.kind = $1 AND ${match} AND c.to_ts >= to_timestamp(s.lo / 1000) AND c.from_ts <= to_timestamp(s.hi / 1000)
  RETURNING s.n, ${epochMs('c.from_ts')} AS f, ${epochMs('c.to_ts')} AS t, c.state, c.reason
), g AS (
  SELECT * FROM unnest($14::int8[], $15::float8[], $16::float8[]) AS g(n, f, t)
), pieces AS (
  SELECT d.n, greatest(d.f, g.f) AS f, least(d.t, g.t) AS t, d.state, d.reason FROM d JOIN g ON g.n = d.n AND g.f < d.t AND g.t > d.f
  UNION ALL
  SELECT * FROM unnest($9::int8[], $10::float8[], $11::float8[], $12::text[], $13::text[]) AS m(n, f, t, state, reason)
), flagged AS (
  SELECT p.*, CASE WHEN lag(p.t) OVER w = p.f AND lag(p.state) OVER w = p.state AND lag(p.reason) OVER w IS NOT DISTINCT FROM p.reason THEN 0 ELSE 1 END AS starts
  FROM pieces AS p WINDOW w AS (PARTITION BY p.n ORDER BY p.f)
), islands AS (
  SELECT f.*, sum(f.starts) OVER (PARTITION BY f.n ORDER BY f.f ROWS UNBOUNDED PRECEDING) AS island FROM flagged AS f
), merged AS (
  SELECT i.n, min(i.f) AS f, max(i.t) AS t, min(i.state) AS state, min(i.reason) AS reason FROM islands AS i GROUP BY i.n, i.island
), ins AS (
  INSERT INTO ${t.coverage} (${cols})
  SELECT $1::text, s.source, s.exchange, s.symbol, s."interval", s.variant, to_timestamp(m.f / 1000), to_timestamp(m.t / 1000), m.state, m.reason
  FROM merged AS m JOIN s ON s.n = m.n
  RETURNING 1
)
SELECT c.marks, txid_current_if_assigned()::text AS xid${hw ? ', h.hw' : ''}
FROM (SELECT count(*)::int AS marks FROM ins) AS c${hw ? `, (${hw}) AS h` : ''}`;
}

/** Parameters of `extendCoverage` before the newest-ts arrays: kind, the five key values, from, to, state, reason. */
export const EXTEND_COVERAGE_PARAMS = 10;

/**
 * The common ledger update in one cheap statement: one mark that continues the interval of equal state
 * and reason ending exactly where the mark starts, with no other interval starting within
 * `[from, to]`, extends that interval in place (`extended` = 1). Anything else changes nothing
 * (`extended` = 0) and goes through `updateCoverage`. Optionally with the newest stored `ts` of the
 * batch's series (`hw`), and the transaction id.
 *
 * Parameters: `$1` kind, `$2..$6` source, exchange, symbol, interval, variant, `$7` from, `$8` to (epoch
 * ms), `$9` state, `$10` reason; then, with `spec`, one text[] per key column of the batch's series.
 */
export function extendCoverage(t: Tables, spec?: KindSpec): string {
  const match = (alias: string) => LEDGER_KEY.map((k, i) => `${alias}.${ident(k)} = $${i + 1}`).join(' AND ');
  const hw = spec ? newestOf(spec, t, EXTEND_COVERAGE_PARAMS + 1) : '';
  return `WITH x AS (
  UPDATE ${t.coverage} AS c SET to_ts = to_timestamp($8::float8 / 1000), updated_at = now()
  WHERE ${match('c')} AND c.to_ts = to_timestamp($7::float8 / 1000) AND c.state = $9::text AND c.reason IS NOT DISTINCT FROM $10::text
    AND NOT EXISTS (SELECT 1 FROM ${t.coverage} AS o WHERE ${match('o')} AND o.from_ts >= to_timestamp($7::float8 / 1000) AND o.from_ts <= to_timestamp($8::float8 / 1000))
  RETURNING 1
)
SELECT e.extended, txid_current_if_assigned()::text AS xid${hw ? ', h.hw' : ''}
FROM (SELECT count(*)::int AS extended FROM x) AS e${hw ? `, (${hw}) AS h` : ''}`;
}

/** `SELECT array_agg(newest ts) AS hw` over the batch's series, key arrays from parameter `$first`. */
function newestOf(spec: KindSpec, t: Tables, first: number): string {
  const keys = keyFields(spec);
  const arrays = keys.map((_, i) => `$${first + i}::text[]`).join(', ');
  const aliases = keys.map((_, i) => `k${i}`).join(', ');
  const on = keys.map((k, i) => `o.${ident(k)} = h.k${i}`).join(' AND ');
  const newest = `(SELECT o.ts FROM ${t.qualified(spec.table)} AS o WHERE ${on} ORDER BY o.ts DESC LIMIT 1)`;
  return `SELECT array_agg(${epochMs(newest)} ORDER BY h.n) AS hw FROM unnest(${arrays}) WITH ORDINALITY AS h(${aliases}, n)`;
}

/**
 * Runs data-modifying statements (CTE bodies, each `… RETURNING 1`) and then reads the transaction id,
 * in one statement: each body is consumed by an aggregate before the id is read, so a transaction that
 * wrote gets its id and one that changed nothing gets NULL. Columns: `n0, n1, …` (rows per body), `xid`.
 */
export function withTransactionId(bodies: readonly string[]): string {
  const ctes = bodies.map((b, i) => `w${i} AS (${b})`).join(',\n');
  const counts = bodies.map((_, i) => `(SELECT count(*)::int AS n FROM w${i}) AS c${i}`).join(', ');
  const cols = bodies.map((_, i) => `c${i}.n AS n${i}`).join(', ');
  return `WITH ${ctes}\nSELECT ${cols}, txid_current_if_assigned()::text AS xid FROM ${counts}`;
}

/** The ledger of one series over a range (parameters: kind, the five key values, from, to as epoch ms). */
export function selectCoverage(t: Tables): string {
  const match = LEDGER_KEY.map((k, i) => `${ident(k)} = $${i + 1}`).join(' AND ');
  return `SELECT ${epochMs('from_ts')} AS "from", ${epochMs('to_ts')} AS "to", state, reason FROM ${t.coverage}
WHERE ${match} AND to_ts > to_timestamp($7::float8 / 1000) AND from_ts < to_timestamp($8::float8 / 1000)
ORDER BY from_ts`;
}
