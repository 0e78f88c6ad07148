/**
 * Pure ledger arithmetic of the pipeline: what is still missing of a series given its coverage, and
 * which `stored` / `empty` marks a stream of fetched pages justifies. No I/O, no clock.
 */

import type { SeriesKey } from '../core/types.js';
import type { CoverageInterval, CoverageMark } from '../storage/adapter.js';

/** A half-open range `[from, to)` in epoch ms. */
export interface Span {
  readonly from: number;
  readonly to: number;
}

/**
 * The parts of `[from, to)` that no ledger interval covers, ascending. Both `stored` and `empty`
 * intervals count as covered: an empty interval is a hole the venue really has, never asked for again.
 */
export function missingSpans(coverage: readonly CoverageInterval[], from: number, to: number): Span[] {
  const out: Span[] = [];
  let cursor = from;
  const sorted = [...coverage].sort((a, b) => a.from - b.from);
  for (const c of sorted) {
    if (c.to <= cursor) continue;
    if (c.from >= to) break;
    if (c.from > cursor) out.push({ from: cursor, to: Math.min(c.from, to) });
    cursor = Math.max(cursor, c.to);
    if (cursor >= to) break;
  }
  if (cursor < to) out.push({ from: cursor, to });
  return out;
}

/** Splits spans into chunks of at most `size` ms whose inner boundaries are multiples of `align`. */
export function chunkSpans(spans: readonly Span[], size: number, align: number): Span[] {
  const out: Span[] = [];
  const step = Math.max(align, Math.floor(size / align) * align);
  for (const span of spans) {
    let a = span.from;
    while (a < span.to) {
      const b = Math.min(span.to, (Math.floor(a / step) + 1) * step);
      out.push({ from: a, to: b });
      a = b;
    }
  }
  return out;
}

/** Reasons recorded with `empty` intervals. */
export const EMPTY_REASONS = {
  beforeData: 'before the first data the venue has (listing)',
  noData: 'no data from the venue',
} as const;

/** How one fetched chunk of a series turns into ledger marks. */
export interface MarkerOptions {
  readonly key: SeriesKey;
  /** The chunk asked for. */
  readonly span: Span;
  /** Period of the series' grid in ms; `undefined` for event series (funding) without a grid. */
  readonly step: number | undefined;
  /** Whether `span.from` is where the series starts (a leading gap is then "before data"). */
  readonly seriesStart: boolean;
  /**
   * Marks may not reach past this ts unless a row proves it: the trailing part of a chunk that ends near
   * the present is left unmarked, because the venue may publish its last periods late.
   */
  readonly settledBefore: number;
}

/**
 * Walks the pages of one chunk and says, per page, which marks its rows justify; `finish()` marks the
 * trailing part once the chunk is complete. Marks only ever cover ranges the venue has answered for.
 */
export class ChunkMarker {
  readonly #o: MarkerOptions;
  #cursor: number;
  #seenRow = false;
  /** Empty intervals recorded, for the report and `gap` events. */
  readonly gaps: { from: number; to: number; reason: string }[] = [];

  constructor(options: MarkerOptions) {
    this.#o = options;
    this.#cursor = options.span.from;
  }

  /** Where the chunk's marks end so far. */
  get cursor(): number {
    return this.#cursor;
  }

  #empty(from: number, to: number, marks: CoverageMark[]): void {
    if (to <= from) return;
    const reason = !this.#seenRow && this.#o.seriesStart ? EMPTY_REASONS.beforeData : EMPTY_REASONS.noData;
    marks.push({ key: this.#o.key, from, to, state: 'empty', reason });
    this.gaps.push({ from, to, reason });
  }

  /** Marks for one page of rows (ascending `ts`, inside the chunk). */
  page(timestamps: readonly number[]): CoverageMark[] {
    const marks: CoverageMark[] = [];
    const { key, step } = this.#o;
    if (timestamps.length === 0) return marks;
    if (step === undefined) {
      // Event series: rows are events, not a grid; the range up to the last event is complete.
      const last = timestamps[timestamps.length - 1] as number;
      marks.push({ key, from: this.#cursor, to: last + 1, state: 'stored' });
      this.#seenRow = true;
      this.#cursor = last + 1;
      return marks;
    }
    let runStart = -1;
    let prevEnd = this.#cursor;
    for (const ts of timestamps) {
      if (ts >= prevEnd + step) {
        // At least one whole period without a row: a hole the venue has.
        if (runStart !== -1) marks.push({ key, from: runStart, to: prevEnd, state: 'stored' });
        this.#empty(prevEnd, ts, marks);
        runStart = ts;
      } else if (runStart === -1) runStart = prevEnd;
      this.#seenRow = true;
      prevEnd = Math.max(prevEnd, ts + step);
    }
    if (runStart !== -1) marks.push({ key, from: runStart, to: prevEnd, state: 'stored' });
    this.#cursor = prevEnd;
    return marks;
  }

  /** Marks for the rest of the chunk once its last page is in. */
  finish(): CoverageMark[] {
    const marks: CoverageMark[] = [];
    const end = this.#o.span.to;
    if (this.#cursor >= end) return marks;
    if (end > this.#o.settledBefore) return marks; // the venue may still publish these periods
    if (this.#o.step === undefined && (this.#seenRow || !this.#o.seriesStart)) {
      // Event series: between events nothing happened, so the range is complete.
      marks.push({ key: this.#o.key, from: this.#cursor, to: end, state: 'stored' });
    } else this.#empty(this.#cursor, end, marks);
    this.#cursor = end;
    return marks;
  }
}
