import { InvalidArgumentError, type PerpdataError, StorageError } from '../../core/errors.js';
import { registerSecret } from '../../core/redact.js';
import { DATA_KINDS, type DataKind, type RecordOf, type SeriesKey } from '../../core/types.js';
import type {
  ConflictPolicy,
  CoverageInterval,
  ErrorEntry,
  ErrorQuery,
  StatusEntry,
  StatusReader,
  StorageAdapter,
  StoredError,
  StoredStatus,
  WriteOptions,
  WriteResult,
} from '../adapter.js';
import {
  applyMarks,
  clipLedger,
  type LedgerSeries,
  ledgerKey,
  validateCoverageRange,
  validateWriteOptions,
} from '../coverage.js';
import { cleanError, cleanStatus } from '../log.js';
import { type KindSpec, keyFields } from '../records.js';
import {
  checkOptionKeys,
  MAX_TS,
  normalizeSeriesKey,
  type PreparedBatch,
  prepareBatch,
  specOf,
  validateConflictPolicy,
  validatePositiveInteger,
  validateRange,
  validateRows,
} from '../validate.js';
import { encodeCopy, encodeGroupKey } from './copy.js';
import { type Driver, handleKind, openPool, PgDriver, PgliteDriver, type Session } from './driver.js';
import { sqlState, TransactionFailure, toStorageError } from './errors.js';
import {
  DEFAULT_CHUNK_INTERVALS,
  runMigrations,
  type TimescaleSettings,
  validateIntervalText,
} from './migrations.js';
import {
  columnsOf,
  copyTarget,
  createStaging,
  extendCoverage,
  fnv1a,
  highWater,
  insertError,
  insertUnnest,
  latestQuery,
  mergeFromStaging,
  readPage,
  selectCoverage,
  selectErrors,
  selectStatus,
  stagingName,
  type Tables,
  tables,
  updateCoverage,
  upsertStatus,
  validateSchemaName,
  validateTablePrefix,
  withTransactionId,
} from './sql.js';
import type { PGliteLike, PgClientLike, PgPoolLike, PostgresHandle } from './types.js';

/** Settings of the pool `PostgresStorage` opens when `db` is a connection string. */
export interface PostgresPoolOptions {
  /** Most connections the pool opens. @default 10 */
  max?: number;
  /** How long to wait for a connection before failing. @default 10000 */
  connectionTimeoutMillis?: number;
  /** How long an idle connection stays open. @default 30000 */
  idleTimeoutMillis?: number;
  /** `application_name` of the connections, as shown in `pg_stat_activity`. @default 'perpdata' */
  applicationName?: string;
}

/** Options of `PostgresStorage`. */
export interface PostgresStorageOptions {
  /**
   * The database: a `pg.Pool` (or a connected `pg.Client`), a connection string (the storage then opens,
   * owns and closes its pool; `pg` is loaded only then), or a PGlite instance.
   */
  db: string | PostgresHandle;
  /** Schema of the tables; created by `migrate()` when missing. @default 'public' */
  schema?: string;
  /** Prefix of every table name (`perp_candles`, `perp_status`, …). @default 'perp_' */
  tablePrefix?: string;
  /**
   * What a write does with a row whose key is stored already: `'update'` replaces changed values
   * (identical rows are left alone and not counted), `'ignore'` keeps the stored row. @default 'update'
   */
  onConflict?: ConflictPolicy;
  /** Rows per page yielded by `read()`. @default 10000 */
  readPageSize?: number;
  /**
   * Batches with at least this many rows go through binary COPY (straight into the table for rows newer
   * than anything stored, through a staging table otherwise); smaller ones through one
   * `INSERT … SELECT FROM unnest(…)`. COPY is the faster path at every size measured (100 rows and up),
   * so by default every batch takes it; `Infinity` never uses COPY. @default 1
   */
  copyThreshold?: number;
  /**
   * TimescaleDB: `'auto'` makes hypertables when the `timescaledb` extension is installed, `true` also
   * runs `CREATE EXTENSION` (and fails without it), `false` never uses it. Applies when `migrate()`
   * creates the tables. @default 'auto'
   */
  timescale?: 'auto' | boolean;
  /** Hypertable chunk interval per kind, e.g. `{ candles: '12 hours' }`. @default DEFAULT_CHUNK_INTERVALS */
  chunkInterval?: Partial<Record<DataKind, string>>;
  /** With TimescaleDB, compress chunks older than this (e.g. `'30 days'`). @default undefined (no compression) */
  compressAfter?: string;
  /** Pool settings, only when `db` is a connection string. */
  pool?: PostgresPoolOptions;
}

const OPTION_KEYS = [
  'db',
  'schema',
  'tablePrefix',
  'onConflict',
  'readPageSize',
  'copyThreshold',
  'timescale',
  'chunkInterval',
  'compressAfter',
  'pool',
] as const;

/** First key of the advisory locks that serialise ledger updates of one series (`'perc'` in ASCII). */
const LEDGER_LOCK_CLASS = 0x70657263;

/** FNV-1a of a string as a signed 32-bit integer (an advisory lock key). */
function fnv1aInt(text: string): number {
  return Number.parseInt(fnv1a(text), 16) | 0;
}

/** Largest batch whose COPY data is encoded up front, while BEGIN travels (about 130 bytes a candle). */
const PRE_ENCODE_ROWS = 20_000;

/** Rows per COPY statement on PGlite, whose COPY input is one in-memory blob. */
const PGLITE_COPY_SLICE = 100_000;

/** PGlite instances opened by `openPostgresStorage`, which the storage then owns. */
const ownedHandles = new WeakSet<object>();

/** The password of a connection string, to mask in every message. */
function passwordOf(connectionString: string): string | undefined {
  try {
    const url = new URL(connectionString);
    return url.password ? decodeURIComponent(url.password) : undefined;
  } catch {
    return /password\s*=\s*'?([^'\s]+)/i.exec(connectionString)?.[1];
  }
}

function validateConnectionString(db: string): void {
  if (db.trim() === '') throw new InvalidArgumentError('db: connection string is empty');
  if (/^postgres(ql)?:\/\//i.test(db)) {
    try {
      new URL(db);
    } catch {
      // Never echo the string: it may carry a password.
      throw new InvalidArgumentError('db: connection string is not a valid postgres:// URL');
    }
  }
}

function validateHandle(db: unknown): void {
  const h = db as Record<string, unknown> | null;
  if (typeof h !== 'object' || h === null || typeof h.query !== 'function') {
    throw new InvalidArgumentError(
      'db must be a connection string, a pg.Pool, a pg.Client or a PGlite instance (an object with query())',
    );
  }
}

function validatePoolOptions(pool: PostgresPoolOptions) {
  checkOptionKeys('PostgresStorage pool', pool, [
    'max',
    'connectionTimeoutMillis',
    'idleTimeoutMillis',
    'applicationName',
  ]);
  const {
    max = 10,
    connectionTimeoutMillis = 10_000,
    idleTimeoutMillis = 30_000,
    applicationName = 'perpdata',
  } = pool;
  if (typeof applicationName !== 'string' || applicationName.length > 63) {
    throw new InvalidArgumentError('pool.applicationName must be a string of at most 63 characters');
  }
  return {
    max: validatePositiveInteger('pool.max', max, 1000),
    connectionTimeoutMillis: validatePositiveInteger('pool.connectionTimeoutMillis', connectionTimeoutMillis),
    idleTimeoutMillis: validatePositiveInteger('pool.idleTimeoutMillis', idleTimeoutMillis),
    applicationName,
  };
}

/**
 * A `StorageAdapter` on PostgreSQL (through a `pg` pool or a connection string) or on embedded PGlite.
 * Writes are bulk and atomic: one `INSERT … SELECT FROM unnest` for small batches; for large ones binary
 * COPY straight into the table for rows newer than anything stored and COPY into a staging table plus
 * one merge for the rest. A failed write throws a `StorageError` whose `committed` says whether the batch
 * reached the database.
 * @example
 * import { PGlite } from '@electric-sql/pglite';
 * const storage = new PostgresStorage({ db: process.env.DATABASE_URL ?? new PGlite() });
 * await storage.migrate();
 * const key = { source: 'binance', exchange: 'binance', symbol: 'BTC', interval: '1m' } as const;
 * const { written } = await storage.write('candles', candles); // candles: Candle[] from a client
 * for await (const page of storage.read('candles', key, Date.UTC(2024, 0, 1), Date.now())) console.log(page.length);
 * await storage.close();
 */
export class PostgresStorage implements StorageAdapter, StatusReader {
  readonly #db: string | PostgresHandle;
  readonly #owned: boolean;
  readonly #tables: Tables;
  readonly #onConflict: ConflictPolicy;
  readonly #pageSize: number;
  readonly #copyThreshold: number;
  readonly #timescale: TimescaleSettings;
  readonly #pool: ReturnType<typeof validatePoolOptions>;
  readonly #secrets: string[];
  #driver: Promise<Driver> | undefined;
  #closed = false;
  /** SQL texts built once per storage (the same string object each time: no rebuilding, no rehashing). */
  readonly #texts = new Map<string, string>();

  constructor(options: PostgresStorageOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('PostgresStorage needs an options object with db');
    }
    checkOptionKeys('PostgresStorage', options, OPTION_KEYS);
    const {
      db,
      schema = 'public',
      tablePrefix = 'perp_',
      onConflict = 'update',
      readPageSize = 10_000,
      copyThreshold = 1,
      timescale = 'auto',
      chunkInterval = {},
      compressAfter,
      pool,
    } = options;
    if (typeof db === 'string') validateConnectionString(db);
    else validateHandle(db);
    if (pool !== undefined && typeof db !== 'string') {
      throw new InvalidArgumentError('pool options apply only when db is a connection string');
    }
    this.#db = db;
    this.#owned = typeof db === 'string' || ownedHandles.has(db);
    this.#tables = tables(validateSchemaName(schema), validateTablePrefix(tablePrefix));
    this.#onConflict = validateConflictPolicy(onConflict);
    this.#pageSize = validatePositiveInteger('readPageSize', readPageSize, 1_000_000);
    this.#copyThreshold =
      copyThreshold === Number.POSITIVE_INFINITY
        ? copyThreshold
        : validatePositiveInteger('copyThreshold', copyThreshold);
    if (timescale !== 'auto' && typeof timescale !== 'boolean') {
      throw new InvalidArgumentError(`timescale must be 'auto', true or false`);
    }
    if (typeof chunkInterval !== 'object' || chunkInterval === null) {
      throw new InvalidArgumentError('chunkInterval must be an object of intervals per data kind');
    }
    checkOptionKeys('chunkInterval', chunkInterval, DATA_KINDS);
    const intervals = { ...DEFAULT_CHUNK_INTERVALS };
    for (const [kind, value] of Object.entries(chunkInterval)) {
      intervals[kind as DataKind] = validateIntervalText(`chunkInterval.${kind}`, value);
    }
    this.#timescale = {
      mode: timescale,
      chunkInterval: intervals,
      compressAfter:
        compressAfter === undefined ? undefined : validateIntervalText('compressAfter', compressAfter),
    };
    this.#pool = validatePoolOptions(pool ?? {});
    const password = typeof db === 'string' ? passwordOf(db) : undefined;
    this.#secrets = password ? [password] : [];
    registerSecret(password);
  }

  /** Schema and table names in use, e.g. `{ schema: 'public', candles: 'perp_candles', … }`. */
  get tableNames(): Readonly<
    Record<DataKind | 'status' | 'errors' | 'coverage' | 'migrations', string> & { schema: string }
  > {
    const p = this.#tables.prefix;
    const names: Record<string, string> = { schema: this.#tables.schema };
    for (const kind of DATA_KINDS) names[kind] = p + specOf(kind).table;
    for (const extra of ['status', 'errors', 'coverage', 'migrations']) names[extra] = p + extra;
    return names as Record<DataKind | 'status' | 'errors' | 'coverage' | 'migrations', string> & {
      schema: string;
    };
  }

  #fail(err: unknown, op: string, table?: string, rows?: number): PerpdataError {
    return toStorageError(err, { op, table, rows, secrets: this.#secrets });
  }

  async #connect(): Promise<Driver> {
    const db = this.#db;
    if (typeof db === 'string') {
      return new PgDriver(await openPool(db, this.#pool), true);
    }
    if (handleKind(db) === 'pglite') return new PgliteDriver(db as PGliteLike, this.#owned);
    return new PgDriver(db as PgPoolLike | PgClientLike, false);
  }

  /** The driver, opened on first use. */
  async #ready(op: string): Promise<Driver> {
    if (this.#closed) throw new StorageError(`${op}: PostgresStorage is closed`);
    if (!this.#driver) {
      const opening = this.#connect();
      this.#driver = opening;
      opening.catch(() => {
        if (this.#driver === opening) this.#driver = undefined;
      });
    }
    try {
      return await this.#driver;
    } catch (err) {
      throw this.#fail(err, op);
    }
  }

  /** Creates or upgrades the tables (versioned, under an advisory lock); cheap when up to date. */
  async migrate(): Promise<void> {
    const driver = await this.#ready('migrate()');
    try {
      await runMigrations(driver, this.#tables, this.#timescale);
    } catch (err) {
      throw this.#fail(err, 'migrate()');
    }
  }

  /**
   * Writes a batch and its ledger marks atomically and returns how many rows were new or changed. Rows
   * and marks are validated first; one invalid row or mark refuses the whole write with an
   * `InvalidArgumentError`.
   */
  async write<K extends DataKind>(
    kind: K,
    rows: RecordOf<K>[],
    options?: WriteOptions,
  ): Promise<WriteResult> {
    const op = `write('${kind}')`;
    if (this.#closed) throw new StorageError(`${op}: PostgresStorage is closed`);
    validateRows(kind, rows);
    const ledger = validateWriteOptions(kind, options);
    if (rows.length === 0 && ledger.length === 0) return { written: 0 };
    const spec = specOf(kind);
    const batch = prepareBatch(kind, rows as readonly object[], this.#onConflict);
    const driver = await this.#ready(op);
    const table = this.tableNames[kind];
    try {
      return { written: await this.#writeBatch(driver, spec, batch, ledger, false) };
    } catch (err) {
      // Rows newer than anything stored are copied straight into the table. A concurrent writer may
      // have stored some of them since we looked: the COPY then fails on the primary key and rolls
      // back, and the batch is written again through the merge path, which tolerates conflicts.
      if (err instanceof TransactionFailure && err.committed === false && sqlState(err.cause) === '23505') {
        try {
          return { written: await this.#writeBatch(driver, spec, batch, ledger, true) };
        } catch (retryError) {
          throw this.#fail(retryError, op, table, batch.rows.length);
        }
      }
      throw this.#fail(err, op, table, batch.rows.length);
    }
  }

  /** The SQL text `build` makes, built once per storage under `id`. */
  #sql(id: string, build: () => string): string {
    let text = this.#texts.get(id);
    if (text === undefined) {
      text = build();
      this.#texts.set(id, text);
    }
    return text;
  }

  /** Advisory lock keys serialising ledger updates of the write's series, in a fixed order. */
  #ledgerLocks(kind: DataKind, ledger: readonly LedgerSeries[]): [number, number][] {
    const base = `${this.#tables.schema}.${this.#tables.prefix}\u0000${kind}\u0000`;
    const keys = [...new Set(ledger.map((series) => fnv1aInt(base + series.id)))].sort((a, b) => a - b);
    return keys.map((k) => [LEDGER_LOCK_CLASS, k]);
  }

  async #writeBatch(
    driver: Driver,
    spec: KindSpec,
    batch: PreparedBatch<object>,
    ledger: readonly LedgerSeries[],
    mergeAll: boolean,
  ): Promise<number> {
    const t = this.#tables;
    const policy = this.#onConflict;
    const all = batch.rows.length;
    const useCopy = all > 0 && all >= this.#copyThreshold && (await driver.canCopy());
    const locks = ledger.length > 0 ? this.#ledgerLocks(spec.kind, ledger) : undefined;
    // The ledger statement updates the ledger, reads the newest stored ts for the COPY split and the
    // transaction id (the ledger always writes, so the id is assigned and final from there on). It is
    // the transaction's first statement and travels with BEGIN.
    const withNewest = ledger.length > 0 && useCopy && !mergeAll;
    const newest = withNewest ? groupKeyArrays(spec, batch) : [];
    const only = ledger.length === 1 ? applyMarks([], (ledger[0] as LedgerSeries).marks) : [];
    const general = () => ({
      text: this.#sql(`update ${withNewest ? spec.kind : ''}`, () =>
        updateCoverage(t, withNewest ? spec : undefined),
      ),
      values: [...ledgerParams(spec.kind, ledger), ...newest],
    });
    let first: { text: string; values: unknown[] } | undefined;
    if (only.length === 1) {
      // A backfill's page continues the interval before it: extend that row in place.
      const mark = only[0] as CoverageInterval;
      const key = ledgerKey(spec.kind, (ledger[0] as LedgerSeries).values);
      first = {
        text: this.#sql(`extend ${withNewest ? spec.kind : ''}`, () =>
          extendCoverage(t, withNewest ? spec : undefined),
        ),
        values: [spec.kind, ...key, mark.from, mark.to, mark.state, mark.reason ?? null, ...newest],
      };
    } else if (ledger.length > 0) first = general();
    // While BEGIN travels, encode the COPY data for the common case, a batch newer than anything stored.
    const encoded: { chunks?: Uint8Array[] } = {};
    const meanwhile =
      useCopy && !mergeAll && driver.kind === 'pg' && all <= PRE_ENCODE_ROWS
        ? () => {
            encoded.chunks = [
              ...encodeCopy(spec, batch.rows, batch.groupOf, batch.groups.map(encodeGroupKey)),
            ];
          }
        : undefined;
    return driver.transaction(
      async (s, result) => {
        let marks: readonly (number | null)[] | undefined;
        let settled = false;
        if (ledger.length > 0) {
          let row = result?.rows[0];
          if (only.length === 1 && row?.extended !== 1) {
            const next = general();
            [row] = (await s.query(next.text, next.values, true)).rows;
          }
          const xid = (row?.xid as string | null | undefined) ?? null;
          if (xid !== null) {
            s.settle(xid);
            settled = true;
          }
          if (withNewest) marks = (row?.hw as (number | null)[] | null | undefined) ?? [];
        }
        if (all === 0) return 0;
        if (!useCopy)
          return this.#lastWrite(s, insertUnnest(spec, t, policy), columnArrays(spec, batch), settled);
        return this.#copyBatch(driver, s, spec, batch, mergeAll, marks, settled, encoded.chunks);
      },
      { locks, first, meanwhile },
    );
  }

  /**
   * Runs the last write statement of a transaction (an `INSERT …` without RETURNING); unless the
   * transaction id is known already, the same statement reads it. Returns the rows written.
   */
  async #lastWrite(
    s: Session,
    text: string,
    values: unknown[] | undefined,
    settled: boolean,
    prepare = false,
  ): Promise<number> {
    if (settled) return (await s.query(text, values, prepare)).rowCount;
    const [row] = (await s.query(withTransactionId([`${text}\nRETURNING 1`]), values, prepare)).rows;
    s.settle((row?.xid as string | null | undefined) ?? null);
    return (row?.n0 as number | undefined) ?? 0;
  }

  /**
   * The rows of a batch by binary COPY: straight into the table for rows newer than the series' newest
   * stored `ts` (`marks`, looked up here when not given), through the staging table and one merge for
   * the others. Returns the rows written.
   */
  async #copyBatch(
    driver: Driver,
    s: Session,
    spec: KindSpec,
    batch: PreparedBatch<object>,
    mergeAll: boolean,
    newest: readonly (number | null)[] | undefined,
    settled: boolean,
    encoded?: readonly Uint8Array[],
  ): Promise<number> {
    const t = this.#tables;
    const policy = this.#onConflict;
    const all = batch.rows.length;
    let fresh: number[] | undefined;
    let overlap: number[] | undefined;
    if (mergeAll) overlap = range(all);
    else {
      const marks =
        newest ??
        (
          await s.query(
            this.#sql(`newest ${spec.kind}`, () => highWater(spec, t)),
            groupKeyArrays(spec, batch),
            true,
          )
        ).rows.map((r) => r.hw as number | null);
      if (batch.groups.every((g, i) => (marks[i] ?? null) === null || (marks[i] as number) < g.minTs))
        fresh = range(all);
      else if (batch.groups.every((g, i) => (marks[i] ?? null) !== null && (marks[i] as number) >= g.maxTs))
        overlap = range(all);
      else {
        fresh = [];
        overlap = [];
        for (let i = 0; i < all; i++) {
          const mark = marks[batch.groupOf[i] as number] ?? null;
          if (mark === null || (batch.rows[i] as { ts: number }).ts > mark) fresh.push(i);
          else overlap.push(i);
        }
      }
    }
    const groupKeys = batch.groups.map(encodeGroupKey);
    let written = 0;
    if (fresh && fresh.length === all && encoded) {
      written += await s.copyIn(copyTarget(spec, t, false), encoded);
    } else if (fresh && fresh.length > 0) {
      written += await this.#copy(driver, s, spec, batch, groupKeys, fresh, false);
    }
    if (overlap && overlap.length > 0) {
      if (overlap.length < this.#copyThreshold) {
        written += await this.#lastWrite(
          s,
          insertUnnest(spec, t, policy),
          columnArrays(spec, batch, overlap),
          settled,
        );
      } else {
        const staging = stagingName(spec, t);
        if (!s.knows(staging)) {
          await s.query(createStaging(spec, t));
          s.learn(staging);
        }
        await this.#copy(driver, s, spec, batch, groupKeys, overlap, true);
        written += await this.#lastWrite(
          s,
          this.#sql(`merge ${spec.kind}`, () => mergeFromStaging(spec, t, policy)),
          undefined,
          settled,
          true,
        );
      }
    }
    return written;
  }

  async #copy(
    driver: Driver,
    s: Session,
    spec: KindSpec,
    batch: PreparedBatch<object>,
    groupKeys: Uint8Array[],
    indices: number[],
    staging: boolean,
  ): Promise<number> {
    const target = copyTarget(spec, this.#tables, staging);
    const slice = driver.kind === 'pglite' ? PGLITE_COPY_SLICE : indices.length;
    let copied = 0;
    for (let start = 0; start < indices.length; start += slice) {
      const part = slice === indices.length ? indices : indices.slice(start, start + slice);
      copied += await s.copyIn(target, encodeCopy(spec, batch.rows, batch.groupOf, groupKeys, part));
    }
    return copied;
  }

  #keyParams(kind: DataKind, key: SeriesKey, op: string): string[] {
    const normal = normalizeSeriesKey(kind, key, op) as unknown as Record<string, string>;
    return keyFields(specOf(kind)).map((f) => normal[f === 'name' ? 'kind' : f] as string);
  }

  /** The ledger of one series over `[from, to)`, clipped to the range (one query on its primary key). */
  async coverage(kind: DataKind, key: SeriesKey, from?: number, to?: number): Promise<CoverageInterval[]> {
    const op = `coverage('${kind}')`;
    if (this.#closed) throw new StorageError(`${op}: PostgresStorage is closed`);
    const [lo, hi] = validateCoverageRange(kind, from, to);
    const values = this.#keyParams(kind, key, 'coverage');
    if (lo >= hi) return [];
    const driver = await this.#ready(op);
    try {
      const { rows } = await driver.query(selectCoverage(this.#tables), [
        kind,
        ...ledgerKey(kind, values),
        lo,
        hi,
      ]);
      const ledger = rows.map(
        (r): CoverageInterval =>
          r.reason === null || r.reason === undefined
            ? { from: r.from as number, to: r.to as number, state: r.state as CoverageInterval['state'] }
            : {
                from: r.from as number,
                to: r.to as number,
                state: r.state as CoverageInterval['state'],
                reason: r.reason as string,
              },
      );
      return clipLedger(ledger, lo, hi);
    } catch (err) {
      throw this.#fail(err, op, this.tableNames.coverage);
    }
  }

  /** Newest stored `ts` of one series (one backward step on the primary key), or `null`. */
  async latest(kind: DataKind, key: SeriesKey): Promise<number | null> {
    const op = `latest('${kind}')`;
    if (this.#closed) throw new StorageError(`${op}: PostgresStorage is closed`);
    const params = this.#keyParams(kind, key, 'latest');
    const driver = await this.#ready(op);
    try {
      const result = await driver.query(latestQuery(specOf(kind), this.#tables), params);
      return (result.rows[0]?.ts as number | undefined) ?? null;
    } catch (err) {
      throw this.#fail(err, op, this.tableNames[kind]);
    }
  }

  /**
   * Rows of one series with `from <= ts < to`, ascending, in pages of `readPageSize` fetched one at a time
   * on the primary key (keyset pagination): memory stays flat however long the range.
   */
  read<K extends DataKind>(kind: K, key: SeriesKey, from: number, to: number): AsyncIterable<RecordOf<K>[]> {
    const op = `read('${kind}')`;
    if (this.#closed) throw new StorageError(`${op}: PostgresStorage is closed`);
    validateRange(kind, from, to);
    const params = this.#keyParams(kind, key, 'read');
    const spec = specOf(kind);
    const sql = readPage(spec, this.#tables);
    const pageSize = this.#pageSize;
    const base: Record<string, unknown> = {};
    keyFields(spec).forEach((field, i) => {
      base[field] = params[i];
    });
    const values = columnsOf(spec).filter((c) => c.role === 'value');
    const table = this.tableNames[kind];
    const ready = () => this.#ready(op);
    const fail = (err: unknown) => this.#fail(err, op, table);
    return {
      async *[Symbol.asyncIterator]() {
        if (from >= to) return;
        const driver = await ready();
        let after = from;
        for (;;) {
          let rows: Record<string, unknown>[];
          try {
            rows = (await driver.query(sql, [...params, after, to, pageSize])).rows;
          } catch (err) {
            throw fail(err);
          }
          if (rows.length === 0) return;
          const page = rows.map((row) => {
            const record: Record<string, unknown> = { ...base, ts: row.ts };
            for (const v of values) {
              const value = row[v.field];
              if (value !== null && value !== undefined) record[v.field] = value;
            }
            return record as unknown as RecordOf<K>;
          });
          yield page;
          if (rows.length < pageSize) return;
          after = (rows[rows.length - 1]?.ts as number) + 1;
        }
      },
    };
  }

  /** Upserts the status of a job (per series) in `<prefix>status`; an older `ts` does not replace a newer one. */
  async logStatus(entry: StatusEntry): Promise<void> {
    const op = 'logStatus()';
    if (this.#closed) throw new StorageError(`${op}: PostgresStorage is closed`);
    const e = cleanStatus(entry);
    const driver = await this.#ready(op);
    try {
      await driver.query(upsertStatus(this.#tables), [
        e.job,
        e.seriesLabel,
        e.series?.source ?? null,
        e.series?.exchange ?? null,
        e.series?.symbol ?? null,
        e.series?.interval ?? null,
        e.series?.kind ?? null,
        e.status,
        e.message ?? null,
        e.progress ?? null,
        e.ts,
      ]);
    } catch (err) {
      throw this.#fail(err, op, this.tableNames.status);
    }
  }

  /** Appends a redacted error to `<prefix>errors`. */
  async logError(entry: ErrorEntry): Promise<void> {
    const op = 'logError()';
    if (this.#closed) throw new StorageError(`${op}: PostgresStorage is closed`);
    const e = cleanError(entry);
    const driver = await this.#ready(op);
    try {
      await driver.query(insertError(this.#tables), [
        e.job,
        e.seriesLabel,
        e.series?.source ?? null,
        e.series?.exchange ?? null,
        e.series?.symbol ?? null,
        e.series?.interval ?? null,
        e.series?.kind ?? null,
        e.code ?? null,
        e.message,
        e.detail === undefined ? null : JSON.stringify(e.detail),
        e.ts,
      ]);
    } catch (err) {
      throw this.#fail(err, op, this.tableNames.errors);
    }
  }

  /** Current status per job and series, ordered by job then series. */
  async listStatus(job?: string): Promise<StoredStatus[]> {
    const driver = await this.#ready('listStatus()');
    try {
      const { rows } = await driver.query(selectStatus(this.#tables), [job ?? null]);
      return rows.map((r) => ({
        job: r.job as string,
        status: r.status as StoredStatus['status'],
        ts: r.ts as number,
        ...seriesOf(r),
        ...(r.message !== null ? { message: r.message as string } : {}),
        ...(r.progress !== null ? { progress: r.progress as number } : {}),
      }));
    } catch (err) {
      throw this.#fail(err, 'listStatus()', this.tableNames.status);
    }
  }

  /** Stored errors, newest first. */
  async listErrors(query: ErrorQuery = {}): Promise<StoredError[]> {
    const limit = validatePositiveInteger('limit', query.limit ?? 100);
    const driver = await this.#ready('listErrors()');
    try {
      const { rows } = await driver.query(selectErrors(this.#tables), [query.job ?? null, limit]);
      return rows.map((r) => ({
        job: r.job as string,
        message: r.message as string,
        ts: r.ts as number,
        ...seriesOf(r),
        ...(r.code !== null ? { code: r.code as string } : {}),
        ...(r.detail !== null
          ? { detail: typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail }
          : {}),
      }));
    } catch (err) {
      throw this.#fail(err, 'listErrors()', this.tableNames.errors);
    }
  }

  /** Closes the pool or PGlite instance the storage opened itself; a handle passed in stays open. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const opening = this.#driver;
    this.#driver = undefined;
    if (!opening) {
      if (this.#owned && typeof this.#db !== 'string') await (this.#db as PGliteLike).close();
      return;
    }
    let driver: Driver;
    try {
      driver = await opening;
    } catch {
      return;
    }
    try {
      await driver.close();
    } catch (err) {
      throw this.#fail(err, 'close()');
    }
  }
}

function range(n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

function seriesOf(r: Record<string, unknown>): { series?: SeriesKey } {
  if (r.source === null || r.source === undefined) return {};
  const series: Record<string, unknown> = { source: r.source, exchange: r.exchange, symbol: r.symbol };
  if (r.interval !== null) series.interval = r.interval;
  if (r.kind !== null) series.kind = r.kind;
  return { series: series as unknown as SeriesKey };
}

/** One array per column (in table order) for `insertUnnest`, over `indices` or all rows. */
function columnArrays(
  spec: KindSpec,
  batch: PreparedBatch<object>,
  indices?: readonly number[],
): unknown[][] {
  const cols = columnsOf(spec);
  const n = indices ? indices.length : batch.rows.length;
  const arrays = cols.map(() => new Array<unknown>(n));
  for (let j = 0; j < n; j++) {
    const i = indices ? (indices[j] as number) : j;
    const row = batch.rows[i] as Record<string, unknown>;
    const group = batch.groups[batch.groupOf[i] as number];
    let k = 0;
    cols.forEach((col, c) => {
      const out = arrays[c] as unknown[];
      if (col.role === 'key') out[j] = group?.values[k++];
      else out[j] = row[col.field] ?? null;
    });
  }
  return arrays;
}

/**
 * Opens a `PostgresStorage` and migrates it: on `url` when one is given (e.g. `process.env.DATABASE_URL`),
 * otherwise on an embedded PGlite database (in memory, or in `dataDir`) that the storage owns and closes.
 * PGlite (`@electric-sql/pglite`) is an optional peer dependency, loaded only in that case.
 * @example
 * const storage = await openPostgresStorage({ url: process.env.DATABASE_URL, dataDir: './.perpdata' });
 */
export async function openPostgresStorage(
  options: Omit<PostgresStorageOptions, 'db'> & {
    /** Connection string; when empty or absent, PGlite is used. @default undefined */
    url?: string | undefined;
    /** PGlite data directory when no `url` is given; in memory when absent. @default undefined */
    dataDir?: string | undefined;
  } = {},
): Promise<PostgresStorage> {
  const { url, dataDir, ...rest } = options;
  let storage: PostgresStorage;
  if (url) storage = new PostgresStorage({ ...rest, db: url });
  else {
    if (rest.pool !== undefined) throw new InvalidArgumentError('pool options apply only with a url');
    // A non-literal specifier keeps bundlers from pulling the optional peer into the build.
    const specifier = '@electric-sql/pglite';
    let mod: { PGlite: new (dataDir?: string) => PGliteLike };
    try {
      mod = (await import(/* @vite-ignore */ specifier)) as { PGlite: new (dataDir?: string) => PGliteLike };
    } catch (err) {
      throw new StorageError('No database url was given and @electric-sql/pglite is not installed', {
        cause: err,
      });
    }
    // PGlite creates its folder but not the folders above it.
    if (dataDir && !dataDir.includes('://')) {
      const { mkdir } = await import('node:fs/promises');
      const { dirname, resolve } = await import('node:path');
      await mkdir(dirname(resolve(dataDir)), { recursive: true });
    }
    const db = new mod.PGlite(dataDir);
    ownedHandles.add(db);
    try {
      storage = new PostgresStorage({ ...rest, db });
    } catch (err) {
      await db.close().catch(() => {});
      throw err;
    }
  }
  try {
    await storage.migrate();
  } catch (err) {
    await storage.close().catch(() => {});
    throw err;
  }
  return storage;
}

/** One `text[]` per key column of the batch's series, for the newest-ts lookup. */
function groupKeyArrays(spec: KindSpec, batch: PreparedBatch<object>): string[][] {
  return keyFields(spec).map((_, k) => batch.groups.map((g) => g.values[k] as string));
}

/** Past the largest storable `to`: the end of the last gap after a series' marks. */
const LEDGER_END = MAX_TS + 1;

/**
 * The parameters of `updateCoverage` (before the newest-ts arrays) for the marks of one write: per series
 * its key and the hull of its marks, the marks applied in order among themselves (disjoint, merged), and
 * the gaps between them from 0 to past 2100, where the stored intervals are kept.
 */
function ledgerParams(kind: DataKind, ledger: readonly LedgerSeries[]): unknown[] {
  const series: unknown[][] = [[], [], [], [], [], [], []];
  const marks: unknown[][] = [[], [], [], [], []];
  const gaps: unknown[][] = [[], [], []];
  ledger.forEach((entry, i) => {
    const n = i + 1;
    const key = ledgerKey(kind, entry.values);
    for (let c = 0; c < 5; c++) (series[c] as unknown[]).push(key[c]);
    (series[5] as unknown[]).push(entry.from);
    (series[6] as unknown[]).push(entry.to);
    let end = 0;
    for (const mark of applyMarks([], entry.marks)) {
      (marks[0] as unknown[]).push(n);
      (marks[1] as unknown[]).push(mark.from);
      (marks[2] as unknown[]).push(mark.to);
      (marks[3] as unknown[]).push(mark.state);
      (marks[4] as unknown[]).push(mark.reason ?? null);
      if (mark.from > end) pushGap(gaps, n, end, mark.from);
      end = mark.to;
    }
    pushGap(gaps, n, end, LEDGER_END);
  });
  return [kind, ...series, ...marks, ...gaps];
}

function pushGap(gaps: unknown[][], n: number, from: number, to: number): void {
  (gaps[0] as unknown[]).push(n);
  (gaps[1] as unknown[]).push(from);
  (gaps[2] as unknown[]).push(to);
}
