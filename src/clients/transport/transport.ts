import pRetry from 'p-retry';
import type { Dispatcher } from 'undici';
import {
  ClosedError,
  InvalidArgumentError,
  NetworkError,
  type PerpdataError,
  RateLimitError,
} from '../../core/errors.js';
import { redact } from '../../core/redact.js';
import { backoffDelay } from './backoff.js';
import { Budget, type BudgetSpec } from './budget.js';
import { deadline } from './deadline.js';
import { type Egress, EgressPool } from './egress.js';
import { send } from './http.js';
import { describeNetworkFailure } from './network.js';
import { readAnswer } from './response.js';
import { classifyError } from './retry.js';
import { sleep } from './sleep.js';
import type { TransportOptions, TransportRequest, TransportResponse } from './types.js';

/** Separates a bucket's name from its scope in budget keys. */
const SCOPE = '\u0000';

/** What one attempt of a request needs besides the request. */
interface AttemptContext {
  readonly signal: AbortSignal | undefined;
  /** Egresses banned during this request: never tried again by it. */
  readonly banned: Set<string>;
}

/**
 * HTTP for every venue client: the client's egress pool (the direct connection plus proxies, each an
 * undici `Agent`/`ProxyAgent` given to Node's global `fetch` as its `dispatcher`, shared with its
 * sockets), one bottleneck budget per egress and bucket, retries with p-retry on `backoffDelay`,
 * failover away from banned or dead egresses, and validation of every body before it is returned.
 */
export class Transport {
  /** The egresses, shared with the client's WebSocket streams. */
  readonly egress: EgressPool;
  readonly #options: TransportOptions;
  readonly #now: () => number;
  readonly #ownsEgress: boolean;
  readonly #baseUrl: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #timeoutMs: number;
  /** `retryDelayMs` is the shortest first delay: equal jitter on twice it spans `[retryDelayMs, 2 × retryDelayMs]`. */
  readonly #backoff: { initialMs: number; maxMs: number };
  #closed = false;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#ownsEgress = options.egress === undefined;
    this.egress =
      options.egress ??
      new EgressPool({
        venue: options.adapter.venue,
        proxies: options.proxies,
        direct: options.direct,
        connectTimeoutMs: this.#timeoutMs,
        logger: options.logger,
        now: this.#now,
      });
    for (const egress of this.egress.egresses) {
      for (const [name, spec] of Object.entries(options.buckets))
        egress.budgets.set(name, new Budget(spec, this.#now));
    }
    this.#baseUrl = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
    this.#headers = { accept: 'application/json', ...options.headers };
    this.#backoff = { initialMs: 2 * (options.retryDelayMs ?? 500), maxMs: 30_000 };
  }

  /** Number of egresses (direct + proxies). */
  get egressCount(): number {
    return this.egress.egresses.length;
  }

  /** Per-egress counters, for diagnostics and benchmarks. */
  stats(): { id: string; requests: number; sockets: number; downUntil: number; failures: number }[] {
    return this.egress.egresses.map((e) => ({
      id: e.id,
      requests: e.requests,
      sockets: e.sockets,
      downUntil: e.downUntil,
      failures: e.failures,
    }));
  }

  /** Replaces a bucket's budget on every egress (e.g. with `exchangeInfo.rateLimits`), its scoped copies included. */
  setBudget(bucket: string, spec: BudgetSpec): void {
    for (const egress of this.egress.egresses) {
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

  /** Picks the egress with the most headroom in `bucket`, waiting for one to come back if all are down. */
  async #pick(
    bucket: string,
    scope: string | undefined,
    exclude: ReadonlySet<string>,
    signal: AbortSignal | undefined,
  ): Promise<Egress> {
    const egresses = this.egress.egresses;
    const deadlineAt = this.#now() + (this.#options.maxEgressWaitMs ?? 5_000);
    for (;;) {
      const t = this.#now();
      let best: Egress | undefined;
      let bestHeadroom = Number.NEGATIVE_INFINITY;
      for (const egress of egresses) {
        if (egress.downUntil > t || exclude.has(egress.id)) continue;
        const headroom = this.#budget(egress, bucket, scope)?.headroom() ?? 0;
        if (headroom > bestHeadroom) {
          best = egress;
          bestHeadroom = headroom;
        }
      }
      if (best) return best;
      const candidates = egresses.filter((e) => !exclude.has(e.id));
      const soonest = Math.min(...(candidates.length > 0 ? candidates : egresses).map((e) => e.downUntil));
      if (candidates.length === 0 || soonest > deadlineAt) throw this.egress.noEgress(undefined, exclude);
      await sleep(Math.max(1, soonest - t), signal);
    }
  }

  /**
   * Sends a GET and returns the validated body. Transient failures are retried with `backoffDelay`; a
   * banned egress is left for another; a payload that fails validation throws `ValidationError`; when
   * the failures took every egress out, `NoEgressError` names each with its last reason.
   */
  async get<T>(request: TransportRequest<T>): Promise<TransportResponse<T>> {
    if (this.#closed) throw new ClosedError(`The ${this.#options.adapter.venue} client is closed`);
    const signals = [this.#options.signal, request.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    signal?.throwIfAborted();
    const context: AttemptContext = { signal, banned: new Set<string>() };
    try {
      return await pRetry(() => this.#attempt(request, context), {
        retries: this.#options.retries ?? 5,
        // The delay is `backoffDelay`'s, slept in `shouldRetry`: p-retry only counts.
        minTimeout: 0,
        maxTimeout: 0,
        ...(signal ? { signal } : {}),
        shouldRetry: async ({ error, retriesConsumed }) => {
          const decision = classifyError(error);
          const retry =
            decision === 'retry' ||
            (decision === 'failover' && context.banned.size < this.egress.egresses.length);
          // Waiting out a rate limit or a ban is the budget's and the picker's job, not a backoff's.
          if (retry && !(error instanceof RateLimitError))
            await sleep(backoffDelay(retriesConsumed, this.#backoff), signal);
          return retry;
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
    } catch (error) {
      // Retries ran out on network failures that took every egress out: say so, with each one's reason.
      if (error instanceof NetworkError && this.egress.egresses.every((e) => !this.egress.isUp(e)))
        throw this.egress.noEgress(undefined, context.banned);
      throw error;
    }
  }

  /** One attempt: an egress, its budget, then the exchange once the budget lets it go. */
  async #attempt<T>(request: TransportRequest<T>, context: AttemptContext): Promise<TransportResponse<T>> {
    const egress = await this.#pick(request.bucket, request.scope, context.banned, context.signal);
    const budget = this.#budget(egress, request.bucket, request.scope);
    if (!budget) throw new InvalidArgumentError(`Unknown budget bucket ${request.bucket}`);
    const url = new URL(request.path.replace(/^\//, ''), this.#baseUrl);
    for (const [k, v] of Object.entries(request.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const dispatcher = await this.egress.dispatcher(egress);
    return budget.schedule(
      request.cost,
      () => this.#exchange(request, url, egress, budget, dispatcher, context),
      context.signal,
    );
  }

  /** Sends one request under its deadline and turns the answer into data or a typed error. */
  async #exchange<T>(
    request: TransportRequest<T>,
    url: URL,
    egress: Egress,
    budget: Budget,
    dispatcher: Dispatcher,
    context: AttemptContext,
  ): Promise<TransportResponse<T>> {
    const { adapter } = this.#options;
    const sentAt = this.#now();
    egress.requests++;
    const timeout = deadline(context.signal, this.#timeoutMs);
    let sent: Awaited<ReturnType<typeof send>>;
    try {
      sent = await send(this.#options.http ?? 'fetch', url, dispatcher, this.#headers, timeout.signal);
    } catch (error) {
      if (context.signal?.aborted) throw context.signal.reason;
      throw this.#networkError(error, timeout.expired, egress, request.path);
    } finally {
      timeout.dispose();
    }
    const receivedAt = this.#now();
    this.egress.succeeded(egress);
    const used = adapter.usedFromHeaders?.(sent.response.headers);
    if (used !== undefined) budget.observeUsed(used, sentAt);
    const answer = readAnswer(request, sent.response, sent.bytes, {
      adapter,
      endpoint: request.path,
      url,
      egress: egress.label,
      receivedAt,
    });
    if ('data' in answer) return { data: answer.data, egress: egress.id, receivedAt };
    if (answer.error instanceof RateLimitError)
      this.#rateLimited(answer.error, egress, budget, context, request.path, receivedAt);
    throw answer.error;
  }

  /** A failure below HTTP as a `NetworkError` saying why; a proxy at fault leaves the pool for a while. */
  #networkError(error: unknown, expired: boolean, egress: Egress, endpoint: string): PerpdataError {
    const { venue } = this.#options.adapter;
    if (expired) {
      egress.lastReason = `timed out after ${this.#timeoutMs} ms`;
      return new NetworkError(
        `Request timed out after ${this.#timeoutMs} ms`,
        { venue, endpoint, egress: egress.label, timeout: true },
        { cause: error },
      );
    }
    const failure = describeNetworkFailure(error, egress.proxyUrl !== undefined);
    this.egress.failed(egress, failure);
    return new NetworkError(
      `Request failed: ${failure.reason}`,
      { venue, endpoint, egress: egress.label, timeout: failure.kind === 'timeout' },
      { cause: error },
    );
  }

  /** A 429 pauses this egress's budget until `Retry-After`; a ban takes the egress out for everyone. */
  #rateLimited(
    failure: RateLimitError,
    egress: Egress,
    budget: Budget,
    context: AttemptContext,
    endpoint: string,
    receivedAt: number,
  ): void {
    const until = failure.retryAt ?? receivedAt + 1_000;
    if (failure.code === 'BANNED') {
      this.egress.ban(egress, until, `banned by ${this.#options.adapter.venue} (HTTP ${failure.status})`);
      context.banned.add(egress.id);
      return;
    }
    budget.pause(until);
    this.#options.logger?.warn?.(
      `${this.#options.adapter.venue}: ${endpoint} rate limited on ${egress.label} until ${new Date(until).toISOString()}`,
    );
  }

  /** Closes sockets, drops queued work and clears timers (and the egress pool, when it is the transport's own). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.egress.egresses.flatMap((e) => [...e.budgets.values()].map((b) => b.close())));
    if (this.#ownsEgress) await this.egress.close();
  }
}
