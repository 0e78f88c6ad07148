import type { Interval } from '../core/intervals.js';
import type { TimeInput } from '../core/time.js';
import type { SymbolRegistry } from '../normalize/symbols.js';

/** A rate budget per egress: at most `limit` units (requests, or weight on Binance) per `intervalMs`. */
export interface RateLimit {
  readonly limit: number;
  readonly intervalMs: number;
}

/** Where log lines go. Every message is redacted before it reaches the logger. */
export interface Logger {
  /** Detail: each failed attempt of a request that is retried. */
  debug?(message: string, meta?: Record<string, unknown>): void;
  /** Lifecycle: a stream reconnecting, with the delay and the reason. */
  info?(message: string, meta?: Record<string, unknown>): void;
  /** Something worked around: a clamped range, a rate limit or ban, a status or error row not written. */
  warn?(message: string, meta?: Record<string, unknown>): void;
  /** A failure given up on: a failed series, a live run stopped on an error, a listener that threw. */
  error?(message: string, meta?: Record<string, unknown>): void;
}

/** Something the client did on the caller's behalf that the caller may want to know (a clamped range). */
export interface ClientWarning {
  readonly code: 'RANGE_CLAMPED';
  readonly message: string;
  readonly venue: string;
  readonly endpoint: string;
  /** The range actually served. */
  readonly from?: number;
  readonly to?: number;
}

/**
 * Options every venue client takes.
 * @example
 * import { BinanceClient } from 'perpdata';
 *
 * const binance = new BinanceClient({
 *   proxies: ['http://user:pass@proxy-a:3128', 'http://proxy-b:3128'], // two more egresses, a budget each
 *   direct: true, // and the direct connection
 *   http: 'undici', // less CPU per page when nothing needs to intercept fetch
 *   outOfRange: 'throw', // HistoryRangeError instead of a clamp warning
 *   logger: console,
 *   onWarning: (w) => console.warn(w.code, w.message),
 * });
 * await binance.close();
 */
export interface ClientOptions {
  /** REST base URL (testnets, mocks). @default the venue's production host */
  readonly baseUrl?: string;
  /** WebSocket base URL. @default the venue's production stream host */
  readonly wsUrl?: string;
  /** HTTP(S) proxy URLs; each is one more egress with its own rate budget. @default [] */
  readonly proxies?: readonly (string | URL)[];
  /** Whether the direct connection is an egress too. @default true */
  readonly direct?: boolean;
  /** Budget per egress. @default the venue's published budget */
  readonly rateLimit?: RateLimit;
  /** Per-request timeout. @default 15000 */
  readonly timeoutMs?: number;
  /** Retries of transient failures (5xx, resets, timeouts) per request. @default 5 */
  readonly retries?: number;
  /** First retry delay; doubles each retry, jittered. @default 500 */
  readonly retryDelayMs?: number;
  /**
   * How long a request may wait for a banned or failed egress to come back before it fails with
   * `NoEgressError` (a 418 ban lasts minutes to days: waiting that long would look like a hang). @default 5000
   */
  readonly maxEgressWaitMs?: number;
  /**
   * HTTP engine. `'fetch'` sends through Node's global `fetch` with an undici dispatcher, so request
   * mocking libraries (MSW, nock's fetch mode) see every request. `'undici'` calls the dispatcher's
   * own `request()`, which skips the WHATWG stream layers: less CPU per page, and a peak RSS that stays
   * flat however fast pages arrive (Node 20's `fetch` leaves about 16 KB per response for the old
   * generation, so an unthrottled backfill's RSS climbs until full GCs catch up). Pick it for long
   * backfills when nothing needs to intercept `fetch`.
   * @default 'fetch'
   */
  readonly http?: 'fetch' | 'undici';
  /** Requests in flight per egress during a backfill. @default 4 */
  readonly concurrency?: number;
  /** Cancels every request of this client. */
  readonly signal?: AbortSignal;
  /** Receives redacted log lines. @default no logging */
  readonly logger?: Logger;
  /** Called when the client clamps a range the venue cannot serve in full. */
  readonly onWarning?: (warning: ClientWarning) => void;
  /**
   * What to do with a range that reaches before a venue's retention window (Binance's 30 days of
   * statistics, OKX's 1,440 rubik rows): `'clamp'` serves what exists and reports a warning,
   * `'throw'` raises `HistoryRangeError`. @default 'clamp'
   */
  readonly outOfRange?: 'clamp' | 'throw';
  /** Canonical symbol ↔ instrument map. @default loaded from `instruments()` on first use */
  readonly registry?: SymbolRegistry;
  /** Clock that decides which periods are closed (rate budgets always use the real clock). @default Date.now */
  readonly now?: () => number;
}

/** Parameters of the history methods: `[from, to)` half-open. */
export interface HistoryParams {
  /** Canonical symbol, e.g. `'BTC'`, `'PEPE'`. */
  readonly symbol: string;
  readonly from: TimeInput;
  readonly to: TimeInput;
  /** Cancels this iteration. */
  readonly signal?: AbortSignal;
}

/** History parameters of kinds that have a period. */
export interface IntervalHistoryParams extends HistoryParams {
  readonly interval: Interval;
}
