/** OKX v5 swaps: the client, its options and its per-endpoint budgets. Protocol, streams and page sizes stay internal. */
export { OKX_RATE_LIMITS, OkxClient, type OkxClientOptions } from './rest.js';
