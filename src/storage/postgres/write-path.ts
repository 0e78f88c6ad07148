/**
 * The write path of `PostgresStorage`: one prepared batch and its ledger marks in one transaction, by
 * binary COPY (straight into the table, or into a staging table and one merge) or by one
 * `INSERT … SELECT FROM unnest`. See "Writes" in `src/storage/README.md` for the round trips.
 */
import type { ConflictPolicy, CoverageInterval } from '../adapter.js';
import { applyMarks, type LedgerSeries } from '../coverage.js';
import type { KindSpec } from '../records.js';
import type { PreparedBatch } from '../validate.js';
import { type BatchSplit, columnArrays, groupKeyArrays, range, splitByNewest } from './batch-params.js';
import { ChunkPool, encodeCopy, encodeGroupKey } from './copy.js';
import type { Driver, Session } from './driver.js';
import { sqlState, TransactionFailure } from './errors.js';
import { extendParams, ledgerLocks, ledgerParams } from './ledger-params.js';
import {
  copyTarget,
  createStaging,
  extendCoverage,
  highWater,
  insertUnnest,
  mergeFromStaging,
  stagingName,
  type Tables,
  updateCoverage,
  withTransactionId,
} from './sql.js';

/** Largest batch whose COPY data is encoded up front, while BEGIN travels (about 130 bytes a candle). */
const PRE_ENCODE_ROWS = 20_000;

/** Rows per COPY statement on PGlite, whose COPY input is one in-memory blob. */
const PGLITE_COPY_SLICE = 100_000;

/** A statement and its values. */
interface Statement {
  text: string;
  values: unknown[];
}

/** Writes batches into one storage's tables; made once per storage, so SQL texts are built once. */
export class WritePath {
  readonly #tables: Tables;
  readonly #onConflict: ConflictPolicy;
  readonly #copyThreshold: number;
  /** SQL texts built once per storage (the same string object each time: no rebuilding, no rehashing). */
  readonly #texts = new Map<string, string>();
  /** Buffers of pre-encoded COPY data, reused from one write to the next. */
  readonly #chunks = new ChunkPool();

  constructor(tables: Tables, onConflict: ConflictPolicy, copyThreshold: number) {
    this.#tables = tables;
    this.#onConflict = onConflict;
    this.#copyThreshold = copyThreshold;
  }

  /**
   * Writes a validated batch and its marks in one transaction; returns the rows that were new or
   * changed. Errors are the driver's (`TransactionFailure` and the like), for the caller to classify.
   */
  async write(
    driver: Driver,
    spec: KindSpec,
    batch: PreparedBatch<object>,
    ledger: readonly LedgerSeries[],
  ): Promise<number> {
    try {
      return await this.#writeBatch(driver, spec, batch, ledger, false);
    } catch (err) {
      // Rows newer than anything stored are copied straight into the table. A concurrent writer may
      // have stored some of them since we looked: the COPY then fails on the primary key and rolls
      // back, and the batch is written again through the merge path, which tolerates conflicts.
      if (err instanceof TransactionFailure && err.committed === false && sqlState(err.cause) === '23505') {
        return await this.#writeBatch(driver, spec, batch, ledger, true);
      }
      throw err;
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

  /** The general ledger statement (any marks), with the newest-ts lookup when `withNewest`. */
  #updateStatement(spec: KindSpec, ledger: readonly LedgerSeries[], withNewest: boolean, newest: string[][]) {
    return {
      text: this.#sql(`update ${withNewest ? spec.kind : ''}`, () =>
        updateCoverage(this.#tables, withNewest ? spec : undefined),
      ),
      values: [...ledgerParams(spec.kind, ledger), ...newest],
    };
  }

  /**
   * The ledger statement that travels with BEGIN: when the write's marks merge into one mark of one
   * series, the guarded extension of the interval before it (a backfill's page continues it);
   * otherwise the general statement.
   */
  #firstStatement(
    spec: KindSpec,
    ledger: readonly LedgerSeries[],
    only: readonly CoverageInterval[],
    withNewest: boolean,
    newest: string[][],
  ): Statement {
    if (only.length !== 1) return this.#updateStatement(spec, ledger, withNewest, newest);
    return {
      text: this.#sql(`extend ${withNewest ? spec.kind : ''}`, () =>
        extendCoverage(this.#tables, withNewest ? spec : undefined),
      ),
      values: extendParams(spec.kind, ledger[0] as LedgerSeries, only[0] as CoverageInterval, newest),
    };
  }

  // Long by design: the ledger statement, the pre-encoding while BEGIN travels and the transaction body share the batch's split state; see the comments inside.
  async #writeBatch(
    driver: Driver,
    spec: KindSpec,
    batch: PreparedBatch<object>,
    ledger: readonly LedgerSeries[],
    mergeAll: boolean,
  ): Promise<number> {
    const all = batch.rows.length;
    const useCopy = all > 0 && all >= this.#copyThreshold && (await driver.canCopy());
    const locks = ledger.length > 0 ? ledgerLocks(this.#tables, spec.kind, ledger) : undefined;
    // The ledger statement updates the ledger, reads the newest stored ts for the COPY split and the
    // transaction id (the ledger always writes, so the id is assigned and final from there on). It is
    // the transaction's first statement and travels with BEGIN.
    const withNewest = ledger.length > 0 && useCopy && !mergeAll;
    const newest = withNewest ? groupKeyArrays(spec, batch) : [];
    const only = ledger.length === 1 ? applyMarks([], (ledger[0] as LedgerSeries).marks) : [];
    const first =
      ledger.length > 0 ? this.#firstStatement(spec, ledger, only, withNewest, newest) : undefined;
    // While BEGIN travels, encode the COPY data for the common case, a batch newer than anything stored.
    const encoded: { chunks?: Uint8Array[] } = {};
    const taken: Uint8Array[] = [];
    const take = (bytes: number) => {
      const b = this.#chunks.take(bytes);
      taken.push(b);
      return b;
    };
    const meanwhile =
      useCopy && !mergeAll && driver.kind === 'pg' && all <= PRE_ENCODE_ROWS
        ? () => {
            encoded.chunks = [
              ...encodeCopy(
                spec,
                batch.rows,
                batch.groupOf,
                batch.groups.map(encodeGroupKey),
                undefined,
                take,
              ),
            ];
          }
        : undefined;
    const written = await driver.transaction(
      async (s, result) => {
        let marks: readonly (number | null)[] | undefined;
        let settled = false;
        if (ledger.length > 0) {
          let row = result?.rows[0];
          if (only.length === 1 && row?.extended !== 1) {
            // The page did not continue an interval: run the general statement after all.
            const next = this.#updateStatement(spec, ledger, withNewest, newest);
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
          return this.#lastWrite(
            s,
            insertUnnest(spec, this.#tables, this.#onConflict),
            columnArrays(spec, batch),
            settled,
          );
        return this.#copyBatch(driver, s, spec, batch, mergeAll, marks, settled, encoded.chunks);
      },
      { locks, first, meanwhile },
    );
    // Committed: nothing holds the pre-encoded buffers any more (a failed write's are left to the GC).
    this.#chunks.give(taken);
    return written;
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

  /** Which rows go straight into the table and which through the merge (looking up the newest ts if needed). */
  async #split(
    s: Session,
    spec: KindSpec,
    batch: PreparedBatch<object>,
    mergeAll: boolean,
    newest: readonly (number | null)[] | undefined,
  ): Promise<BatchSplit> {
    if (mergeAll) return { fresh: undefined, overlap: range(batch.rows.length) };
    const marks =
      newest ??
      (
        await s.query(
          this.#sql(`newest ${spec.kind}`, () => highWater(spec, this.#tables)),
          groupKeyArrays(spec, batch),
          true,
        )
      ).rows.map((r) => r.hw as number | null);
    return splitByNewest(batch, marks);
  }

  /**
   * The rows of a batch by binary COPY: straight into the table for rows newer than the series' newest
   * stored `ts` (`newest`, looked up here when not given), through the staging table and one merge for
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
    const { fresh, overlap } = await this.#split(s, spec, batch, mergeAll, newest);
    const groupKeys = batch.groups.map(encodeGroupKey);
    let written = 0;
    if (fresh && fresh.length === batch.rows.length && encoded) {
      written += await s.copyIn(copyTarget(spec, this.#tables, false), encoded);
    } else if (fresh && fresh.length > 0) {
      written += await this.#copy(driver, s, spec, batch, groupKeys, fresh, false);
    }
    if (overlap && overlap.length > 0) {
      written += await this.#merge(driver, s, spec, batch, groupKeys, overlap, settled);
    }
    return written;
  }

  /** The rows that may meet stored ones: by unnest below the COPY threshold, else COPY to staging and merge. */
  async #merge(
    driver: Driver,
    s: Session,
    spec: KindSpec,
    batch: PreparedBatch<object>,
    groupKeys: Uint8Array[],
    overlap: number[],
    settled: boolean,
  ): Promise<number> {
    const t = this.#tables;
    const policy = this.#onConflict;
    if (overlap.length < this.#copyThreshold) {
      return this.#lastWrite(s, insertUnnest(spec, t, policy), columnArrays(spec, batch, overlap), settled);
    }
    const staging = stagingName(spec, t);
    if (!s.knows(staging)) {
      await s.query(createStaging(spec, t));
      s.learn(staging);
    }
    await this.#copy(driver, s, spec, batch, groupKeys, overlap, true);
    return this.#lastWrite(
      s,
      this.#sql(`merge ${spec.kind}`, () => mergeFromStaging(spec, t, policy)),
      undefined,
      settled,
      true,
    );
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
}
