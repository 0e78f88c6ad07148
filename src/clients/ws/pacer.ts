import { SlidingLog } from '../transport/sliding-log.js';
import type { WsClock } from './clock.js';
import type { SendLimit } from './types.js';

/**
 * The venue's limits on what one connection sends (Binance 10 messages/s, OKX 480 subscribe requests
 * an hour), counted over the connection's whole life, across reconnects: one `SlidingLog` per limit,
 * the same count REST's rolling budgets keep.
 */
export class SendPacer {
  readonly #limits: readonly { readonly limit: SendLimit; readonly log: SlidingLog }[];
  readonly #clock: WsClock;

  constructor(limits: readonly SendLimit[], clock: WsClock) {
    this.#limits = limits.map((limit) => ({ limit, log: new SlidingLog(limit.intervalMs) }));
    this.#clock = clock;
  }

  /** Clock ms to wait before the next message may be sent without breaking a limit. */
  waitFor(subscribe: boolean): number {
    const now = this.#clock.now();
    let wait = 0;
    for (const { limit, log } of this.#limits) {
      if (limit.subscribeOnly && !subscribe) continue;
      log.expire(now);
      const at = log.nextFit(now, 1, limit.limit);
      // +1: a timer may fire a millisecond before the clock reads `at`.
      if (at > now) wait = Math.max(wait, at - now + 1);
    }
    return wait;
  }

  /** Counts a message that went out now. */
  record(subscribe: boolean): void {
    const now = this.#clock.now();
    for (const { limit, log } of this.#limits) if (subscribe || !limit.subscribeOnly) log.add(now, 1);
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
