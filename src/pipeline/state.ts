import type { DataKind } from '../core/types.js';
import type { PlannedSeries } from './plan.js';
import type { SeriesOutcome, SeriesRef } from './types.js';

/** What names a series: its id, kind and key. */
export type SeriesIdentity = Pick<PlannedSeries, 'id' | 'key'> & { readonly kind: DataKind };

/** Mutable state of one series during a run (fetched, or derived). */
export class SeriesState<P extends SeriesIdentity = PlannedSeries> {
  outcome: SeriesOutcome = 'done';
  rowsFetched = 0;
  rowsWritten = 0;
  spansFetched = 0;
  done = 0;
  total = 0;
  error: Error | undefined;
  /** Smallest `ts` fetched this run: derived series are recomputed from here. */
  firstFetched = Number.POSITIVE_INFINITY;
  readonly gaps: { from: number; to: number; reason: string }[] = [];
  chunksLeft = 0;
  startedAt = 0;
  /** When the series ended (0 while it runs). */
  finishedAt = 0;
  lastStatus = 0;
  from = 0;
  to = 0;
  constructor(readonly plan: P) {}
  get ref(): SeriesRef {
    return { id: this.plan.id, kind: this.plan.kind, key: this.plan.key };
  }
}
