/** Bybit v5 linear: the client and its published budget. Protocol, streams and page sizes stay internal. */
export { BYBIT_DEFAULT_RATE_LIMIT, BybitClient } from './rest.js';
