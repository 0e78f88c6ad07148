export { BINANCE_DEFAULT_RATE_LIMIT, BINANCE_KLINE_PAGE, BinanceClient, binanceKlineWeight } from './rest.js';
export * from './ws.js';
