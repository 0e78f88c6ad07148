import { Budget } from '../transport/budget.js';
import type { WsClock } from './clock.js';
import type { SendLimit } from './types.js';

/**
 * The venue's limits on what one connection sends (Binance 10 messages/s, OKX 480 subscribe requests
 * an hour), counted over the connection's whole life, across reconnects: one rolling `Budget` per
 * limit (the same class as REST's budgets), paced through its synchronous `waitFor` / `spend` on the
 * connection's `WsClock`, so it starts no timer of its own. A `subscribeOnly` limit skips heartbeats.
 */
export class SendPacer {
  readonly #limits: readonly { readonly budget: Budget; readonly subscribeOnly: boolean }[];

  constructor(limits: readonly SendLimit[], clock: WsClock) {
    const now = () => clock.now();
    this.#limits = limits.map((limit) => ({
      budget: new Budget({ limit: limit.limit, intervalMs: limit.intervalMs, window: 'rolling' }, now),
      subscribeOnly: limit.subscribeOnly === true,
    }));
  }

  /** Clock ms to wait before the next message may be sent without breaking a limit. */
  waitFor(subscribe: boolean): number {
    let wait = 0;
    for (const { budget, subscribeOnly } of this.#limits) {
      if (subscribeOnly && !subscribe) continue;
      const ms = budget.waitFor(1);
      // +1: a timer may fire a millisecond before the clock reads the moment the message fits.
      if (ms > 0) wait = Math.max(wait, ms + 1);
    }
    return wait;
  }

  /** Counts a message that went out now. */
  record(subscribe: boolean): void {
    for (const { budget, subscribeOnly } of this.#limits) if (subscribe || !subscribeOnly) budget.spend(1);
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
