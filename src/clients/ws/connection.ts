import type { Dispatcher } from 'undici';
import { type PerpdataError, ValidationError, WebSocketError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import type { Logger } from '../types.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { clockSleep, type WsClock } from './clock.js';
import type { ReconnectReason, SendLimit, TopicSpec, WsFrame, WsProtocol } from './types.js';

/** What a connection tells the stream that owns it. */
export interface ConnectionHooks<T> {
  /** Records of a topic arrived. */
  data(records: readonly T[], topic: TopicSpec | undefined, topicId: string): void;
  /** The socket is open and every topic was (re)subscribed. `first` on the very first open. */
  open(info: { first: boolean; attempt: number; downtimeMs: number; url: string; topics: number }): void;
  /** The connection will be retried after `delayMs`. */
  reconnecting(info: {
    attempt: number;
    delayMs: number;
    reason: ReconnectReason;
    error?: PerpdataError | undefined;
  }): void;
  /** A topic missed its cadence. */
  stalled(topic: TopicSpec, silentMs: number): void;
  /** The venue refused a topic: it is dropped from this connection for good. */
  refused(topic: string, error: WebSocketError, unknownSymbol: boolean): void;
  /** A frame could not be decoded; the connection goes on. */
  malformed(error: PerpdataError): void;
}

/** Options of one managed connection. */
export interface ConnectionOptions<T> {
  readonly index: number;
  readonly protocol: WsProtocol<T>;
  readonly topics: readonly TopicSpec[];
  readonly clock: WsClock;
  readonly backoff: BackoffOptions;
  readonly stallGraceMs: number | undefined;
  readonly dispatcher: () => Promise<{ label: string; dispatcher: Dispatcher | undefined }>;
  readonly hooks: ConnectionHooks<T>;
  readonly logger?: Logger | undefined;
  /** Overrides the protocol's `maxLifetimeMs`. */
  readonly maxLifetimeMs?: number | undefined;
  /** Time allowed for the opening handshake. @default 10000 */
  readonly openTimeoutMs?: number | undefined;
}

interface Attempt {
  readonly reason: ReconnectReason;
  readonly error: PerpdataError | undefined;
  readonly openedAt: number | undefined;
}

const decoder = new TextDecoder();

/**
 * One socket of a stream, kept alive for the stream's lifetime: connect, subscribe in paced batches,
 * heartbeat, per-topic stall detection, reconnect with jittered exponential backoff (reset after a
 * stable period), proactive reconnect before the venue's lifetime cut or on its notice, and
 * resubscription of every topic that was not refused.
 */
export class ManagedConnection<T> {
  readonly index: number;
  readonly #o: ConnectionOptions<T>;
  readonly #topics = new Map<string, TopicSpec>();
  readonly #stop = new AbortController();
  readonly #sent: number[] = [];
  readonly #sentSubscribe: number[] = [];
  #finishCurrent: ((reason: ReconnectReason, error?: PerpdataError) => void) | undefined;
  #closedSocket: Promise<void> = Promise.resolve();
  #running: Promise<void> | undefined;
  #requestId = 0;
  /** Multiplies stall thresholds after stall-triggered replacements that did not help (1, 2, 4, 8). */
  #stallFactor = 1;

  constructor(options: ConnectionOptions<T>) {
    this.#o = options;
    this.index = options.index;
    for (const t of options.topics) this.#topics.set(t.id, t);
  }

  /** Topics still subscribed (refused ones are removed). */
  get topics(): TopicSpec[] {
    return [...this.#topics.values()];
  }

  /** Starts the connect/reconnect loop. */
  start(): void {
    this.#running ??= this.#run();
  }

  /** Closes the socket and stops every timer; resolves once the socket is closed. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#finishCurrent?.('closed');
    await this.#running;
    await this.#closedSocket;
  }

  async #run(): Promise<void> {
    const { clock, backoff } = this.#o;
    const stableMs = backoff.stableMs ?? 60_000;
    let attempt = 0;
    let first = true;
    let downSince: number | undefined;
    while (!this.#stop.signal.aborted && this.#topics.size > 0) {
      const result = await this.#connectOnce(first, attempt, downSince).catch(
        (cause: unknown): Attempt => ({
          reason: 'error',
          error: new WebSocketError('Cannot open a socket', { venue: this.#o.protocol.venue }, { cause }),
          openedAt: undefined,
        }),
      );
      if (this.#stop.signal.aborted || this.#topics.size === 0) break;
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
      await clockSleep(clock, delayMs, this.#stop.signal);
    }
  }

  async #connectOnce(first: boolean, attempt: number, downSince: number | undefined): Promise<Attempt> {
    const { protocol, clock, hooks } = this.#o;
    const venue = protocol.venue;
    let WebSocketCtor: typeof import('undici').WebSocket;
    let dispatcher: Dispatcher | undefined;
    try {
      WebSocketCtor = (await import('undici')).WebSocket;
      dispatcher = (await this.#o.dispatcher()).dispatcher;
    } catch (cause) {
      return {
        reason: 'error',
        error: new WebSocketError('Cannot create a socket', { venue }, { cause }),
        openedAt: undefined,
      };
    }
    if (this.#stop.signal.aborted) return { reason: 'closed', error: undefined, openedAt: undefined };

    return new Promise<Attempt>((resolve) => {
      let done = false;
      let openedAt: number | undefined;
      let lastRx = clock.now();
      /** Last frame that carried market data (not a pong or an ack). */
      let lastData = lastRx;
      let lastHeartbeat = 0;
      let failure: PerpdataError | undefined;
      let tick: unknown;
      const lastBeat = new Map<string, number>();
      const stalled = new Set<string>();
      const pending = new Map<string, readonly string[]>();
      const outbox: { message: string; subscribe: boolean }[] = [];
      let flushTimer: unknown;

      const ws = new WebSocketCtor(protocol.url, dispatcher ? { dispatcher } : undefined);
      ws.binaryType = 'arraybuffer';
      let socketClosed!: () => void;
      let guard: ReturnType<typeof setTimeout> | undefined;
      this.#closedSocket = new Promise<void>((r) => {
        socketClosed = r;
      });

      const finish = (reason: ReconnectReason, error?: PerpdataError) => {
        if (done) return;
        done = true;
        this.#finishCurrent = undefined;
        clock.clearTimeout(openTimer);
        clock.clearTimeout(tick);
        clock.clearTimeout(flushTimer);
        try {
          ws.close(1000);
        } catch {
          // already closing
        }
        // A socket that never completes its closing handshake must not hold the stream open.
        guard = setTimeout(socketClosed, 2_000);
        guard.unref?.();
        resolve({ reason, error: error ?? failure, openedAt });
      };
      this.#finishCurrent = finish;

      const openTimer = clock.setTimeout(
        () => finish('dead', new WebSocketError('Opening handshake timed out', { venue })),
        this.#o.openTimeoutMs ?? 10_000,
      );

      const send = (message: string, subscribe: boolean) => {
        outbox.push({ message, subscribe });
        flush();
      };
      const flush = () => {
        clock.clearTimeout(flushTimer);
        flushTimer = undefined;
        while (outbox.length > 0 && !done) {
          const next = outbox[0]!;
          const wait = this.#waitFor(next.subscribe);
          if (wait > 0) {
            flushTimer = clock.setTimeout(flush, wait);
            return;
          }
          outbox.shift();
          const now = clock.now();
          this.#sent.push(now);
          if (next.subscribe) this.#sentSubscribe.push(now);
          try {
            ws.send(next.message);
          } catch (cause) {
            finish('error', new WebSocketError('Send failed', { venue }, { cause }));
            return;
          }
        }
      };

      const subscribeAll = () => {
        const now = clock.now();
        for (const t of this.#topics.values()) {
          if (t.cadenceMs !== undefined) lastBeat.set(t.id, now);
        }
        const requests = protocol.subscribe([...this.#topics.keys()], () => String(++this.#requestId));
        for (const r of requests) {
          if (r.id !== undefined) pending.set(r.id, r.topics);
          send(r.message, true);
        }
      };

      const refuse = (frame: Extract<WsFrame<T>, { type: 'refused' }>) => {
        const named = frame.topics ?? (frame.id !== undefined ? pending.get(frame.id) : undefined) ?? [];
        if (frame.id !== undefined) pending.delete(frame.id);
        for (const id of named) {
          if (!this.#topics.delete(id)) continue;
          lastBeat.delete(id);
          stalled.delete(id);
          hooks.refused(
            id,
            new WebSocketError(
              `Subscription refused: ${frame.message}`,
              { venue, topic: id },
              { meta: { 'Venue code': frame.code } },
            ),
            frame.unknownSymbol === true,
          );
        }
        if (this.#topics.size === 0) finish('refused');
      };

      const onTick = () => {
        if (done) return;
        const now = clock.now();
        const hb = protocol.heartbeat;
        if (
          hb.mode === 'interval'
            ? now - lastHeartbeat >= hb.everyMs
            : now - Math.max(lastRx, lastHeartbeat) >= hb.everyMs
        ) {
          lastHeartbeat = now;
          send(hb.message, false);
        }
        if (now - lastRx >= protocol.deadAfterMs) {
          finish('dead', new WebSocketError(`No frame for ${now - lastRx} ms`, { venue }));
          return;
        }
        const lifetime = this.#o.maxLifetimeMs ?? protocol.maxLifetimeMs;
        if (lifetime !== undefined && openedAt !== undefined && now - openedAt >= lifetime) {
          finish('lifetime');
          return;
        }
        let cadenceTopics = 0;
        let window = Number.POSITIVE_INFINITY;
        for (const [id, since] of lastBeat) {
          const topic = this.#topics.get(id);
          if (!topic?.cadenceMs) continue;
          cadenceTopics++;
          const silentMs = now - since;
          const grace = this.#o.stallGraceMs ?? Math.max(5_000, topic.cadenceMs * 0.1);
          const limit = (topic.cadenceMs + grace) * this.#stallFactor;
          window = Math.min(window, limit);
          if (silentMs > limit && !stalled.has(id)) {
            stalled.add(id);
            hooks.stalled(topic, silentMs);
          }
        }
        // Replace the socket only when every cadence topic is overdue AND no data of any kind flows:
        // one quiet symbol (or a quiet market that still sends updates) is reported, never "healed".
        if (cadenceTopics > 0 && stalled.size >= cadenceTopics && now - lastData > window) {
          // A socket replaced for a stall that comes back just as quiet waits longer next time.
          this.#stallFactor = Math.min(8, this.#stallFactor * 2);
          finish('stall', new WebSocketError('Every topic of the connection stalled', { venue }));
          return;
        }
        tick = clock.setTimeout(onTick, this.#tickMs());
      };

      ws.addEventListener('open', () => {
        if (done) return;
        clock.clearTimeout(openTimer);
        openedAt = clock.now();
        lastRx = openedAt;
        lastData = openedAt;
        subscribeAll();
        hooks.open({
          first,
          attempt,
          downtimeMs: downSince === undefined ? 0 : openedAt - downSince,
          url: redactUrl(protocol.url),
          topics: this.#topics.size,
        });
        tick = clock.setTimeout(onTick, this.#tickMs());
      });

      ws.addEventListener('message', (event) => {
        if (done) return;
        lastRx = clock.now();
        const data = event.data as unknown;
        const text = typeof data === 'string' ? data : decoder.decode(data as ArrayBuffer);
        let frames: readonly WsFrame<T>[];
        try {
          frames = protocol.decode(text);
        } catch (cause) {
          hooks.malformed(
            cause instanceof ValidationError
              ? cause
              : new WebSocketError(
                  'Malformed frame',
                  { venue },
                  { cause, meta: { Sample: text.slice(0, 120) } },
                ),
          );
          return;
        }
        for (const frame of frames) {
          switch (frame.type) {
            case 'data': {
              const topic = this.#topics.get(frame.topic);
              lastData = lastRx;
              if (frame.beat && topic) {
                lastBeat.set(frame.topic, lastRx);
                stalled.delete(frame.topic);
                this.#stallFactor = 1;
              }
              hooks.data(frame.records, topic, frame.topic);
              break;
            }
            case 'ack':
              if (frame.id !== undefined) pending.delete(frame.id);
              break;
            case 'refused':
              refuse(frame);
              break;
            case 'notice':
              finish('notice');
              return;
            case 'other':
              lastData = lastRx;
              break;
            default:
              break;
          }
          if (done) return;
        }
      });

      ws.addEventListener('error', (event) => {
        const cause = (event as { error?: unknown }).error ?? (event as { message?: unknown }).message;
        failure = new WebSocketError(
          openedAt === undefined ? 'Connection failed' : 'Socket error',
          { venue },
          { cause },
        );
      });

      ws.addEventListener('close', (event) => {
        clearTimeout(guard);
        socketClosed();
        if (done) return;
        const reason = openedAt === undefined || failure ? 'error' : 'closed';
        finish(
          reason,
          failure ??
            new WebSocketError(`Socket closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`, {
              venue,
            }),
        );
      });
    });
  }

  /** Clock ms to wait before the next message may be sent without breaking a send limit. */
  #waitFor(subscribe: boolean): number {
    const now = this.#o.clock.now();
    let wait = 0;
    for (const limit of this.#o.protocol.sendLimits) {
      const log = limit.subscribeOnly ? this.#sentSubscribe : this.#sent;
      if (limit.subscribeOnly && !subscribe) continue;
      while (log.length > 0 && log[0]! <= now - limit.intervalMs) log.shift();
      if (log.length >= limit.limit)
        wait = Math.max(wait, log[log.length - limit.limit]! + limit.intervalMs - now + 1);
    }
    return wait;
  }

  #tickMs(): number {
    const p = this.#o.protocol;
    let shortest = Math.min(p.heartbeat.everyMs, p.deadAfterMs);
    for (const t of this.#topics.values()) if (t.cadenceMs) shortest = Math.min(shortest, t.cadenceMs);
    return Math.min(5_000, Math.max(250, shortest / 8));
  }
}

export type { SendLimit };
