/** Reconnect backoff: exponential, jittered, reset once a connection has been stable for `stableMs`. */
export interface BackoffOptions {
  /** First delay. @default 1000 */
  readonly initialMs?: number;
  /** Largest delay. @default 60000 */
  readonly maxMs?: number;
  /** Growth per failed attempt. @default 2 */
  readonly factor?: number;
  /** A connection open this long counts as healthy and resets the attempt count. @default 60000 */
  readonly stableMs?: number;
}

/**
 * Delay before reconnect attempt `attempt` (0-based): "equal jitter", half fixed and half random, so a
 * fleet of clients does not reconnect in lockstep and the delay never collapses to zero.
 * @example backoffDelay(3, { initialMs: 1000 }, () => 0.5) // 6000
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random = Math.random): number {
  const { initialMs = 1_000, maxMs = 60_000, factor = 2 } = options;
  const ceiling = Math.min(maxMs, initialMs * factor ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
