export * from './binance/index.js';
export * from './bybit/index.js';
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
