/**
 * Encoder for Postgres' binary COPY format. Binary spares the server parsing text floats and timestamps
 * and spares us formatting them, which is where most of COPY's time goes for numeric rows.
 * Layout: signature, flags, extension length; per row a field count and `length + bytes` per field
 * (`-1` for NULL); a `-1` trailer.
 */
import type { KindSpec } from '../records.js';
import type { SeriesGroup } from '../validate.js';
import { columnsOf } from './sql.js';

const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];
/** 2000-01-01T00:00:00Z, Postgres' epoch, in Unix ms. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;
/** Bytes per emitted chunk. */
const CHUNK_BYTES = 1 << 20;

const encoder = new TextEncoder();

/** Writes a safe integer as a big-endian int64. */
function setInt64(view: DataView, at: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  view.setInt32(at, hi);
  view.setUint32(at + 4, value - hi * TWO_32);
}

/** The key fields of a series, encoded once as `length + UTF-8` per field. */
export function encodeGroupKey(group: SeriesGroup): Uint8Array {
  const parts = group.values.map((v) => encoder.encode(v));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const part of parts) {
    view.setInt32(at, part.length);
    out.set(part, at + 4);
    at += 4 + part.length;
  }
  return out;
}

/**
 * Reused 1 MiB encoding buffers. A batch's COPY data lives for the whole write (encoded while BEGIN
 * travels, then streamed): long enough for fresh buffers to outlive two young-generation collections,
 * so that a long backfill would fill the old generation with dead ones until the next full collection.
 * Buffers come back only after a write that succeeded (a failed one may still sit in a socket queue).
 */
export class ChunkPool {
  readonly #free: Uint8Array[] = [];
  readonly #keep: number;

  constructor(keep = 8) {
    this.#keep = keep;
  }

  /** A buffer of at least `bytes` (pooled ones are 1 MiB; a larger request gets a fresh buffer). */
  take(bytes: number): Uint8Array {
    if (bytes > CHUNK_BYTES) return new Uint8Array(bytes);
    return this.#free.pop() ?? new Uint8Array(CHUNK_BYTES);
  }

  /** Returns buffers that nothing refers to any more. */
  give(buffers: readonly Uint8Array[]): void {
    for (const b of buffers) {
      if (this.#free.length >= this.#keep) return;
      if (b.buffer.byteLength === CHUNK_BYTES) this.#free.push(new Uint8Array(b.buffer));
    }
  }
}

/**
 * Yields one complete binary COPY stream (header, rows, trailer) in chunks of about 1 MiB for the rows
 * `indices` of `rows` (all rows when `indices` is undefined), in table column order. `alloc` gives the
 * buffers (e.g. `ChunkPool.take`); by default each is new, sized to a small batch.
 */
// Long by design: the binary COPY encoder's inner loop (one switch over column types per value); split, it would cost a call per value.
export function* encodeCopy(
  spec: KindSpec,
  rows: readonly object[],
  groupOf: Uint32Array,
  groupKeys: readonly Uint8Array[],
  indices?: readonly number[] | Uint32Array,
  alloc?: (bytes: number) => Uint8Array,
): Generator<Uint8Array> {
  const values = columnsOf(spec).filter((c) => c.role === 'value');
  const fieldCount = columnsOf(spec).length;
  const maxKey = groupKeys.reduce((n, k) => Math.max(n, k.length), 0);
  const maxRow = 2 + maxKey + 12 + 12 * values.length;
  const count = indices ? indices.length : rows.length;

  // A small batch gets a buffer of its own size: zeroing a 1 MiB buffer costs more than encoding 500 rows.
  const first = Math.max(Math.min(CHUNK_BYTES, 21 + count * maxRow), maxRow + 21);
  let buf = alloc ? alloc(first) : new Uint8Array(first);
  let view = new DataView(buf.buffer);
  buf.set(SIGNATURE, 0);
  view.setInt32(11, 0);
  view.setInt32(15, 0);
  let at = 19;
  for (let n = 0; n < count; n++) {
    const i = indices ? (indices[n] as number) : n;
    if (at + maxRow > buf.length) {
      yield buf.subarray(0, at);
      const size = Math.max(CHUNK_BYTES, maxRow + 2);
      buf = alloc ? alloc(size) : new Uint8Array(size);
      view = new DataView(buf.buffer);
      at = 0;
    }
    const row = rows[i] as Record<string, unknown>;
    view.setInt16(at, fieldCount);
    at += 2;
    const key = groupKeys[groupOf[i] as number] as Uint8Array;
    buf.set(key, at);
    at += key.length;
    view.setInt32(at, 8);
    setInt64(view, at + 4, ((row.ts as number) - PG_EPOCH_MS) * 1000);
    at += 12;
    for (const col of values) {
      const value = row[col.field];
      if (value === undefined || value === null) {
        view.setInt32(at, -1);
        at += 4;
        continue;
      }
      view.setInt32(at, 8);
      if (col.type === 'float') view.setFloat64(at + 4, value as number);
      else if (col.type === 'integer') setInt64(view, at + 4, value as number);
      else setInt64(view, at + 4, ((value as number) - PG_EPOCH_MS) * 1000);
      at += 12;
    }
  }
  if (at + 2 > buf.length) {
    yield buf.subarray(0, at);
    buf = new Uint8Array(2);
    view = new DataView(buf.buffer);
    at = 0;
  }
  view.setInt16(at, -1);
  yield buf.subarray(0, at + 2);
}
