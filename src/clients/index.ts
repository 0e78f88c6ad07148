/**
 * `perpdata/clients`: one client per venue (`BinanceClient`, `BybitClient`, `OkxClient`,
 * `CoinalyzeClient`), what each serves (`capabilities`), their options, the live stream type and the
 * retry policy. Transport, protocols, streams, processors and page sizes are internal.
 * @module perpdata/clients
 */
export type { SnapshotKind, SnapshotParams } from './base.js';
export {
  type Capabilities,
  HISTORY_KINDS,
  type HistoryKind,
  type KindCapability,
  type SeriesParams,
} from './capabilities.js';
export { classifyError, type RetryDecision } from './transport/retry.js';
/**
 * `LiveStream` and `VenueClient` are type aliases, not the classes: streams come from `watch*()` and
 * clients from their venue's constructor (a `LiveStream`'s constructor takes a plan, a processor and
 * the client's egress pool, none of them public).
 */
export type { LiveStream, VenueClient } from './type-exports.js';
export type {
  ClientOptions,
  ClientWarning,
  HistoryParams,
  IntervalHistoryParams,
  Logger,
  RateLimit,
} from './types.js';
/**
 * Each venue's client, its options and parameter types and its published budgets: the venue's own
 * explicit export list (`./<venue>/index.ts`), one generated line per venue of the registry
 * (`scripts/venues.ts`).
 */
export * from './venues.generated.js';
export type {
  BackoffOptions,
  GapWindow,
  ReconnectReason,
  StreamEvents,
  WatchCandlesParams,
  WatchLiquidationsParams,
  WatchOpenInterestParams,
  WatchOptions,
  WatchSymbolsParams,
  WsClock,
} from './ws/index.js';
