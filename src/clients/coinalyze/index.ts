/** Coinalyze v1: the client, its options and parameters, and its published budget. Page sizes stay internal. */
export {
  COINALYZE_DEFAULT_RATE_LIMIT,
  CoinalyzeClient,
  type CoinalyzeClientOptions,
  type CoinalyzeHistoryParams,
  type CoinalyzeManyParams,
} from './rest.js';
