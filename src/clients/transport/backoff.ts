/** Backoff of every retry in the clients: REST retries, egress quarantine, socket reconnects, gap fill. */
export interface BackoffOptions {
  /** Ceiling of the first delay (the first delay lies in `[initialMs / 2, initialMs]`). @default 1000 */
  readonly initialMs?: number;
  /** Ceiling of any delay. @default 60000 */
  readonly maxMs?: number;
  /** Growth of the ceiling per failed attempt. @default 2 */
  readonly factor?: number;
  /** A connection open this long counts as healthy and resets the attempt count (sockets only). @default 60000 */
  readonly stableMs?: number;
}

/**
 * The one backoff formula: the delay before retry `attempt` (0-based) is "equal jitter" on a capped
 * exponential ceiling,
 *
 *     ceiling = min(maxMs, initialMs × factor^attempt)
 *     delay   = ceiling / 2 + random() × ceiling / 2
 *
 * so it never collapses to zero (half of it is fixed), never exceeds `maxMs`, and a fleet of clients
 * that failed together does not retry in lockstep (the other half is random).
 * @example backoffDelay(3, { initialMs: 1000 }, () => 0.5) // 6000
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random = Math.random): number {
  const { initialMs = 1_000, maxMs = 60_000, factor = 2 } = options;
  const ceiling = Math.min(maxMs, initialMs * factor ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
