export { COINALYZE_RETENTION_POINTS } from '../capabilities.js';
export {
  COINALYZE_DEFAULT_RATE_LIMIT,
  COINALYZE_MAX_SYMBOLS,
  COINALYZE_PAGE,
  CoinalyzeClient,
  type CoinalyzeClientOptions,
  type CoinalyzeHistoryParams,
  type CoinalyzeManyParams,
} from './rest.js';
