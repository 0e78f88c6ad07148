export {
  OKX_CANDLE_PAGE,
  OKX_FUNDING_PAGE,
  OKX_FUNDING_RETENTION_MS,
  OKX_RATE_LIMITS,
  OKX_RUBIK_PAGE,
  OKX_RUBIK_RETENTION_ROWS,
  OkxClient,
  type OkxClientOptions,
} from './rest.js';
export * from './ws.js';
