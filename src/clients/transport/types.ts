import type { PerpdataError } from '../../core/errors.js';
import type { Logger } from '../types.js';
import type { BudgetSpec } from './budget.js';
import type { EgressPool } from './egress.js';
import type { HttpEngine } from './http.js';
import type { Schema } from './schema.js';

/** What a venue tells the transport about an HTTP answer before its body is treated as data. */
export interface VenueAdapter {
  /** Venue name for errors and logs. */
  readonly venue: string;
  /** Units the venue reports as used in the current window (Binance `X-MBX-USED-WEIGHT-1M`). */
  usedFromHeaders?(headers: Headers): number | undefined;
  /**
   * Turns a non-2xx answer, or a 2xx answer with an error envelope (Bybit `retCode`, OKX `code`), into
   * a typed error. Return `undefined` when the body is data.
   */
  errorOf(response: {
    status: number;
    headers: Headers;
    body: unknown;
    endpoint: string;
    url: URL;
    egress: string;
    now: number;
  }): PerpdataError | undefined;
}

/** Options of the shared transport. */
export interface TransportOptions {
  readonly adapter: VenueAdapter;
  readonly baseUrl: string;
  /** The client's egresses; without it the transport builds a pool from `proxies` and `direct`. */
  readonly egress?: EgressPool | undefined;
  readonly proxies?: readonly (string | URL)[] | undefined;
  readonly direct?: boolean | undefined;
  /** Budgets per bucket name; every egress gets its own copy of each. */
  readonly buckets: Readonly<Record<string, BudgetSpec>>;
  readonly timeoutMs?: number | undefined;
  readonly retries?: number | undefined;
  /** Shortest first retry delay; the first retry waits 1-2 × this, doubling per retry (`backoffDelay`). @default 500 */
  readonly retryDelayMs?: number | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly logger?: Logger | undefined;
  readonly now?: (() => number) | undefined;
  /** `'fetch'`: Node's global `fetch` with an undici dispatcher (mock libraries see it); `'undici'`: the dispatcher's own `request()` (faster). @default 'fetch' */
  readonly http?: HttpEngine | undefined;
  /** How long a request may wait for a banned or failed egress to come back before `NoEgressError`. @default 5000 */
  readonly maxEgressWaitMs?: number | undefined;
}

/** One request through the transport. */
export interface TransportRequest<T> {
  /** Path under the base URL, e.g. `/fapi/v1/klines`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  /** Budget bucket and the units this request costs there. */
  readonly bucket: string;
  /**
   * For budgets the venue counts per instrument as well as per IP (OKX: IP + instId): the
   * instrument. Each scope gets its own budget, of `bucket`'s size, on every egress.
   */
  readonly scope?: string | undefined;
  readonly cost: number;
  readonly schema: Schema<T>;
  /**
   * Optional fast path for a 2xx body: reads the bytes straight into `T` in one pass, or returns
   * `undefined` when they are not exactly the expected shape. `undefined` sends the body down the
   * general path (`JSON.parse`, the venue's error mapping, `schema`), which decides what is wrong, so a
   * decoder only ever recognises data, it never rejects it.
   */
  readonly decode?: ((body: Uint8Array) => T | undefined) | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** A successful answer: validated data and when it was received. */
export interface TransportResponse<T> {
  readonly data: T;
  readonly egress: string;
  readonly receivedAt: number;
}
