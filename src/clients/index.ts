export * from './binance/index.js';
export { classifyError, type RetryDecision } from './transport/retry.js';
export type {
  ClientOptions,
  ClientWarning,
  HistoryParams,
  IntervalHistoryParams,
  Logger,
  RateLimit,
} from './types.js';
