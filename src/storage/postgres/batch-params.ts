/**
 * A prepared batch as statement parameters: the column arrays of `insertUnnest`, the key arrays of the
 * newest-ts lookup, and the split of a batch's rows into those newer than anything stored and the rest.
 */
import type { KindSpec } from '../records.js';
import { keyFields } from '../records.js';
import type { PreparedBatch } from '../validate.js';
import { columnsOf } from './sql.js';

/** `[0, 1, …, n - 1]`. */
export function range(n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** One array per column (in table order) for `insertUnnest`, over `indices` or all rows. */
export function columnArrays(
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

/** One `text[]` per key column of the batch's series, for the newest-ts lookup. */
export function groupKeyArrays(spec: KindSpec, batch: PreparedBatch<object>): string[][] {
  return keyFields(spec).map((_, k) => batch.groups.map((g) => g.values[k] as string));
}

/** The rows of a batch by where they go: `fresh` straight into the table, `overlap` through the merge. */
export interface BatchSplit {
  fresh: number[] | undefined;
  overlap: number[] | undefined;
}

/**
 * Splits a batch by the newest stored `ts` of each of its series (`newest`, in group order; `null`
 * where the series has no rows): rows newer than that are fresh, the others overlap. A batch wholly on
 * one side gets one `range` and leaves the other side undefined.
 */
export function splitByNewest(batch: PreparedBatch<object>, newest: readonly (number | null)[]): BatchSplit {
  const all = batch.rows.length;
  if (batch.groups.every((g, i) => (newest[i] ?? null) === null || (newest[i] as number) < g.minTs))
    return { fresh: range(all), overlap: undefined };
  if (batch.groups.every((g, i) => (newest[i] ?? null) !== null && (newest[i] as number) >= g.maxTs))
    return { fresh: undefined, overlap: range(all) };
  const fresh: number[] = [];
  const overlap: number[] = [];
  for (let i = 0; i < all; i++) {
    const mark = newest[batch.groupOf[i] as number] ?? null;
    if (mark === null || (batch.rows[i] as { ts: number }).ts > mark) fresh.push(i);
    else overlap.push(i);
  }
  return { fresh, overlap };
}
