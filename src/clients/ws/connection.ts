import { PerpdataError, WebSocketError } from '../../core/errors.js';
import { type BackoffOptions, backoffDelay } from '../transport/backoff.js';
import type { SocketEgress } from '../transport/egress.js';
import { sleep } from '../transport/sleep.js';
import type { Logger } from '../types.js';
import type { WsClock } from './clock.js';
import type { ConnectionHooks } from './hooks.js';
import { SendPacer } from './pacer.js';
import { type SessionHost, type SessionResult, SocketSession } from './session.js';
import type { SendLimit, TopicSpec, WsProtocol } from './types.js';

export type { ConnectionHooks } from './hooks.js';

/** Options of one managed connection. */
export interface ConnectionOptions<T> {
  readonly index: number;
  readonly protocol: WsProtocol<T>;
  readonly topics: readonly TopicSpec[];
  readonly clock: WsClock;
  readonly backoff: BackoffOptions;
  readonly stallGraceMs: number | undefined;
  /** The egress of the next socket (the client's pool: never a banned or quarantined one). */
  readonly egress: () => Promise<SocketEgress>;
  readonly hooks: ConnectionHooks<T>;
  readonly logger?: Logger | undefined;
  /** Overrides the protocol's `maxLifetimeMs`. */
  readonly maxLifetimeMs?: number | undefined;
  /** Time allowed for the opening handshake. @default 10000 */
  readonly openTimeoutMs?: number | undefined;
}

/**
 * One connection of a stream, kept alive for the stream's lifetime: a `SocketSession` per socket,
 * and between sockets a reconnect after `backoffDelay` (reset after a stable period; a planned
 * replacement of a healthy socket goes at once), until every topic was refused or the stream closes.
 */
export class ManagedConnection<T> {
  readonly index: number;
  readonly #o: ConnectionOptions<T>;
  readonly #stop = new AbortController();
  readonly #host: SessionHost<T>;
  #session: SocketSession<T> | undefined;
  #running: Promise<void> | undefined;

  constructor(options: ConnectionOptions<T>) {
    this.#o = options;
    this.index = options.index;
    let requestId = 0;
    this.#host = {
      protocol: options.protocol,
      clock: options.clock,
      hooks: options.hooks,
      topics: new Map(options.topics.map((t) => [t.id, t])),
      pacer: new SendPacer(options.protocol.sendLimits, options.clock),
      stallGraceMs: options.stallGraceMs,
      maxLifetimeMs: options.maxLifetimeMs,
      openTimeoutMs: options.openTimeoutMs ?? 10_000,
      stallFactor: 1,
      nextRequestId: () => String(++requestId),
    };
  }

  /** Topics still subscribed (refused ones are removed). */
  get topics(): TopicSpec[] {
    return [...this.#host.topics.values()];
  }

  /** Starts the connect/reconnect loop. */
  start(): void {
    this.#running ??= this.#run();
  }

  /** Closes the socket and stops every timer; resolves once the socket is closed. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#session?.finish('closed');
    await this.#running;
    await this.#session?.closed;
  }

  async #run(): Promise<void> {
    const { clock, backoff } = this.#o;
    const stableMs = backoff.stableMs ?? 60_000;
    const topics = this.#host.topics;
    let attempt = 0;
    let first = true;
    let downSince: number | undefined;
    while (!this.#stop.signal.aborted && topics.size > 0) {
      const result = await this.#connectOnce({ first, attempt, downSince });
      if (this.#stop.signal.aborted || topics.size === 0) break;
      const now = clock.now();
      if (result.openedAt !== undefined) {
        first = false;
        downSince = now;
        if (now - result.openedAt >= stableMs) attempt = 0;
      }
      // A planned replacement (lifetime, notice) of a healthy socket goes at once.
      const planned = result.reason === 'lifetime' || result.reason === 'notice';
      const delayMs = planned && attempt === 0 ? 0 : backoffDelay(attempt, backoff);
      attempt++;
      this.#o.hooks.reconnecting({ attempt, delayMs, reason: result.reason, error: result.error });
      this.#o.logger?.info?.(`ws ${this.#o.protocol.venue}#${this.index} reconnecting in ${delayMs} ms`, {
        reason: result.reason,
      });
      await sleep(delayMs, this.#stop.signal, clock).catch(() => undefined);
    }
  }

  /** One socket: an egress from the pool, then a session until it ends. */
  async #connectOnce(info: {
    first: boolean;
    attempt: number;
    downSince: number | undefined;
  }): Promise<SessionResult> {
    const venue = this.#o.protocol.venue;
    let session: SocketSession<T>;
    try {
      const [{ WebSocket }, egress] = await Promise.all([import('undici'), this.#o.egress()]);
      if (this.#stop.signal.aborted) return { reason: 'closed', error: undefined, openedAt: undefined };
      session = new SocketSession(this.#host, WebSocket, egress, info);
    } catch (cause) {
      // No egress in service (every one banned or quarantined) or no socket could be made.
      const error =
        cause instanceof PerpdataError
          ? cause
          : new WebSocketError('Cannot open a socket', { venue }, { cause });
      return { reason: 'error', error, openedAt: undefined };
    }
    this.#session = session;
    return session.result;
  }
}

export type { SendLimit };
