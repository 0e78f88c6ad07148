import type { Dispatcher } from 'undici';
import { InvalidArgumentError, NoEgressError } from '../../core/errors.js';
import { redact, redactUrl, registerSecret } from '../../core/redact.js';
import type { Logger } from '../types.js';
import { backoffDelay } from './backoff.js';
import type { Budget } from './budget.js';
import { describeNetworkFailure, type NetworkFailure } from './network.js';

/** One way out to the venue: the direct connection or one proxy, shared by REST and WebSocket. */
export interface Egress {
  /** `direct`, `proxy#1`, … */
  readonly id: string;
  /** The id and, for a proxy, its redacted URL. */
  readonly label: string;
  readonly proxyUrl: string | undefined;
  /** REST budgets of this egress, per bucket (and scope); filled by the transport. */
  readonly budgets: Map<string, Budget>;
  /** Out of service for REST and WebSocket alike until this epoch ms (a ban, a failing proxy). */
  downUntil: number;
  /** Proxy failures in a row; sets the length of the next quarantine. */
  failures: number;
  /** REST requests sent through it. */
  requests: number;
  /** WebSocket connections opened through it. */
  sockets: number;
  /** Why it was last taken out or last failed (redacted), for `NoEgressError`. */
  lastReason: string | undefined;
}

/** Options of an egress pool. */
export interface EgressPoolOptions {
  /** Venue name, for messages. */
  readonly venue: string;
  readonly proxies?: readonly (string | URL)[] | undefined;
  /** Whether the direct connection is an egress too. @default true */
  readonly direct?: boolean | undefined;
  /** Connect timeout of the REST dispatchers. @default 15000 */
  readonly connectTimeoutMs?: number | undefined;
  readonly logger?: Logger | undefined;
  /** Epoch ms; bans and quarantines run on it. @default Date.now */
  readonly now?: (() => number) | undefined;
}

/** The egress a new socket goes out through, and how the socket reports back on it. */
export interface SocketEgress {
  readonly label: string;
  /** Dispatcher for undici's `WebSocket` (it watches the handshake, so failures can be explained). */
  readonly dispatcher: Dispatcher;
  /** The socket opened: a proxy that carried it is healthy again. */
  opened(): void;
  /** The handshake failed: why (and a proxy at fault leaves the pool, for REST too). */
  failed(): string;
}

/** Quarantine of a failing proxy: 1-2 s after the first failure, doubling, at most 60 s. */
const QUARANTINE = { initialMs: 2_000, maxMs: 60_000 } as const;

/** Parses proxy URLs (http: and https: only) and registers their passwords as secrets. */
function parseProxies(proxies: readonly (string | URL)[]): string[] {
  return proxies.map((p) => {
    const url = new URL(String(p));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InvalidArgumentError(
        `Unsupported proxy protocol ${url.protocol} (http: and https: proxies are supported)`,
        { meta: { Proxy: redactUrl(url) } },
      );
    }
    registerSecret(decodeURIComponent(url.password));
    return url.toString();
  });
}

/**
 * What a handshake went through: the error or the status undici saw. Its `WebSocket` reports a failed
 * handshake as a bare `TypeError`, so the dispatcher's handler is observed instead.
 */
function observed(dispatcher: Dispatcher, seen: { error?: unknown; status?: number }): Dispatcher {
  const watch = (target: object): object =>
    new Proxy(target, {
      get(handler, prop) {
        const value: unknown = Reflect.get(handler, prop, handler);
        if (typeof value !== 'function') return value;
        const fn = value as (...args: unknown[]) => unknown;
        if (prop === 'onError' || prop === 'onResponseError')
          return (...args: unknown[]) => {
            seen.error = args[args.length - 1];
            return fn.apply(handler, args);
          };
        if (prop === 'onHeaders' || prop === 'onResponseStart')
          return (...args: unknown[]) => {
            const status = args[prop === 'onHeaders' ? 0 : 1];
            if (typeof status === 'number') seen.status = status;
            return fn.apply(handler, args);
          };
        return fn.bind(handler);
      },
    });
  return dispatcher.compose(
    (dispatch) => (options, handler) => dispatch(options, watch(handler) as Dispatcher.DispatchHandler),
  );
}

/**
 * The egresses of one client, shared by its REST transport and its WebSocket streams: one health state
 * per egress, so a 418 ban or a proxy that refuses connections takes the egress out for both until it
 * is due back. Dispatchers (undici `Agent` / `ProxyAgent`) are created on first use, one for requests
 * and one for sockets per egress.
 */
export class EgressPool {
  readonly venue: string;
  readonly egresses: readonly Egress[];
  readonly #o: EgressPoolOptions;
  readonly #now: () => number;
  readonly #rest = new Map<Egress, Dispatcher>();
  readonly #socket = new Map<Egress, Dispatcher>();
  #nextSocket = 0;

  constructor(options: EgressPoolOptions) {
    this.#o = options;
    this.venue = options.venue;
    this.#now = options.now ?? Date.now;
    const proxies = parseProxies(options.proxies ?? []);
    if (!(options.direct ?? true) && proxies.length === 0)
      throw new InvalidArgumentError('No egress: direct is false and no proxies were given');
    const entries: { id: string; proxyUrl: string | undefined }[] = [];
    if (options.direct ?? true) entries.push({ id: 'direct', proxyUrl: undefined });
    for (const [i, proxyUrl] of proxies.entries()) entries.push({ id: `proxy#${i + 1}`, proxyUrl });
    this.egresses = entries.map(({ id, proxyUrl }) => ({
      id,
      label: proxyUrl ? `${id} ${redactUrl(proxyUrl)}` : id,
      proxyUrl,
      budgets: new Map(),
      downUntil: 0,
      failures: 0,
      requests: 0,
      sockets: 0,
      lastReason: undefined,
    }));
  }

  /** Whether `egress` is in service at `t`. */
  isUp(egress: Egress, t = this.#now()): boolean {
    return egress.downUntil <= t;
  }

  /** The venue banned `egress` (418, Bybit 403) until `until`: out for REST and sockets alike. */
  ban(egress: Egress, until: number, reason: string): void {
    egress.downUntil = Math.max(egress.downUntil, until);
    egress.lastReason = redact(`${reason} until ${new Date(egress.downUntil).toISOString()}`);
    this.#o.logger?.warn?.(
      `${this.venue}: egress ${egress.label} banned until ${new Date(until).toISOString()}`,
    );
  }

  /**
   * A request or handshake through `egress` failed below HTTP. A proxy at fault leaves the pool for a
   * backoff that grows with its failures in a row; the direct connection never leaves for this.
   */
  failed(egress: Egress, failure: NetworkFailure): void {
    egress.lastReason = redact(failure.reason);
    if (!egress.proxyUrl || !failure.proxyFault) return;
    egress.failures++;
    egress.downUntil = this.#now() + backoffDelay(egress.failures - 1, QUARANTINE);
    this.#o.logger?.warn?.(
      redact(
        `${this.venue}: egress ${egress.label} failed (${failure.reason}); out until ${new Date(egress.downUntil).toISOString()}`,
      ),
    );
  }

  /** An exchange through `egress` succeeded: its failures in a row start again from zero. */
  succeeded(egress: Egress): void {
    if (egress.failures !== 0) egress.failures = 0;
  }

  /** `NoEgressError` naming each egress with its state and its last reason (redacted). */
  noEgress(message = `No ${this.venue} egress is available`, excluded?: ReadonlySet<string>): NoEgressError {
    const t = this.#now();
    const state = (e: Egress): string => {
      const down = e.downUntil > t ? `out until ${new Date(e.downUntil).toISOString()}` : undefined;
      const skipped = excluded?.has(e.id) ? 'banned for this request' : undefined;
      return [down ?? skipped ?? 'up', e.lastReason && `last: ${e.lastReason}`].filter(Boolean).join(', ');
    };
    return new NoEgressError(message, {
      meta: {
        Venue: this.venue,
        Egresses: this.egresses.map((e) => `${e.label} (${state(e)})`).join('; '),
      },
    });
  }

  /** The REST dispatcher of `egress` (an undici `Agent`, or a `ProxyAgent` tunnelling with CONNECT). */
  async dispatcher(egress: Egress): Promise<Dispatcher> {
    const existing = this.#rest.get(egress);
    if (existing) return existing;
    const { Agent, ProxyAgent } = await import('undici');
    const connectTimeout = this.#o.connectTimeoutMs ?? 15_000;
    const created = egress.proxyUrl
      ? new ProxyAgent({ uri: egress.proxyUrl, connectTimeout, keepAliveTimeout: 4_000 })
      : new Agent({ connectTimeout, keepAliveTimeout: 4_000 });
    this.#rest.set(egress, created);
    return created;
  }

  /**
   * The egress for a new socket: the next one in service in turn (so the shards of a large stream
   * spread over the proxies), never one that is banned or quarantined. `NoEgressError` when every
   * egress is out: the connection's reconnect loop backs off and asks again.
   */
  async forSocket(): Promise<SocketEgress> {
    const t = this.#now();
    const n = this.egresses.length;
    let egress: Egress | undefined;
    for (let i = 0; i < n && !egress; i++) {
      const candidate = this.egresses[(this.#nextSocket + i) % n]!;
      if (this.isUp(candidate, t)) {
        egress = candidate;
        this.#nextSocket = (this.#nextSocket + i + 1) % n;
      }
    }
    if (!egress) throw this.noEgress(`No ${this.venue} egress is available for a socket`);
    egress.sockets++;
    const seen: { error?: unknown; status?: number } = {};
    const dispatcher = observed(await this.#socketDispatcher(egress), seen);
    const chosen = egress;
    return {
      label: chosen.label,
      dispatcher,
      opened: () => this.succeeded(chosen),
      failed: () => {
        if (seen.error === undefined) {
          return seen.status === undefined
            ? 'connection failed (no cause given)'
            : `server answered ${seen.status} to the upgrade`;
        }
        const failure = describeNetworkFailure(seen.error, chosen.proxyUrl !== undefined);
        this.failed(chosen, failure);
        return failure.reason;
      },
    };
  }

  async #socketDispatcher(egress: Egress): Promise<Dispatcher> {
    const existing = this.#socket.get(egress);
    if (existing) return existing;
    const { ProxyAgent, getGlobalDispatcher } = await import('undici');
    // Direct sockets use undici's global dispatcher, as `new WebSocket(url)` would.
    if (!egress.proxyUrl) return getGlobalDispatcher();
    const created = new ProxyAgent(egress.proxyUrl);
    this.#socket.set(egress, created);
    return created;
  }

  /** Closes every dispatcher the pool created. */
  async close(): Promise<void> {
    const all = [...this.#rest.values(), ...this.#socket.values()];
    this.#rest.clear();
    this.#socket.clear();
    await Promise.all(all.map((d) => d.close().catch(() => undefined)));
  }
}
