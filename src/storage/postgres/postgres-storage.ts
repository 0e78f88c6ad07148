/**
 * `PostgresStorage`: the `StorageAdapter` and `StatusReader` on PostgreSQL or PGlite. Each method
 * validates, opens the driver on first use and maps failures to `StorageError`; the write path is in
 * `write-path.ts`, options in `options.ts`, row mapping in `row-mapping.ts`.
 */
import { type PerpdataError, StorageError } from '../../core/errors.js';
import { registerSecret } from '../../core/redact.js';
import { DATA_KINDS, type DataKind, type RecordOf, type SeriesKey } from '../../core/types.js';
import type {
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
import { clipLedger, ledgerKey, validateCoverageRange, validateWriteOptions } from '../coverage.js';
import { cleanError, cleanStatus } from '../log.js';
import { keyFields } from '../records.js';
import {
  normalizeSeriesKey,
  prepareBatch,
  specOf,
  validatePositiveInteger,
  validateRange,
  validateRows,
} from '../validate.js';
import { type Driver, handleKind, openPool, PgDriver, PgliteDriver } from './driver.js';
import { toStorageError } from './errors.js';
import { runMigrations } from './migrations.js';
import { type PostgresStorageOptions, resolveOptions, type StorageSettings } from './options.js';
import {
  errorParams,
  intervalOf,
  recordOf,
  statusParams,
  storedErrorOf,
  storedStatusOf,
} from './row-mapping.js';
import {
  columnsOf,
  insertError,
  latestQuery,
  readPage,
  selectCoverage,
  selectErrors,
  selectStatus,
  upsertStatus,
} from './sql.js';
import type { PGliteLike, PgClientLike, PgPoolLike } from './types.js';
import { WritePath } from './write-path.js';

/**
 * A `StorageAdapter` on PostgreSQL (through a `pg` pool or a connection string) or on embedded PGlite.
 * Writes are bulk and atomic: by default binary COPY straight into the table for rows newer than anything
 * stored and COPY into a staging table plus one merge for the rest; below `copyThreshold` one
 * `INSERT … SELECT FROM unnest`. A failed write throws a `StorageError` whose `committed` says whether the batch
 * reached the database.
 * @example
 * import { PGlite } from '@electric-sql/pglite';
 * import { type Candle, PostgresStorage } from 'perpdata';
 *
 * declare const candles: Candle[]; // Binance BTC 1m candles from a client
 * const storage = new PostgresStorage({ db: process.env.DATABASE_URL ?? new PGlite() });
 * await storage.migrate();
 * const key = { source: 'binance', exchange: 'binance', symbol: 'BTC', interval: '1m' } as const;
 * const { written } = await storage.write('candles', candles);
 * for await (const page of storage.read('candles', key, Date.UTC(2024, 0, 1), Date.now())) console.log(page.length);
 * await storage.close();
 */
export class PostgresStorage implements StorageAdapter, StatusReader {
  readonly #settings: StorageSettings;
  readonly #secrets: string[];
  readonly #writer: WritePath;
  #driver: Promise<Driver> | undefined;
  #closed = false;

  constructor(options: PostgresStorageOptions) {
    const settings = resolveOptions(options);
    this.#settings = settings;
    this.#writer = new WritePath(settings.tables, settings.onConflict, settings.copyThreshold);
    this.#secrets = settings.password ? [settings.password] : [];
    registerSecret(settings.password);
  }

  /** Schema and table names in use, e.g. `{ schema: 'public', candles: 'perp_candles', … }`. */
  get tableNames(): Readonly<
    Record<DataKind | 'status' | 'errors' | 'coverage' | 'migrations', string> & { schema: string }
  > {
    const p = this.#settings.tables.prefix;
    const names: Record<string, string> = { schema: this.#settings.tables.schema };
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
    const { db, owned, pool } = this.#settings;
    if (typeof db === 'string') {
      return new PgDriver(await openPool(db, pool), true);
    }
    if (handleKind(db) === 'pglite') return new PgliteDriver(db as PGliteLike, owned);
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
      await runMigrations(driver, this.#settings.tables, this.#settings.timescale);
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
    const batch = prepareBatch(kind, rows as readonly object[], this.#settings.onConflict);
    const driver = await this.#ready(op);
    const table = this.tableNames[kind];
    try {
      return { written: await this.#writer.write(driver, spec, batch, ledger) };
    } catch (err) {
      throw this.#fail(err, op, table, batch.rows.length);
    }
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
      const { rows } = await driver.query(selectCoverage(this.#settings.tables), [
        kind,
        ...ledgerKey(kind, values),
        lo,
        hi,
      ]);
      return clipLedger(rows.map(intervalOf), lo, hi);
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
      const result = await driver.query(latestQuery(specOf(kind), this.#settings.tables), params);
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
    const sql = readPage(spec, this.#settings.tables);
    const pageSize = this.#settings.pageSize;
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
          yield rows.map((row) => recordOf<K>(base, values, row));
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
      await driver.query(upsertStatus(this.#settings.tables), statusParams(e));
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
      await driver.query(insertError(this.#settings.tables), errorParams(e));
    } catch (err) {
      throw this.#fail(err, op, this.tableNames.errors);
    }
  }

  /** Current status per job and series, ordered by job then series. */
  async listStatus(job?: string): Promise<StoredStatus[]> {
    const driver = await this.#ready('listStatus()');
    try {
      const { rows } = await driver.query(selectStatus(this.#settings.tables), [job ?? null]);
      return rows.map(storedStatusOf);
    } catch (err) {
      throw this.#fail(err, 'listStatus()', this.tableNames.status);
    }
  }

  /** Stored errors, newest first. */
  async listErrors(query: ErrorQuery = {}): Promise<StoredError[]> {
    const limit = validatePositiveInteger('limit', query.limit ?? 100);
    const driver = await this.#ready('listErrors()');
    try {
      const { rows } = await driver.query(selectErrors(this.#settings.tables), [query.job ?? null, limit]);
      return rows.map(storedErrorOf);
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
      const { db, owned } = this.#settings;
      if (owned && typeof db !== 'string') await (db as PGliteLike).close();
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
