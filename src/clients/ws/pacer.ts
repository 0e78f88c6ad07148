import type { WsClock } from './clock.js';
import type { SendLimit } from './types.js';

/**
 * The venue's limits on what one connection sends (Binance 10 messages/s, OKX 480 subscribe requests
 * an hour), counted over the connection's whole life, across reconnects: a sliding log of send times
 * per limit kind.
 */
export class SendPacer {
  readonly #limits: readonly SendLimit[];
  readonly #clock: WsClock;
  readonly #sent: number[] = [];
  readonly #sentSubscribe: number[] = [];

  constructor(limits: readonly SendLimit[], clock: WsClock) {
    this.#limits = limits;
    this.#clock = clock;
  }

  /** Clock ms to wait before the next message may be sent without breaking a limit. */
  waitFor(subscribe: boolean): number {
    const now = this.#clock.now();
    let wait = 0;
    for (const limit of this.#limits) {
      if (limit.subscribeOnly && !subscribe) continue;
      const log = limit.subscribeOnly ? this.#sentSubscribe : this.#sent;
      while (log.length > 0 && log[0]! <= now - limit.intervalMs) log.shift();
      if (log.length >= limit.limit)
        wait = Math.max(wait, log[log.length - limit.limit]! + limit.intervalMs - now + 1);
    }
    return wait;
  }

  /** Counts a message that went out now. */
  record(subscribe: boolean): void {
    const now = this.#clock.now();
    this.#sent.push(now);
    if (subscribe) this.#sentSubscribe.push(now);
  }
}

/**
 * The messages of one socket waiting for the pacer, sent in order (a heartbeat never overtakes a
 * subscribe request). `write` sends one message and answers `false` when the socket is gone.
 */
export class Outbox {
  readonly #pacer: SendPacer;
  readonly #clock: WsClock;
  readonly #write: (message: string) => boolean;
  readonly #queue: { message: string; subscribe: boolean }[] = [];
  #timer: unknown;
  #closed = false;

  constructor(pacer: SendPacer, clock: WsClock, write: (message: string) => boolean) {
    this.#pacer = pacer;
    this.#clock = clock;
    this.#write = write;
  }

  /** Queues `message` and sends what the limits allow. */
  send(message: string, subscribe: boolean): void {
    this.#queue.push({ message, subscribe });
    this.#flush();
  }

  #flush(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#queue.length > 0 && !this.#closed) {
      const next = this.#queue[0]!;
      const wait = this.#pacer.waitFor(next.subscribe);
      if (wait > 0) {
        this.#timer = this.#clock.setTimeout(() => this.#flush(), wait);
        return;
      }
      this.#queue.shift();
      this.#pacer.record(next.subscribe);
      if (!this.#write(next.message)) return;
    }
  }

  /** Drops what is queued and its timer. */
  close(): void {
    this.#closed = true;
    this.#clock.clearTimeout(this.#timer);
    this.#queue.length = 0;
  }
}
