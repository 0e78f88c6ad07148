/** Binance USDⓈ-M: the client and its published budget. Protocol, streams and page sizes stay internal. */
export { BINANCE_DEFAULT_RATE_LIMIT, BinanceClient } from './rest.js';
