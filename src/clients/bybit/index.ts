export {
  BYBIT_ACCOUNT_RATIO_PAGE,
  BYBIT_BAN_MS,
  BYBIT_DEFAULT_RATE_LIMIT,
  BYBIT_FUNDING_PAGE,
  BYBIT_KLINE_PAGE,
  BYBIT_OPEN_INTEREST_PAGE,
  BybitClient,
} from './rest.js';
export * from './ws.js';
