/**
 * HTTP for every venue client, by role: `transport.ts` (the `Transport`: attempts, retries, failover),
 * `egress.ts` (the egress pool shared with the client's sockets: health, bans, dispatchers),
 * `budget.ts` (per-egress rate budgets), `retry.ts` (what is retried), `backoff.ts` (the one backoff
 * formula), `sleep.ts` (the one abortable sleep), `network.ts` (why a connection failed),
 * `deadline.ts` (per-request timeouts), `http.ts` (the two HTTP engines), `response.ts` (an answer to
 * data or a typed error), `schema.ts` and `types.ts` (what venues hand the transport).
 */
export { type BackoffOptions, backoffDelay } from './backoff.js';
export { Budget, type BudgetSpec } from './budget.js';
export { type Egress, EgressPool, type EgressPoolOptions, type SocketEgress } from './egress.js';
export { describeNetworkFailure, type NetworkFailure, type NetworkFailureKind } from './network.js';
export { classifyError, type RetryDecision } from './retry.js';
export { normalisedPages, type Schema } from './schema.js';
export { sleep, type Timers } from './sleep.js';
export { Transport } from './transport.js';
export type { TransportOptions, TransportRequest, TransportResponse, VenueAdapter } from './types.js';
