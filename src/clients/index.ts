export type { SeriesRequest, SnapshotKind, SnapshotParams, VenueClient } from './base.js';
export * from './binance/index.js';
export * from './bybit/index.js';
export {
  BINANCE_CAPABILITIES,
  BINANCE_STATS_PERIODS,
  BINANCE_STATS_RETENTION_MS,
  type Capabilities,
  DEFAULT_FUNDING_PERIOD_MS,
  HISTORY_KINDS,
  type HistoryKind,
  type KindCapability,
  type SeriesParams,
  SNAPSHOT_POLL_MS,
} from './capabilities.js';
export * from './coinalyze/index.js';
export * from './okx/index.js';
export { classifyError, type RetryDecision } from './transport/retry.js';
export type {
  ClientOptions,
  ClientWarning,
  HistoryParams,
  IntervalHistoryParams,
  Logger,
  RateLimit,
} from './types.js';
export * from './ws/index.js';
