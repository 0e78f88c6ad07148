import { HttpError, PerpdataError } from '../../core/errors.js';

/** What to do after a failed attempt. */
export type RetryDecision =
  /** Try again after a backoff (transient: 5xx, 408, resets, timeouts, 429 once the egress is paused). */
  | 'retry'
  /** Try again, but only through another egress (418 / Bybit 403: this egress is banned). */
  | 'failover'
  /** Give up: the answer will not change (other 4xx, validation failures, unsupported, aborts). */
  | 'fail';

/**
 * The retry policy of every client, in one place.
 * - 429 / OKX 50011: `retry` — the egress pauses until `Retry-After` (or the window's end) first.
 * - 418 (Binance ban), Bybit 403 "access too frequent": `failover` — never retried on the banned egress.
 * - 5xx, 408, connection resets, refused proxies, timeouts: `retry` with exponential, jittered backoff.
 * - Other 4xx, `ValidationError`, `UnsupportedError`, `UnknownSymbolError`, invalid arguments: `fail`.
 * - Aborts (`AbortError`, a signal's reason): `fail`.
 * @example
 * import { classifyError, HttpError } from 'perpdata';
 *
 * classifyError(new HttpError('Bad gateway', { venue: 'binance', endpoint: '/fapi/v1/klines', status: 502 })); // 'retry'
 */
export function classifyError(error: unknown): RetryDecision {
  if (error instanceof PerpdataError) {
    switch (error.code) {
      case 'RATE_LIMITED':
      case 'NETWORK':
      case 'TIMEOUT':
        return 'retry';
      case 'BANNED':
        return 'failover';
      case 'HTTP': {
        const status = error instanceof HttpError ? error.status : undefined;
        return status !== undefined && (status >= 500 || status === 408) ? 'retry' : 'fail';
      }
      default:
        return 'fail';
    }
  }
  return 'fail';
}
