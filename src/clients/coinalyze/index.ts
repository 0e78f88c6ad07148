export {
  COINALYZE_DEFAULT_RATE_LIMIT,
  COINALYZE_MAX_SYMBOLS,
  COINALYZE_PAGE,
  COINALYZE_RETENTION_POINTS,
  CoinalyzeClient,
  type CoinalyzeClientOptions,
  type CoinalyzeHistoryParams,
  type CoinalyzeManyParams,
} from './rest.js';
