/**
 * Coalesces the pages of many series into large writes per table: rows and the ledger marks they
 * justify go to `storage.write()` together, flushed by row count, by a short time bound, on completion
 * and on stop. A failed write is retried while its outcome says it may be (the connection was lost);
 * rows and marks travel together, so the ledger never claims what the table does not hold.
 */

import { backoffDelay } from '../clients/transport/backoff.js';
import { sleep } from '../clients/transport/sleep.js';
import { PerpdataError, StorageError } from '../core/errors.js';
import type { AnyRecord, DataKind, RecordOf } from '../core/types.js';
import type { CoverageMark, StorageAdapter } from '../storage/adapter.js';

/** Backoff of failed storage calls: 0.2–0.4 s, doubling, capped at 5 s. */
const WRITE_BACKOFF = { initialMs: 400, maxMs: 5_000 } as const;
/** Rows that start the next batch of a buffer as soon as its previous write is done. */
const EAGER_ROWS = 1_000;

/** Options of the batch writer. */
export interface BatchWriterOptions {
  readonly storage: StorageAdapter;
  /** Rows per table that trigger a flush. */
  readonly maxRows: number;
  /** Longest time a row waits in the buffer, ms. */
  readonly maxDelayMs: number;
  /**
   * When set, a buffer also goes once no row was added to it for this long, ms (live: a period's burst
   * of candles is written as soon as it is in, not a second later). @default undefined (time bound only)
   */
  readonly idleMs?: number | undefined;
  /** How long a failing write is retried before its series fail, ms. */
  readonly retryForMs: number;
  /** A write failed and will be tried again. */
  readonly onRetry: (info: { kind: DataKind; attempt: number; delayMs: number; error: unknown }) => void;
  /** A write failed for good: the series it carried rows or marks of. */
  readonly onFailed: (series: ReadonlyMap<string, number>, error: unknown) => void;
  /**
   * A write committed: `written` rows were new or changed (the storage's count), `rows` says how many
   * rows of each series the batch carried.
   */
  readonly onCommitted: (kind: DataKind, written: number, rows: ReadonlyMap<string, number>) => void;
}

interface Buffer {
  readonly kind: DataKind;
  readonly partition: string;
  rows: AnyRecord[];
  marks: CoverageMark[];
  series: Map<string, number>;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** When the buffer's time bound started (its first row since the last write). */
  firstAt: number;
  /** When its last row came (`idleMs`). */
  lastAt: number;
  inFlight: Promise<void> | undefined;
}

/** True when a failed storage call may succeed if tried again (the connection, not the data, failed). */
export function isRetryableStorage(error: unknown): boolean {
  if (!(error instanceof StorageError)) return false;
  if (error.committed === true) return false;
  return !/refused it/.test(error.shortMessage);
}

/**
 * Buffers rows and marks per table and source and writes them in large batches: one write in flight
 * per buffer, so venues write to one table side by side without waiting on each other's series locks.
 */
export class BatchWriter {
  readonly #o: BatchWriterOptions;
  readonly #buffers = new Map<string, Buffer>();
  readonly #drained = new Set<() => void>();
  /** Rows and marks of each series not committed (or failed) yet, and who waits for them. */
  readonly #pending = new Map<string, { n: number; waiters: (() => void)[] }>();
  /** Rows in buffers, not yet handed to a write. */
  #queued = 0;
  #closed = false;

  constructor(options: BatchWriterOptions) {
    this.#o = options;
  }

  /** Rows waiting for a write to start, over every table. */
  get buffered(): number {
    return this.#queued;
  }

  #buffer(kind: DataKind, partition: string): Buffer {
    const id = `${kind}|${partition}`;
    let b = this.#buffers.get(id);
    if (!b) {
      b = {
        kind,
        partition,
        rows: [],
        marks: [],
        series: new Map(),
        timer: undefined,
        firstAt: 0,
        lastAt: 0,
        inFlight: undefined,
      };
      this.#buffers.set(id, b);
    }
    return b;
  }

  /**
   * Queues rows and marks of one series (`partition`: which buffer of the table, e.g. the source).
   * Resolves once they are buffered; waits while the buffers hold more than two batches' worth of rows
   * not yet being written, so that the next batch fills while one is written (fetching and writing
   * overlap) and memory stays flat when the database is slower than the venues.
   */
  async add<K extends DataKind>(
    kind: K,
    series: string,
    rows: readonly RecordOf<K>[],
    marks: readonly CoverageMark[],
    partition = '',
  ): Promise<void> {
    if (this.#closed) throw new PerpdataError('INVALID_ARGUMENT', 'the batch writer is closed');
    if (rows.length === 0 && marks.length === 0) return;
    const b = this.#buffer(kind, partition);
    for (const row of rows) b.rows.push(row);
    for (const mark of marks) b.marks.push(mark);
    b.series.set(series, (b.series.get(series) ?? 0) + rows.length);
    const pending = this.#pending.get(series) ?? { n: 0, waiters: [] };
    pending.n++;
    this.#pending.set(series, pending);
    this.#queued += rows.length;
    // While a write of this buffer is in flight, its end starts the next one.
    if (!b.inFlight) {
      if (b.rows.length >= this.#o.maxRows) void this.#start(b);
      else this.#arm(b);
    }
    while (this.#queued > 2 * this.#o.maxRows) {
      await new Promise<void>((resolve) => this.#drained.add(resolve));
    }
  }

  /** Resolves once everything `series` handed over is committed or failed (without forcing a flush). */
  settled(series: string): Promise<void> {
    const pending = this.#pending.get(series);
    if (!pending || pending.n === 0) return Promise.resolve();
    return new Promise((resolve) => pending.waiters.push(resolve));
  }

  /**
   * Arms the flush timer of `b`: its time bound, or sooner once it has been idle `idleMs`. A row only
   * notes when it came; the one timer of the buffer looks again when it fires (no timer per row).
   */
  #arm(b: Buffer): void {
    const { idleMs, maxDelayMs } = this.#o;
    if (idleMs === undefined) {
      b.timer ??= setTimeout(() => this.#start(b), maxDelayMs);
      return;
    }
    const now = Date.now();
    b.lastAt = now;
    if (b.timer !== undefined) return;
    b.firstAt = now;
    const check = () => {
      const t = Date.now();
      const wait = Math.min(b.lastAt + idleMs - t, b.firstAt + maxDelayMs - t);
      if (wait <= 0) void this.#start(b);
      else b.timer = setTimeout(check, wait);
    };
    b.timer = setTimeout(check, Math.min(idleMs, maxDelayMs));
  }

  /** Starts writing what `b` has buffered, after its write in flight. */
  #start(b: Buffer): Promise<void> {
    if (b.timer) clearTimeout(b.timer);
    b.timer = undefined;
    if (b.inFlight)
      return b.inFlight.then(() => (b.rows.length || b.marks.length ? this.#start(b) : undefined));
    if (b.rows.length === 0 && b.marks.length === 0) return Promise.resolve();
    const rows = b.rows;
    const marks = b.marks;
    const series = b.series;
    b.rows = [];
    b.marks = [];
    b.series = new Map();
    this.#queued -= rows.length;
    for (const resolve of [...this.#drained]) resolve();
    this.#drained.clear();
    const run = this.#write(b.kind, rows, marks, series).finally(() => {
      b.inFlight = undefined;
      for (const id of series.keys()) this.#settle(id);
      for (const resolve of [...this.#drained]) resolve();
      this.#drained.clear();
      // More arrived while this batch was written: a batch of a useful size goes now (rows wait at most
      // one write, so fewer of them outlive the young generation), a trickle at its time bound.
      if (b.rows.length >= Math.min(this.#o.maxRows, EAGER_ROWS)) void this.#start(b);
      else if (b.rows.length > 0 || b.marks.length > 0) this.#arm(b);
    });
    b.inFlight = run;
    return run;
  }

  /** One batch of `series` is done: count it down and wake who waits for the series to settle. */
  #settle(series: string): void {
    const pending = this.#pending.get(series);
    if (!pending) return;
    // A series may add several times to one batch; the batch settles all of them at once.
    pending.n = 0;
    for (const b of this.#buffers.values()) if (b.series.has(series)) pending.n++;
    if (pending.n > 0) return;
    this.#pending.delete(series);
    for (const resolve of pending.waiters) resolve();
  }

  async #write(
    kind: DataKind,
    rows: AnyRecord[],
    marks: CoverageMark[],
    series: ReadonlyMap<string, number>,
  ): Promise<void> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const { written } = await this.#o.storage.write(kind, rows as RecordOf<typeof kind>[], {
          coverage: marks,
        });
        this.#o.onCommitted(kind, written, series);
        return;
      } catch (error) {
        if (error instanceof StorageError && error.committed === true) {
          this.#o.onCommitted(kind, rows.length, series);
          return;
        }
        const delayMs = backoffDelay(attempt - 1, WRITE_BACKOFF);
        if (!isRetryableStorage(error) || Date.now() - started + delayMs > this.#o.retryForMs) {
          this.#o.onFailed(series, error);
          return;
        }
        this.#o.onRetry({ kind, attempt, delayMs, error });
        await sleep(delayMs);
      }
    }
  }

  /** Writes everything buffered (of one partition, when given) and waits for its writes in flight. */
  async flush(partition?: string): Promise<void> {
    for (;;) {
      const pending: Promise<void>[] = [];
      for (const b of this.#buffers.values()) {
        if (partition !== undefined && b.partition !== partition) continue;
        if (b.rows.length > 0 || b.marks.length > 0) pending.push(this.#start(b));
        else if (b.inFlight) pending.push(b.inFlight);
      }
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  /** Flushes and refuses further rows. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }
}

/**
 * Runs a storage call, trying it again while it fails for a retryable reason (the database went away)
 * and `retryForMs` has not passed; `onRetry` hears each retry.
 */
export async function withStorageRetry<T>(
  fn: () => Promise<T>,
  retryForMs: number,
  onRetry: (attempt: number, delayMs: number, error: unknown) => void,
  signal?: AbortSignal,
): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const delayMs = backoffDelay(attempt - 1, WRITE_BACKOFF);
      if (!isRetryableStorage(error) || Date.now() - started + delayMs > retryForMs || signal?.aborted)
        throw error;
      onRetry(attempt, delayMs, error);
      await sleep(delayMs, signal);
    }
  }
}
