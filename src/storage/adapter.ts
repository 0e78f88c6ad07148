import type { DataKind, RecordOf, SeriesKey } from '../core/types.js';

/** Values of `StatusEntry.status`: `stopped` is a job (or series) stopped before it finished, by its signal or `stop()`. */
export const JOB_STATUSES = ['running', 'done', 'error', 'stopped'] as const;
/** State of a job (or of one series of a job). */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** One status report of a job, optionally about one series. */
export interface StatusEntry {
  /** Name of the job, e.g. `'backfill'`, `'live'`. */
  readonly job: string;
  readonly status: JobStatus;
  /** The series the report is about; omit for the job as a whole. */
  readonly series?: SeriesKey | undefined;
  /** Free text; redacted before it is stored. */
  readonly message?: string | undefined;
  /** How far along the job is, usually a fraction 0..1. */
  readonly progress?: number | undefined;
  /** Epoch ms the report describes; defaults to now. */
  readonly ts?: number | undefined;
}

/** One error of a job. `message` and `detail` are redacted before they are stored. */
export interface ErrorEntry {
  readonly job: string;
  readonly message: string;
  /** Machine-readable code, e.g. a `PerpdataError.code` (`'RATE_LIMITED'`). */
  readonly code?: string | undefined;
  readonly series?: SeriesKey | undefined;
  /** Epoch ms the error happened; defaults to now. */
  readonly ts?: number | undefined;
  /** Any JSON-like context; strings are redacted and secret-looking keys are masked. */
  readonly detail?: unknown;
}

/** What `write()` reports. */
export interface WriteResult {
  /** Rows that were new or whose values changed. Rows stored already with the same values count 0. */
  readonly written: number;
}

/** What the coverage ledger says about a stretch of one series: rows are stored there, or the venue has none. */
export type CoverageState = 'stored' | 'empty';

/** The ledger states, for validation and docs. */
export const COVERAGE_STATES = ['stored', 'empty'] as const satisfies readonly CoverageState[];

/**
 * One ledger mark: over `[from, to)` of one series the data is stored (`'stored'`), or the venue has
 * none (`'empty'`, with a `reason`). A mark replaces what the ledger said over its range.
 */
export interface CoverageMark {
  /** The series, with the fields its kind uses (as for `latest()`). */
  readonly key: SeriesKey;
  /** Epoch ms, inclusive. */
  readonly from: number;
  /** Epoch ms, exclusive; greater than `from`. */
  readonly to: number;
  readonly state: CoverageState;
  /** Why the venue has no data, for `empty` (e.g. 'before listing', 'no data from venue'). */
  readonly reason?: string | undefined;
}

/** One interval of a series' ledger as `coverage()` returns it. */
export interface CoverageInterval {
  /** Epoch ms, inclusive. */
  readonly from: number;
  /** Epoch ms, exclusive. */
  readonly to: number;
  readonly state: CoverageState;
  /** Present on `empty` intervals that were marked with a reason. */
  readonly reason?: string;
}

/** Options of one `write()`. */
export interface WriteOptions {
  /** Ledger marks committed in the same transaction as the rows. Marks of the write's kind. */
  readonly coverage?: readonly CoverageMark[] | undefined;
}

/**
 * What happens when a written row's key (series key + `ts`) is stored already.
 * `'update'`: the new values replace the stored ones (rows with identical values are left alone and not
 * counted). `'ignore'`: the stored row wins.
 */
export type ConflictPolicy = 'update' | 'ignore';

/** The conflict policies, for validation and docs. */
export const CONFLICT_POLICIES = ['update', 'ignore'] as const satisfies readonly ConflictPolicy[];

/**
 * Where perpdata keeps records, job status and errors. Writes are idempotent upserts keyed on the series
 * key plus `ts`; reads stream ascending pages of one series over `[from, to)`. A coverage ledger says, per
 * series, which `[from, to)` intervals are stored and where the venue has no data; its marks commit with
 * the rows they cover.
 * @example
 * import { type Candle, MemoryStorage, type StorageAdapter } from 'perpdata';
 *
 * declare const candles: Candle[]; // Binance BTC 1m candles of [from, to)
 * declare const from: number, to: number;
 * const storage: StorageAdapter = new MemoryStorage();
 * await storage.migrate();
 * const key = { source: 'binance', exchange: 'binance', symbol: 'BTC', interval: '1m' } as const;
 * await storage.write('candles', candles, { coverage: [{ key, from, to, state: 'stored' }] });
 * const newest = await storage.latest('candles', key); // the newest stored ts, or null
 * const ledger = await storage.coverage('candles', key); // [{ from, to, state: 'stored' }]
 */
export interface StorageAdapter {
  /** Creates or upgrades the schema; idempotent and versioned, safe to call on every start. */
  migrate(): Promise<void>;
  /**
   * Stores rows of one kind atomically (all or none); idempotent upsert. `options.coverage` marks ledger
   * intervals in the same transaction: rows and marks commit together or not at all. `write(kind, [],
   * { coverage })` records marks alone.
   */
  write<K extends DataKind>(kind: K, rows: RecordOf<K>[], options?: WriteOptions): Promise<WriteResult>;
  /** Newest stored `ts` of one series, or `null` when the series is empty. */
  latest(kind: DataKind, key: SeriesKey): Promise<number | null>;
  /**
   * The ledger of one series over `[from, to)` (default everything): ascending, disjoint intervals clipped
   * to the range, adjacent intervals with equal state and reason merged. Stretches never marked are absent.
   */
  coverage(kind: DataKind, key: SeriesKey, from?: number, to?: number): Promise<CoverageInterval[]>;
  /** Rows of one series with `from <= ts < to`, ascending, in pages. */
  read<K extends DataKind>(kind: K, key: SeriesKey, from: number, to: number): AsyncIterable<RecordOf<K>[]>;
  /** Records the current status of a job (per series when `series` is given). */
  logStatus(entry: StatusEntry): Promise<void>;
  /** Appends an error of a job. */
  logError(entry: ErrorEntry): Promise<void>;
  /** Releases what the adapter owns (its pool, its embedded database). Idempotent. */
  close(): Promise<void>;
}

/** A stored status: the latest report per job and series. */
export interface StoredStatus {
  readonly job: string;
  readonly status: JobStatus;
  readonly series?: SeriesKey;
  readonly message?: string;
  readonly progress?: number;
  /** Epoch ms of the report. */
  readonly ts: number;
}

/** A stored error. */
export interface StoredError {
  readonly job: string;
  readonly message: string;
  readonly code?: string;
  readonly series?: SeriesKey;
  /** Epoch ms of the error. */
  readonly ts: number;
  /** The redacted detail, as JSON-compatible data. */
  readonly detail?: unknown;
}

/** Filter for `listErrors()`. */
export interface ErrorQuery {
  /** Only errors of this job. */
  readonly job?: string | undefined;
  /** At most this many, newest first. @default 100 */
  readonly limit?: number | undefined;
}

/** Read access to what `logStatus` / `logError` stored (for dashboards and tests). */
export interface StatusReader {
  /** Current status per job and series, ordered by job then series. */
  listStatus(job?: string): Promise<StoredStatus[]>;
  /** Stored errors, newest first. */
  listErrors(query?: ErrorQuery): Promise<StoredError[]>;
}
