/**
 * The options of `PostgresStorage` (`PostgresStorageOptions`, `PostgresPoolOptions`) and their
 * validation into the settings a storage runs on: connection string or handle, tables, conflict policy,
 * page size, COPY threshold, TimescaleDB settings, pool settings and the secrets to redact.
 */
import { InvalidArgumentError } from '../../core/errors.js';
import { DATA_KINDS, type DataKind } from '../../core/types.js';
import type { ConflictPolicy } from '../adapter.js';
import { checkOptionKeys, validateConflictPolicy, validatePositiveInteger } from '../validate.js';
import type { OwnedPoolSettings } from './driver.js';
import { DEFAULT_CHUNK_INTERVALS, type TimescaleSettings, validateIntervalText } from './migrations.js';
import { type Tables, tables, validateSchemaName, validateTablePrefix } from './sql.js';
import type { PostgresHandle } from './types.js';

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

/** PGlite instances opened by `openPostgresStorage`, which the storage then owns. */
export const ownedHandles = new WeakSet<object>();

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

function validatePoolOptions(pool: PostgresPoolOptions): OwnedPoolSettings {
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

/** What a `PostgresStorage` runs on: its options, validated and with defaults applied. */
export interface StorageSettings {
  readonly db: string | PostgresHandle;
  /** Whether the storage opened the database itself (and closes it). */
  readonly owned: boolean;
  readonly tables: Tables;
  readonly onConflict: ConflictPolicy;
  readonly pageSize: number;
  readonly copyThreshold: number;
  readonly timescale: TimescaleSettings;
  readonly pool: OwnedPoolSettings;
  /** The connection string's password, to mask in every message. */
  readonly password: string | undefined;
}

/** Validates the options of `PostgresStorage` (throwing `InvalidArgumentError`) and applies the defaults. */
export function resolveOptions(options: PostgresStorageOptions): StorageSettings {
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
  return {
    db,
    owned: typeof db === 'string' || ownedHandles.has(db),
    tables: tables(validateSchemaName(schema), validateTablePrefix(tablePrefix)),
    onConflict: validateConflictPolicy(onConflict),
    pageSize: validatePositiveInteger('readPageSize', readPageSize, 1_000_000),
    copyThreshold:
      copyThreshold === Number.POSITIVE_INFINITY
        ? copyThreshold
        : validatePositiveInteger('copyThreshold', copyThreshold),
    timescale: timescaleSettings(timescale, chunkInterval, compressAfter),
    pool: validatePoolOptions(pool ?? {}),
    password: typeof db === 'string' ? passwordOf(db) : undefined,
  };
}

function timescaleSettings(
  timescale: unknown,
  chunkInterval: unknown,
  compressAfter: string | undefined,
): TimescaleSettings {
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
  return {
    mode: timescale,
    chunkInterval: intervals,
    compressAfter:
      compressAfter === undefined ? undefined : validateIntervalText('compressAfter', compressAfter),
  };
}
