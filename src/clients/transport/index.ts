import pRetry from 'p-retry';
import type { Dispatcher } from 'undici';
import {
  HttpError,
  InvalidArgumentError,
  NetworkError,
  NoEgressError,
  type PerpdataError,
  RateLimitError,
  ValidationError,
} from '../../core/errors.js';
import { redact, redactUrl, registerSecret } from '../../core/redact.js';
import type { Logger } from '../types.js';
import { Budget, type BudgetSpec } from './budget.js';
import { classifyError } from './retry.js';

export { Budget, type BudgetSpec } from './budget.js';
export { classifyError, type RetryDecision } from './retry.js';

/** A zod-like schema: anything with `safeParse`. */
export interface Schema<T> {
  safeParse(
    data: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

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
  readonly proxies?: readonly (string | URL)[] | undefined;
  readonly direct?: boolean | undefined;
  /** Budgets per bucket name; every egress gets its own copy of each. */
  readonly buckets: Readonly<Record<string, BudgetSpec>>;
  readonly timeoutMs?: number | undefined;
  readonly retries?: number | undefined;
  readonly retryDelayMs?: number | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly logger?: Logger | undefined;
  readonly now?: (() => number) | undefined;
  /** `'fetch'`: Node's global `fetch` with an undici dispatcher (mock libraries see it); `'undici'`: the dispatcher's own `request()` (faster). @default 'fetch' */
  readonly http?: 'fetch' | 'undici' | undefined;
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

/**
 * The `schema` and `decode` of a request whose answer is normalised at the boundary: `decode` reads
 * plain bodies from bytes in one pass; anything else is validated by `schema` and normalised by
 * `normalise`, and a normaliser that refuses a value (a blank price) fails validation like a schema.
 */
export function normalisedPages<R, T>(
  schema: Schema<R>,
  normalise: (data: R) => T,
  decode?: (body: Uint8Array) => T | undefined,
): Pick<TransportRequest<T>, 'schema' | 'decode'> {
  return {
    decode,
    schema: {
      safeParse(data) {
        const parsed = schema.safeParse(data);
        if (!parsed.success) return parsed;
        try {
          return { success: true, data: normalise(parsed.data) };
        } catch (error) {
          return { success: false, error: { issues: [{ path: [], message: (error as Error).message }] } };
        }
      },
    },
  };
}

/** A successful answer: validated data and when it was received. */
export interface TransportResponse<T> {
  readonly data: T;
  readonly egress: string;
  readonly receivedAt: number;
}

interface Egress {
  readonly id: string;
  /** Proxy URL (redacted) or `direct`. */
  readonly label: string;
  readonly proxyUrl: string | undefined;
  dispatcher: Dispatcher | undefined;
  readonly budgets: Map<string, Budget>;
  /** Out of service until this epoch ms (ban or refused proxy). */
  downUntil: number;
  failures: number;
  requests: number;
}

const CONNECT_FAILURES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * A signal for one request: aborts when `parent` does or after `ms`. Unlike `AbortSignal.timeout` with
 * `AbortSignal.any`, `dispose()` releases the timer and the listener the moment the request is done,
 * so a long backfill does not keep thousands of pending timers and dependent signals alive.
 */
function deadline(
  parent: AbortSignal | undefined,
  ms: number,
): { signal: AbortSignal; readonly expired: boolean; dispose(): void } {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException(`Request timed out after ${ms} ms`, 'TimeoutError'));
  }, ms);
  const onAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) onAbort();
  else parent?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onAbort);
    },
  };
}

/** Separates a bucket's name from its scope in budget keys. */
const SCOPE = '\u0000';

/** Decodes bodies as `Response.text()` does (UTF-8, a leading BOM dropped). */
const utf8 = new TextDecoder();

function errorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * HTTP for every venue client: a pool of egresses (the direct connection plus proxies, each an undici
 * `Agent`/`ProxyAgent` given to Node's global `fetch` as its `dispatcher`), one bottleneck budget per
 * egress and bucket, retries with p-retry, failover away from banned or dead egresses, and validation
 * of every body with zod before it is returned.
 */
export class Transport {
  readonly #options: TransportOptions;
  readonly #egresses: Egress[];
  readonly #now: () => number;
  #closed = false;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const proxies = (options.proxies ?? []).map((p) => {
      const url = new URL(String(p));
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new InvalidArgumentError(
          `Unsupported proxy protocol ${url.protocol} (http: and https: proxies are supported)`,
          {
            meta: { Proxy: redactUrl(url) },
          },
        );
      }
      registerSecret(decodeURIComponent(url.password));
      return url.toString();
    });
    const direct = options.direct ?? true;
    if (!direct && proxies.length === 0) {
      throw new InvalidArgumentError('No egress: direct is false and no proxies were given');
    }
    const entries: { id: string; proxyUrl: string | undefined }[] = [];
    if (direct) entries.push({ id: 'direct', proxyUrl: undefined });
    for (const [i, proxyUrl] of proxies.entries()) entries.push({ id: `proxy#${i + 1}`, proxyUrl });
    this.#egresses = entries.map((e) => ({
      id: e.id,
      label: e.proxyUrl ? `${e.id} ${redactUrl(e.proxyUrl)}` : e.id,
      proxyUrl: e.proxyUrl,
      dispatcher: undefined,
      budgets: new Map(
        Object.entries(options.buckets).map(([name, spec]) => [name, new Budget(spec, this.#now)]),
      ),
      downUntil: 0,
      failures: 0,
      requests: 0,
    }));
  }

  /** Number of egresses (direct + proxies). */
  get egressCount(): number {
    return this.#egresses.length;
  }

  /** Per-egress counters, for diagnostics and benchmarks. */
  stats(): { id: string; requests: number; downUntil: number; failures: number }[] {
    return this.#egresses.map((e) => ({
      id: e.id,
      requests: e.requests,
      downUntil: e.downUntil,
      failures: e.failures,
    }));
  }

  /** Replaces a bucket's budget on every egress (e.g. with `exchangeInfo.rateLimits`), its scoped copies included. */
  setBudget(bucket: string, spec: BudgetSpec): void {
    for (const egress of this.#egresses) {
      if (!egress.budgets.has(bucket)) egress.budgets.set(bucket, new Budget(spec, this.#now));
      for (const [key, old] of egress.budgets) {
        if (key !== bucket && !key.startsWith(`${bucket}${SCOPE}`)) continue;
        if (old.spec.limit === spec.limit && old.spec.intervalMs === spec.intervalMs) continue;
        void old.close();
        egress.budgets.set(key, new Budget(spec, this.#now));
      }
    }
  }

  /** The budget of `bucket` (per `scope` when given, created on first use from the bucket's spec). */
  #budget(egress: Egress, bucket: string, scope: string | undefined): Budget | undefined {
    if (scope === undefined) return egress.budgets.get(bucket);
    const key = `${bucket}${SCOPE}${scope}`;
    let budget = egress.budgets.get(key);
    const spec = budget ? undefined : egress.budgets.get(bucket)?.spec;
    if (spec) {
      budget = new Budget(spec, this.#now);
      egress.budgets.set(key, budget);
    }
    return budget;
  }

  async #dispatcher(egress: Egress): Promise<Dispatcher> {
    if (egress.dispatcher) return egress.dispatcher;
    const { Agent, ProxyAgent } = await import('undici');
    const timeout = this.#options.timeoutMs ?? 15_000;
    egress.dispatcher = egress.proxyUrl
      ? new ProxyAgent({ uri: egress.proxyUrl, connectTimeout: timeout, keepAliveTimeout: 4_000 })
      : new Agent({ connectTimeout: timeout, keepAliveTimeout: 4_000 });
    return egress.dispatcher;
  }

  /** Picks the egress with the most headroom in `bucket`, waiting for one to come back if all are down. */
  async #pick(
    bucket: string,
    scope: string | undefined,
    exclude: ReadonlySet<string>,
    signal: AbortSignal | undefined,
  ): Promise<Egress> {
    const maxWait = this.#options.maxEgressWaitMs ?? 5_000;
    const deadline = this.#now() + maxWait;
    for (;;) {
      const t = this.#now();
      let best: Egress | undefined;
      let bestHeadroom = Number.NEGATIVE_INFINITY;
      for (const egress of this.#egresses) {
        if (egress.downUntil > t || exclude.has(egress.id)) continue;
        const headroom = this.#budget(egress, bucket, scope)?.headroom() ?? 0;
        if (headroom > bestHeadroom) {
          best = egress;
          bestHeadroom = headroom;
        }
      }
      if (best) return best;
      const candidates = this.#egresses.filter((e) => !exclude.has(e.id));
      const soonest = Math.min(
        ...(candidates.length > 0 ? candidates : this.#egresses).map((e) => e.downUntil),
      );
      if (candidates.length === 0 || soonest > deadline) {
        throw new NoEgressError(`No ${this.#options.adapter.venue} egress is available`, {
          meta: {
            Egresses: this.#egresses
              .map(
                (e) =>
                  `${e.label} (${e.downUntil > t ? `down until ${new Date(e.downUntil).toISOString()}` : 'excluded'})`,
              )
              .join(', '),
          },
        });
      }
      await sleep(Math.max(1, soonest - t), signal);
    }
  }

  /**
   * Sends a GET and returns the validated body. Transient failures are retried with backoff; a
   * banned egress is left for another; a payload that fails validation throws `ValidationError`.
   */
  async get<T>(request: TransportRequest<T>): Promise<TransportResponse<T>> {
    if (this.#closed) throw new NoEgressError('Client is closed');
    const signals = [this.#options.signal, request.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    signal?.throwIfAborted();
    const banned = new Set<string>();
    return pRetry(() => this.#attempt(request, signal, banned), {
      retries: this.#options.retries ?? 5,
      minTimeout: this.#options.retryDelayMs ?? 500,
      maxTimeout: 30_000,
      factor: 2,
      randomize: true,
      ...(signal ? { signal } : {}),
      shouldRetry: ({ error }) => {
        const decision = classifyError(error);
        return decision === 'retry' || (decision === 'failover' && banned.size < this.#egresses.length);
      },
      // Waiting out a rate limit or a ban is not a failure of the request: it does not use up retries.
      shouldConsumeRetry: ({ error }) => !(error instanceof RateLimitError),
      onFailedAttempt: ({ error, attemptNumber }) => {
        this.#options.logger?.debug?.(
          redact(
            `${this.#options.adapter.venue} ${request.path} attempt ${attemptNumber} failed: ${error.message}`,
          ),
        );
      },
    });
  }

  async #attempt<T>(
    request: TransportRequest<T>,
    signal: AbortSignal | undefined,
    banned: Set<string>,
  ): Promise<TransportResponse<T>> {
    const { adapter } = this.#options;
    const egress = await this.#pick(request.bucket, request.scope, banned, signal);
    const budget = this.#budget(egress, request.bucket, request.scope);
    if (!budget) throw new InvalidArgumentError(`Unknown budget bucket ${request.bucket}`);
    const url = new URL(
      request.path.replace(/^\//, ''),
      this.#options.baseUrl.endsWith('/') ? this.#options.baseUrl : `${this.#options.baseUrl}/`,
    );
    for (const [k, v] of Object.entries(request.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const endpoint = request.path;
    const dispatcher = await this.#dispatcher(egress);

    return budget.schedule(
      request.cost,
      async () => {
        const sentAt = this.#now();
        egress.requests++;
        const timeoutMs = this.#options.timeoutMs ?? 15_000;
        const timeout = deadline(signal, timeoutMs);
        let response: { status: number; ok: boolean; headers: Headers };
        let bytes: Uint8Array;
        try {
          ({ response, bytes } = await this.#send(url, dispatcher, timeout.signal));
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          const isTimeout = timeout.expired;
          const code = errorCode(error);
          if (egress.proxyUrl && !isTimeout && (code === undefined || CONNECT_FAILURES.has(code))) {
            // A proxy that refuses connections leaves the pool for a while; the request moves on.
            egress.failures++;
            egress.downUntil = this.#now() + Math.min(60_000, 1_000 * 2 ** Math.min(egress.failures - 1, 6));
            this.#options.logger?.warn?.(
              redact(
                `${adapter.venue}: egress ${egress.label} failed (${code ?? 'error'}); out until ${new Date(egress.downUntil).toISOString()}`,
              ),
            );
          }
          throw new NetworkError(
            isTimeout
              ? `Request timed out after ${timeoutMs} ms`
              : `Request failed: ${code ?? (error as Error).message}`,
            { venue: adapter.venue, endpoint, egress: egress.label, timeout: isTimeout },
            { cause: error },
          );
        } finally {
          timeout.dispose();
        }
        const receivedAt = this.#now();
        if (egress.proxyUrl) egress.failures = 0;
        const used = adapter.usedFromHeaders?.(response.headers);
        if (used !== undefined) budget.observeUsed(used, sentAt);

        if (response.ok && request.decode) {
          const data = request.decode(bytes);
          if (data !== undefined) return { data, egress: egress.id, receivedAt };
        }
        const text = utf8.decode(bytes);
        let body: unknown = text;
        try {
          body = text.length > 0 ? JSON.parse(text) : undefined;
        } catch {
          // Not JSON: left as text for the error mapping below.
        }
        const failure = adapter.errorOf({
          status: response.status,
          headers: response.headers,
          body,
          endpoint,
          url,
          egress: egress.label,
          now: receivedAt,
        });
        if (failure) {
          if (failure instanceof RateLimitError) {
            const until = failure.retryAt ?? receivedAt + 1_000;
            if (failure.code === 'BANNED') {
              egress.downUntil = until;
              banned.add(egress.id);
              this.#options.logger?.warn?.(
                `${adapter.venue}: egress ${egress.label} banned until ${new Date(until).toISOString()}`,
              );
            } else {
              budget.pause(until);
              this.#options.logger?.warn?.(
                `${adapter.venue}: ${endpoint} rate limited on ${egress.label} until ${new Date(until).toISOString()}`,
              );
            }
          }
          throw failure;
        }
        if (!response.ok) {
          throw new HttpError(`HTTP ${response.status}`, {
            venue: adapter.venue,
            endpoint,
            status: response.status,
            egress: egress.label,
          });
        }
        if (typeof body === 'string' || body === undefined) {
          throw new ValidationError(
            { venue: adapter.venue, endpoint },
            [{ path: [], message: 'body is not JSON' }],
            text,
          );
        }
        const parsed = request.schema.safeParse(body);
        if (!parsed.success)
          throw new ValidationError({ venue: adapter.venue, endpoint }, parsed.error.issues, body);
        return { data: parsed.data, egress: egress.id, receivedAt };
      },
      signal,
    );
  }

  /** One HTTP exchange through `dispatcher`, by the configured engine. */
  async #send(
    url: URL,
    dispatcher: Dispatcher,
    signal: AbortSignal,
  ): Promise<{ response: { status: number; ok: boolean; headers: Headers }; bytes: Uint8Array }> {
    const headers = { accept: 'application/json', ...this.#options.headers };
    if (this.#options.http === 'undici') {
      const res = await dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'GET',
        headers,
        signal,
      });
      const bytes = new Uint8Array(await res.body.arrayBuffer());
      const h = new Headers();
      for (const [key, value] of Object.entries(res.headers)) {
        if (value !== undefined) h.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      return {
        response: { status: res.statusCode, ok: res.statusCode >= 200 && res.statusCode < 300, headers: h },
        bytes,
      };
    }
    // Node's fetch takes an undici dispatcher; the DOM typings do not know the option.
    const res = await fetch(url, { headers, signal, ...({ dispatcher } as object) });
    return { response: res, bytes: new Uint8Array(await res.arrayBuffer()) };
  }

  /** Closes sockets, drops queued work and clears timers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      this.#egresses.map(async (e) => {
        await Promise.all([...e.budgets.values()].map((b) => b.close()));
        await e.dispatcher?.close().catch(() => undefined);
      }),
    );
  }
}
