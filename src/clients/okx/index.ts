export { OKX_FUNDING_RETENTION_MS, OKX_RUBIK_RETENTION_ROWS } from '../capabilities.js';
export {
  OKX_CANDLE_PAGE,
  OKX_FUNDING_PAGE,
  OKX_RATE_LIMITS,
  OKX_RUBIK_PAGE,
  OkxClient,
  type OkxClientOptions,
} from './rest.js';
export * from './ws.js';
