import { StorageError } from '../core/errors.js';
import type { DataKind, RecordOf, SeriesKey } from '../core/types.js';
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
} from './adapter.js';
import { applyMarks, clipLedger, validateCoverageRange, validateWriteOptions } from './coverage.js';
import { cleanError, cleanStatus } from './log.js';
import { keyFields } from './records.js';
import {
  canonicalRecord,
  checkOptionKeys,
  normalizeSeriesKey,
  prepareBatch,
  specOf,
  validateConflictPolicy,
  validatePositiveInteger,
  validateRange,
  validateRows,
} from './validate.js';

/** Options of `MemoryStorage`. */
export interface MemoryStorageOptions {
  /** What a write does with a row whose key is stored already. @default 'update' */
  onConflict?: ConflictPolicy;
  /** Rows per page yielded by `read()`. @default 10000 */
  readPageSize?: number;
}

/** One series: rows by `ts` and their `ts` in ascending order. */
interface Series {
  readonly rows: Map<number, Readonly<Record<string, unknown>>>;
  /** Ascending; kept sorted on insert (appends are O(1)). */
  readonly order: number[];
}

/** Index of the first element of ascending `list` that is `>= value`. */
function lowerBound(list: readonly number[], value: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A `StorageAdapter` in process memory, for tests and small scripts. Same validation, idempotency and
 * conflict semantics as `PostgresStorage`; rows are stored as frozen canonical copies.
 * @example
 * import { type Candle, MemoryStorage } from 'perpdata';
 *
 * declare const candles: Candle[]; // Binance BTC 1m candles
 * const storage = new MemoryStorage();
 * const key = { source: 'binance', exchange: 'binance', symbol: 'BTC', interval: '1m' } as const;
 * await storage.write('candles', candles); // { written: candles.length }
 * await storage.write('candles', candles); // { written: 0 }: idempotent
 * for await (const page of storage.read('candles', key, 0, Date.now())) console.log(page.length);
 */
export class MemoryStorage implements StorageAdapter, StatusReader {
  readonly #onConflict: ConflictPolicy;
  readonly #pageSize: number;
  readonly #series = new Map<string, Series>();
  /** Coverage ledger per series (`kind` NUL key values), ascending and disjoint. */
  readonly #ledger = new Map<string, CoverageInterval[]>();
  readonly #status = new Map<string, StoredStatus>();
  readonly #errors: StoredError[] = [];
  #closed = false;

  constructor(options: MemoryStorageOptions = {}) {
    checkOptionKeys('MemoryStorage', options, ['onConflict', 'readPageSize']);
    const { onConflict = 'update', readPageSize = 10_000 } = options;
    this.#onConflict = validateConflictPolicy(onConflict);
    this.#pageSize = validatePositiveInteger('readPageSize', readPageSize, 1_000_000);
  }

  #open(op: string): void {
    if (this.#closed) throw new StorageError(`${op}: MemoryStorage is closed`);
  }

  /** Nothing to migrate; checks the storage is open. */
  async migrate(): Promise<void> {
    this.#open('migrate()');
  }

  /**
   * Stores rows and ledger marks atomically: rows and marks are validated before anything is stored, then
   * both are applied without yielding.
   */
  async write<K extends DataKind>(
    kind: K,
    rows: RecordOf<K>[],
    options?: WriteOptions,
  ): Promise<WriteResult> {
    this.#open(`write('${kind}')`);
    validateRows(kind, rows);
    const marks = validateWriteOptions(kind, options);
    const spec = specOf(kind);
    const batch = prepareBatch(kind, rows as readonly object[], this.#onConflict);
    const prefix = `${kind}\u0000`;
    let written = 0;
    for (let i = 0; i < batch.rows.length; i++) {
      const row = canonicalRecord(spec, batch.rows[i] as Record<string, unknown>);
      const id = prefix + (batch.groups[batch.groupOf[i] as number]?.values.join('\u0000') ?? '');
      let series = this.#series.get(id);
      if (!series) {
        series = { rows: new Map(), order: [] };
        this.#series.set(id, series);
      }
      const ts = row.ts as number;
      const stored = series.rows.get(ts);
      if (stored === undefined) {
        const order = series.order;
        if (order.length === 0 || (order[order.length - 1] as number) < ts) order.push(ts);
        else order.splice(lowerBound(order, ts), 0, ts);
        series.rows.set(ts, Object.freeze(row));
        written++;
      } else if (
        this.#onConflict === 'update' &&
        spec.values.some((v) => (stored[v.field] ?? null) !== (row[v.field] ?? null))
      ) {
        series.rows.set(ts, Object.freeze(row));
        written++;
      }
    }
    for (const series of marks) {
      const id = prefix + series.id;
      this.#ledger.set(id, applyMarks(this.#ledger.get(id) ?? [], series.marks));
    }
    return { written };
  }

  /** The ledger of one series over `[from, to)`, clipped to the range. */
  async coverage(kind: DataKind, key: SeriesKey, from?: number, to?: number): Promise<CoverageInterval[]> {
    this.#open(`coverage('${kind}')`);
    const [lo, hi] = validateCoverageRange(kind, from, to);
    const normal = normalizeSeriesKey(kind, key, 'coverage') as unknown as Record<string, unknown>;
    const values = keyFields(specOf(kind)).map((f) => normal[f === 'name' ? 'kind' : f] as string);
    return clipLedger(this.#ledger.get(`${kind}\u0000${values.join('\u0000')}`) ?? [], lo, hi);
  }

  #find(kind: DataKind, key: SeriesKey, op: string): Series | undefined {
    const normal = normalizeSeriesKey(kind, key, op) as unknown as Record<string, unknown>;
    const values = keyFields(specOf(kind)).map((f) => normal[f === 'name' ? 'kind' : f] as string);
    return this.#series.get(`${kind}\u0000${values.join('\u0000')}`);
  }

  /** Newest stored `ts` of the series, or `null`. */
  async latest(kind: DataKind, key: SeriesKey): Promise<number | null> {
    this.#open(`latest('${kind}')`);
    const series = this.#find(kind, key, 'latest');
    return series?.order[series.order.length - 1] ?? null;
  }

  /** Rows with `from <= ts < to`, ascending, in pages of `readPageSize`. */
  read<K extends DataKind>(kind: K, key: SeriesKey, from: number, to: number): AsyncIterable<RecordOf<K>[]> {
    this.#open(`read('${kind}')`);
    validateRange(kind, from, to);
    const series = this.#find(kind, key, 'read');
    const pageSize = this.#pageSize;
    return {
      async *[Symbol.asyncIterator]() {
        if (!series) return;
        let after = from;
        for (;;) {
          // Look the position up again for every page: writes between pages are allowed.
          const start = lowerBound(series.order, after);
          const page: RecordOf<K>[] = [];
          for (let i = start; i < series.order.length && page.length < pageSize; i++) {
            const ts = series.order[i] as number;
            if (ts >= to) break;
            page.push(series.rows.get(ts) as unknown as RecordOf<K>);
          }
          if (page.length === 0) return;
          yield page;
          if (page.length < pageSize) return;
          after = (page[page.length - 1] as { ts: number }).ts + 1;
        }
      },
    };
  }

  /** Keeps the latest status per job and series (an older `ts` does not replace a newer one). */
  async logStatus(entry: StatusEntry): Promise<void> {
    this.#open('logStatus()');
    const clean = cleanStatus(entry);
    const id = `${clean.job}\u0000${clean.seriesLabel}`;
    const stored = this.#status.get(id);
    if (stored && stored.ts > clean.ts) return;
    this.#status.set(id, {
      job: clean.job,
      status: clean.status,
      ts: clean.ts,
      ...(clean.series ? { series: clean.series } : {}),
      ...(clean.message !== undefined ? { message: clean.message } : {}),
      ...(clean.progress !== undefined ? { progress: clean.progress } : {}),
    });
  }

  /** Appends a redacted error. */
  async logError(entry: ErrorEntry): Promise<void> {
    this.#open('logError()');
    const clean = cleanError(entry);
    this.#errors.push({
      job: clean.job,
      message: clean.message,
      ts: clean.ts,
      ...(clean.code !== undefined ? { code: clean.code } : {}),
      ...(clean.series ? { series: clean.series } : {}),
      ...(clean.detail !== undefined ? { detail: clean.detail } : {}),
    });
  }

  /** Current status per job and series, ordered by job then series. */
  async listStatus(job?: string): Promise<StoredStatus[]> {
    this.#open('listStatus()');
    return [...this.#status.entries()]
      .filter(([, s]) => job === undefined || s.job === job)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, s]) => s);
  }

  /** Stored errors, newest first. */
  async listErrors(query: ErrorQuery = {}): Promise<StoredError[]> {
    this.#open('listErrors()');
    const limit = validatePositiveInteger('limit', query.limit ?? 100);
    return this.#errors
      .map((e, i) => [e, i] as const)
      .filter(([e]) => query.job === undefined || e.job === query.job)
      .sort(([a, i], [b, j]) => b.ts - a.ts || j - i)
      .slice(0, limit)
      .map(([e]) => e);
  }

  /** Drops everything; later calls throw a `StorageError`. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#series.clear();
    this.#ledger.clear();
    this.#status.clear();
    this.#errors.length = 0;
  }
}
