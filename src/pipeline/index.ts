/**
 * `perpdata/pipeline`: `Sync`, which keeps a symbol list's history of every kind, across venues, in a
 * `StorageAdapter`, resumable from the storage's coverage ledger, and keeps it current (`live()`).
 * @module perpdata/pipeline
 */
export type { LiveHandle, LiveOptions, LiveState, SeriesHealth } from './live.js';
export { Sync } from './sync.js';
export type {
  BackfillReport,
  DeriveOptions,
  SeriesOutcome,
  SeriesRef,
  SeriesReport,
  SyncEvents,
  SyncOptions,
} from './types.js';
