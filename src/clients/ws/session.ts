import type { WebSocket as UndiciWebSocket } from 'undici';
import { type PerpdataError, ValidationError, WebSocketError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import type { SocketEgress } from '../transport/egress.js';
import type { WsClock } from './clock.js';
import type { ConnectionHooks } from './hooks.js';
import { Outbox, type SendPacer } from './pacer.js';
import type { ReconnectReason, TopicSpec, WsFrame, WsProtocol } from './types.js';

/** How one socket ended. */
export interface SessionResult {
  readonly reason: ReconnectReason;
  readonly error: PerpdataError | undefined;
  /** Clock ms when it opened, `undefined` when it never did. */
  readonly openedAt: number | undefined;
}

/** What a session shares with the connection that outlives it. */
export interface SessionHost<T> {
  readonly protocol: WsProtocol<T>;
  readonly clock: WsClock;
  readonly hooks: ConnectionHooks<T>;
  /** The connection's topics; a refused topic is removed for good. */
  readonly topics: Map<string, TopicSpec>;
  readonly pacer: SendPacer;
  readonly stallGraceMs: number | undefined;
  readonly maxLifetimeMs: number | undefined;
  readonly openTimeoutMs: number;
  /** Multiplies stall thresholds after stall-triggered replacements that did not help (1, 2, 4, 8). */
  stallFactor: number;
  nextRequestId(): string;
}

const decoder = new TextDecoder();

/**
 * One socket of a managed connection, from the opening handshake to its close: subscribes every
 * topic in paced batches, sends the venue's heartbeat, watches each topic's cadence, and ends with the
 * reason the connection should be replaced (`finish`). A new session is made for every reconnect.
 */
export class SocketSession<T> {
  readonly #h: SessionHost<T>;
  readonly #egress: SocketEgress;
  readonly #info: { first: boolean; attempt: number; downSince: number | undefined };
  readonly #venue: string;
  readonly #ws: UndiciWebSocket;
  readonly #outbox: Outbox;
  /** Resolves once the socket is closed (or a 2 s guard gave up on its closing handshake). */
  readonly closed: Promise<void>;
  readonly result: Promise<SessionResult>;
  #resolve!: (result: SessionResult) => void;
  #socketClosed!: () => void;
  #guard: ReturnType<typeof setTimeout> | undefined;
  #done = false;
  #openedAt: number | undefined;
  #lastRx: number;
  /** Last frame that carried market data (not a pong or an ack). */
  #lastData: number;
  #lastHeartbeat = 0;
  #failure: PerpdataError | undefined;
  #tick: unknown;
  readonly #openTimer: unknown;
  readonly #lastBeat = new Map<string, number>();
  readonly #stalled = new Set<string>();
  readonly #pending = new Map<string, readonly string[]>();

  constructor(
    host: SessionHost<T>,
    WebSocketCtor: typeof UndiciWebSocket,
    egress: SocketEgress,
    info: { first: boolean; attempt: number; downSince: number | undefined },
  ) {
    this.#h = host;
    this.#egress = egress;
    this.#info = info;
    this.#venue = host.protocol.venue;
    this.#lastRx = host.clock.now();
    this.#lastData = this.#lastRx;
    this.result = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    this.closed = new Promise((resolve) => {
      this.#socketClosed = resolve;
    });
    this.#ws = new WebSocketCtor(host.protocol.url, { dispatcher: egress.dispatcher });
    this.#ws.binaryType = 'arraybuffer';
    this.#outbox = new Outbox(host.pacer, host.clock, (message) => this.#write(message));
    this.#openTimer = host.clock.setTimeout(
      () => this.finish('dead', new WebSocketError('Opening handshake timed out', { venue: this.#venue })),
      host.openTimeoutMs,
    );
    this.#ws.addEventListener('open', () => this.#onOpen());
    this.#ws.addEventListener('message', (event) => this.#onMessage(event.data as unknown));
    this.#ws.addEventListener('error', (event) => this.#onError(event));
    this.#ws.addEventListener('close', (event) => this.#onClose(event.code, event.reason));
  }

  /** Ends the session (idempotent): timers stop, the socket closes, `result` resolves with `reason`. */
  finish(reason: ReconnectReason, error?: PerpdataError): void {
    if (this.#done) return;
    this.#done = true;
    const { clock } = this.#h;
    clock.clearTimeout(this.#openTimer);
    clock.clearTimeout(this.#tick);
    this.#outbox.close();
    try {
      this.#ws.close(1000);
    } catch {
      // already closing
    }
    // A socket that never completes its closing handshake must not hold the stream open.
    this.#guard = setTimeout(this.#socketClosed, 2_000);
    this.#guard.unref?.();
    this.#resolve({ reason, error: error ?? this.#failure, openedAt: this.#openedAt });
  }

  #write(message: string): boolean {
    try {
      this.#ws.send(message);
      return true;
    } catch (cause) {
      this.finish('error', new WebSocketError('Send failed', { venue: this.#venue }, { cause }));
      return false;
    }
  }

  #onOpen(): void {
    if (this.#done) return;
    const { clock, hooks, protocol } = this.#h;
    clock.clearTimeout(this.#openTimer);
    this.#egress.opened();
    const openedAt = clock.now();
    this.#openedAt = openedAt;
    this.#lastRx = openedAt;
    this.#lastData = openedAt;
    this.#subscribeAll();
    hooks.open({
      first: this.#info.first,
      attempt: this.#info.attempt,
      downtimeMs: this.#info.downSince === undefined ? 0 : openedAt - this.#info.downSince,
      url: redactUrl(protocol.url),
      topics: this.#h.topics.size,
    });
    this.#tick = clock.setTimeout(() => this.#onTick(), this.#tickMs());
  }

  #subscribeAll(): void {
    const now = this.#h.clock.now();
    for (const t of this.#h.topics.values()) if (t.cadenceMs !== undefined) this.#lastBeat.set(t.id, now);
    const requests = this.#h.protocol.subscribe([...this.#h.topics.keys()], () => this.#h.nextRequestId());
    for (const r of requests) {
      if (r.id !== undefined) this.#pending.set(r.id, r.topics);
      this.#outbox.send(r.message, true);
    }
  }

  #onMessage(data: unknown): void {
    if (this.#done) return;
    this.#lastRx = this.#h.clock.now();
    const text = typeof data === 'string' ? data : decoder.decode(data as ArrayBuffer);
    let frames: readonly WsFrame<T>[];
    try {
      frames = this.#h.protocol.decode(text);
    } catch (cause) {
      this.#h.hooks.malformed(
        cause instanceof ValidationError
          ? cause
          : new WebSocketError(
              'Malformed frame',
              { venue: this.#venue },
              { cause, meta: { Sample: text.slice(0, 120) } },
            ),
      );
      return;
    }
    for (const frame of frames) {
      this.#onFrame(frame);
      if (this.#done) return;
    }
  }

  #onFrame(frame: WsFrame<T>): void {
    switch (frame.type) {
      case 'data': {
        const topic = this.#h.topics.get(frame.topic);
        this.#lastData = this.#lastRx;
        if (frame.beat && topic) {
          this.#lastBeat.set(frame.topic, this.#lastRx);
          this.#stalled.delete(frame.topic);
          this.#h.stallFactor = 1;
        }
        this.#h.hooks.data(frame.records, topic, frame.topic);
        return;
      }
      case 'ack':
        if (frame.id !== undefined) this.#pending.delete(frame.id);
        return;
      case 'refused':
        this.#refuse(frame);
        return;
      case 'notice':
        this.finish('notice');
        return;
      case 'other':
        this.#lastData = this.#lastRx;
        return;
      default:
        return;
    }
  }

  #refuse(frame: Extract<WsFrame<T>, { type: 'refused' }>): void {
    const named = frame.topics ?? (frame.id !== undefined ? this.#pending.get(frame.id) : undefined) ?? [];
    if (frame.id !== undefined) this.#pending.delete(frame.id);
    for (const id of named) {
      if (!this.#h.topics.delete(id)) continue;
      this.#lastBeat.delete(id);
      this.#stalled.delete(id);
      this.#h.hooks.refused(
        id,
        new WebSocketError(
          `Subscription refused: ${frame.message}`,
          { venue: this.#venue, topic: id },
          { meta: { 'Venue code': frame.code } },
        ),
        frame.unknownSymbol === true,
      );
    }
    if (this.#h.topics.size === 0) this.finish('refused');
  }

  /** Periodic checks: heartbeat due, socket dead, lifetime reached, topics stalled. */
  #onTick(): void {
    if (this.#done) return;
    const { clock, protocol } = this.#h;
    const now = clock.now();
    const hb = protocol.heartbeat;
    const idleSince =
      hb.mode === 'interval' ? this.#lastHeartbeat : Math.max(this.#lastRx, this.#lastHeartbeat);
    if (now - idleSince >= hb.everyMs) {
      this.#lastHeartbeat = now;
      this.#outbox.send(hb.message, false);
    }
    if (now - this.#lastRx >= protocol.deadAfterMs) {
      this.finish(
        'dead',
        new WebSocketError(`No frame for ${now - this.#lastRx} ms`, { venue: this.#venue }),
      );
      return;
    }
    const lifetime = this.#h.maxLifetimeMs ?? protocol.maxLifetimeMs;
    if (lifetime !== undefined && this.#openedAt !== undefined && now - this.#openedAt >= lifetime) {
      this.finish('lifetime');
      return;
    }
    if (this.#checkStalls(now)) return;
    this.#tick = clock.setTimeout(() => this.#onTick(), this.#tickMs());
  }

  /** Reports overdue topics; replaces the socket (and answers `true`) when all of them are and no data flows. */
  #checkStalls(now: number): boolean {
    let cadenceTopics = 0;
    let window = Number.POSITIVE_INFINITY;
    for (const [id, since] of this.#lastBeat) {
      const topic = this.#h.topics.get(id);
      if (!topic?.cadenceMs) continue;
      cadenceTopics++;
      const silentMs = now - since;
      const grace = this.#h.stallGraceMs ?? Math.max(5_000, topic.cadenceMs * 0.1);
      const limit = (topic.cadenceMs + grace) * this.#h.stallFactor;
      window = Math.min(window, limit);
      if (silentMs > limit && !this.#stalled.has(id)) {
        this.#stalled.add(id);
        this.#h.hooks.stalled(topic, silentMs);
      }
    }
    // Replace the socket only when every cadence topic is overdue AND no data of any kind flows:
    // one quiet symbol (or a quiet market that still sends updates) is reported, never "healed".
    if (cadenceTopics === 0 || this.#stalled.size < cadenceTopics || now - this.#lastData <= window)
      return false;
    // A socket replaced for a stall that comes back just as quiet waits longer next time.
    this.#h.stallFactor = Math.min(8, this.#h.stallFactor * 2);
    this.finish('stall', new WebSocketError('Every topic of the connection stalled', { venue: this.#venue }));
    return true;
  }

  #onError(event: unknown): void {
    const cause = (event as { error?: unknown }).error ?? (event as { message?: unknown }).message;
    if (this.#openedAt !== undefined) {
      this.#failure = new WebSocketError('Socket error', { venue: this.#venue }, { cause });
      return;
    }
    this.#failure ??= this.#handshakeFailed(cause);
  }

  /** Why the handshake failed, as the egress saw it (a proxy at fault leaves the pool for REST too). */
  #handshakeFailed(cause: unknown): WebSocketError {
    return new WebSocketError(
      `Connection failed: ${this.#egress.failed()}`,
      { venue: this.#venue },
      { cause, meta: { Egress: this.#egress.label } },
    );
  }

  #onClose(code: number, reason: string): void {
    clearTimeout(this.#guard);
    this.#socketClosed();
    if (this.#done) return;
    if (this.#openedAt === undefined) {
      this.finish('error', this.#failure ?? this.#handshakeFailed(undefined));
      return;
    }
    const message = `Socket closed (${code}${reason ? ` ${reason}` : ''})`;
    this.finish(
      this.#failure ? 'error' : 'closed',
      this.#failure ?? new WebSocketError(message, { venue: this.#venue }),
    );
  }

  #tickMs(): number {
    const p = this.#h.protocol;
    let shortest = Math.min(p.heartbeat.everyMs, p.deadAfterMs);
    for (const t of this.#h.topics.values()) if (t.cadenceMs) shortest = Math.min(shortest, t.cadenceMs);
    return Math.min(5_000, Math.max(250, shortest / 8));
  }
}
