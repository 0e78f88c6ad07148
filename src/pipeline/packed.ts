/**
 * Pages waiting in the batch writer, held as columns of 64-bit floats outside the JS heap instead of
 * as record objects. A page waits for a write for a few hundred milliseconds: long enough for its
 * objects to survive two young-generation collections and be promoted, so that the old generation
 * fills with rows that are garbage a moment later and grows with the length of the run. Packed, a
 * table's waiting pages share one reused `Float64Array`; their records are made again just before
 * the write and die young. Exact: every value a record may carry is a finite JS number, which a float64 holds
 * bit for bit.
 */
import type { AnyRecord, DataKind } from '../core/types.js';
import { KIND_SPECS, keyFields } from '../storage/records.js';

/** Per kind: the key fields, then `ts` and the value fields (the packed columns, in order). */
interface Layout {
  readonly keys: readonly string[];
  readonly columns: readonly string[];
  readonly required: readonly boolean[];
}

const layouts = new Map<DataKind, Layout>();

function layoutOf(kind: DataKind): Layout {
  let layout = layouts.get(kind);
  if (!layout) {
    const spec = KIND_SPECS[kind];
    layout = {
      keys: keyFields(spec),
      columns: ['ts', ...spec.values.map((v) => v.field)],
      required: [true, ...spec.values.map((v) => v.required)],
    };
    layouts.set(kind, layout);
  }
  return layout;
}

interface Segment {
  readonly key: readonly unknown[];
  readonly offset: number;
  readonly count: number;
}

/**
 * The pages of one table waiting for a write: packed into one reused `Float64Array` where they fit,
 * kept as they are where they do not. `drain()` gives the records back in the order they came.
 */
export class RowArena {
  readonly #layout: Layout;
  #values = new Float64Array(0);
  /** Floats of `#values` in use. */
  #used = 0;
  #segments: (Segment | readonly AnyRecord[])[] = [];
  /** Rows held. */
  rows = 0;

  constructor(kind: DataKind) {
    this.#layout = layoutOf(kind);
  }

  /**
   * Adds a page: packed when it fits (one series key over the page, every `ts` and value a finite
   * number or an absent optional value), otherwise kept as it is (the storage then refuses what is
   * invalid with its own message, as it would have).
   */
  add(rows: readonly AnyRecord[]): void {
    if (rows.length === 0) return;
    this.rows += rows.length;
    const segment = this.#pack(rows);
    this.#segments.push(segment ?? rows);
  }

  #pack(rows: readonly AnyRecord[]): Segment | undefined {
    const { keys, columns, required } = this.#layout;
    const first = rows[0] as unknown as Record<string, unknown>;
    const key = keys.map((k) => first[k]);
    const width = columns.length;
    const offset = this.#used;
    const need = offset + rows.length * width;
    if (need > this.#values.length) {
      const grown = new Float64Array(Math.max(need, 2 * this.#values.length, 4_096));
      grown.set(this.#values.subarray(0, offset));
      this.#values = grown;
    }
    const values = this.#values;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as unknown as Record<string, unknown>;
      for (let k = 0; k < keys.length; k++) if (row[keys[k] as string] !== key[k]) return undefined;
      const at = offset + i * width;
      for (let c = 0; c < width; c++) {
        const v = row[columns[c] as string];
        if (typeof v === 'number' && Number.isFinite(v)) values[at + c] = v;
        else if ((v === undefined || v === null) && !required[c]) values[at + c] = Number.NaN;
        else return undefined;
      }
    }
    this.#used = need;
    return { key, offset, count: rows.length };
  }

  /** Every row held, as records (packed ones made anew: key fields, `ts`, present values); empties the arena. */
  drain(): AnyRecord[] {
    const { keys, columns } = this.#layout;
    const width = columns.length;
    const values = this.#values;
    const out: AnyRecord[] = [];
    for (const segment of this.#segments) {
      if (!('offset' in segment)) {
        for (const row of segment) out.push(row);
        continue;
      }
      for (let i = 0; i < segment.count; i++) {
        const row: Record<string, unknown> = {};
        for (let k = 0; k < keys.length; k++) row[keys[k] as string] = segment.key[k];
        const at = segment.offset + i * width;
        for (let c = 0; c < width; c++) {
          const v = values[at + c] as number;
          if (!Number.isNaN(v)) row[columns[c] as string] = v;
        }
        out.push(row as unknown as AnyRecord);
      }
    }
    this.#segments = [];
    this.#used = 0;
    this.rows = 0;
    return out;
  }
}
