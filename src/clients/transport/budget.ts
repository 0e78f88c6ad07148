import Bottleneck from 'bottleneck';
import { ClosedError } from '../../core/errors.js';
import { SlidingLog } from './sliding-log.js';

/** How a venue counts its budget. */
export interface BudgetSpec {
  /** Units (weight or requests) per window. */
  readonly limit: number;
  readonly intervalMs: number;
  /**
   * `'fixed'`: windows aligned to the epoch (Binance counts weight per UTC minute): the whole budget is
   * available again at each boundary. `'rolling'`: the venue's window position is unknown, so units are
   * counted over the last `intervalMs` (a sliding log): no window of that length, wherever it starts,
   * ever sees more than `limit`, and each unit comes back `intervalMs` after it was spent.
   */
  readonly window: 'fixed' | 'rolling';
}

/**
 * One egress's budget for one venue bucket. A request that fits goes out at once; one that does not
 * waits in a bottleneck limiter whose reservoir holds exactly what is left, refilled at window
 * boundaries (fixed) or as spent units age out (rolling), emptied by a 429 until its `Retry-After`,
 * and lowered by what the venue reports as used (`X-MBX-USED-WEIGHT-1M`).
 */
export class Budget {
  readonly spec: BudgetSpec;
  readonly #limiter: Bottleneck;
  readonly #now: () => number;
  /** Units left, kept synchronously for headroom decisions; the limiter is told only while work waits. */
  #reservoir: number;
  /** What the limiter's own reservoir holds, less what it has charged for jobs not yet started here. */
  #told: number;
  #windowStart: number;
  /** Rolling mode: what was spent when, over the last `intervalMs`. */
  readonly #recent: SlidingLog;
  #queuedCost = 0;
  #inflightCost = 0;
  #pausedUntil = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Units dispatched in the current fixed window, for utilisation figures. */
  spent = 0;

  constructor(spec: BudgetSpec, now: () => number = Date.now) {
    this.spec = spec;
    this.#now = now;
    this.#windowStart = this.#windowOf(now());
    this.#recent = new SlidingLog(spec.intervalMs);
    this.#reservoir = spec.limit;
    this.#told = spec.limit;
    this.#limiter = new Bottleneck({ reservoir: spec.limit, maxConcurrent: null });
    this.#limiter.on('idle', () => this.#clearTimer());
  }

  #windowOf(t: number): number {
    return Math.floor(t / this.spec.intervalMs) * this.spec.intervalMs;
  }

  #setReservoir(target: number): void {
    this.#reservoir = target;
    if (this.#queuedCost > 0) this.#tell();
  }

  /**
   * Brings the limiter's reservoir to what is left. Only its queue reads it, so requests that go out at
   * once (nothing waiting) leave it alone: each call costs the limiter a timer and a few promises.
   */
  #tell(): void {
    const delta = this.#reservoir - this.#told;
    if (delta === 0) return;
    this.#told = this.#reservoir;
    void this.#limiter.incrementReservoir(delta);
  }

  /** Applies what the clock says: a pause that ended, a new fixed window, rolling units that aged out. */
  #sync(): void {
    const t = this.#now();
    if (this.#pausedUntil !== 0) {
      if (t < this.#pausedUntil) return;
      this.#pausedUntil = 0;
      this.#windowStart = this.#windowOf(t);
      this.spent = 0;
      this.#expire(t, false);
      const used = this.spec.window === 'fixed' ? this.#inflightCost : this.#recent.total;
      this.#setReservoir(Math.max(0, this.spec.limit - used));
      return;
    }
    if (this.spec.window === 'fixed') {
      const window = this.#windowOf(t);
      if (window === this.#windowStart) return;
      this.#windowStart = window;
      this.spent = 0;
      // What is still in flight may be counted in the new window by the venue.
      this.#setReservoir(Math.max(0, this.spec.limit - this.#inflightCost));
      return;
    }
    this.#expire(t, true);
  }

  /** Drops rolling entries older than the window, giving their units back when `refund` is set. */
  #expire(t: number, refund: boolean): void {
    const back = this.#recent.expire(t);
    if (refund && back > 0) this.#setReservoir(this.#reservoir + back);
  }

  /** While work waits, one timer for the next moment units come back. */
  #arm(): void {
    if (this.#timer || this.#closed || this.#queuedCost === 0) return;
    const t = this.#now();
    let next: number;
    if (this.#pausedUntil > t) next = this.#pausedUntil;
    else if (this.spec.window === 'fixed') next = this.#windowStart + this.spec.intervalMs;
    else next = (this.#recent.oldest ?? t) + this.spec.intervalMs;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#sync();
        this.#arm();
      },
      // +1: timers may fire a millisecond before the clock reads `next`; an early wake re-arms.
      Math.max(1, next - t + 1),
    );
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Units available now minus what is queued; strongly negative while paused. */
  headroom(): number {
    this.#sync();
    if (this.#pausedUntil !== 0) return -this.spec.limit - this.#queuedCost;
    return this.#reservoir - this.#queuedCost;
  }

  /** Epoch ms until which this budget is paused (a 429's `Retry-After`), or 0. */
  get pausedUntil(): number {
    return this.#pausedUntil;
  }

  /**
   * Runs `task` once `cost` units are available. A request that fits goes out at once; the limiter
   * queue (first in, first out) holds the rest. A task whose `signal` aborts while it waits is dropped
   * and its units are given back.
   */
  schedule<T>(cost: number, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#closed)
      return Promise.reject(new ClosedError('The rate budget is closed (its client was closed)'));
    signal?.throwIfAborted();
    this.#sync();
    if (this.#queuedCost === 0 && this.#pausedUntil === 0 && this.#reservoir >= cost) {
      this.#reservoir -= cost;
      return this.#run(cost, task);
    }
    this.#tell();
    this.#queuedCost += cost;
    let started = false;
    let dropped = false;
    const job = this.#limiter
      .schedule({ weight: cost }, async () => {
        started = true;
        // The limiter charged `cost` when it started this job.
        this.#reservoir -= cost;
        this.#told -= cost;
        if (dropped || signal?.aborted) {
          // Dropped while waiting: the limiter charged its units on start; give them straight back.
          if (!dropped) this.#queuedCost -= cost;
          this.#setReservoir(this.#reservoir + cost);
          throw signal?.reason ?? new ClosedError('The request was dropped from the rate budget queue');
        }
        this.#queuedCost -= cost;
        return this.#run(cost, task);
      })
      .catch((error: unknown) => {
        // Waiting work dropped by `close()`: bottleneck's own "limiter has been stopped" becomes typed.
        throw error instanceof Bottleneck.BottleneckError
          ? new ClosedError('The rate budget is closed (its client was closed)', { cause: error })
          : error;
      });
    this.#arm();
    if (!signal) return job;
    job.catch(() => undefined); // a dropped job's own rejection is expected and unobserved
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        if (started) return;
        dropped = true;
        this.#queuedCost -= cost;
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      job.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  async #run<T>(cost: number, task: () => Promise<T>): Promise<T> {
    this.spent += cost;
    this.#inflightCost += cost;
    if (this.spec.window === 'rolling') this.#recent.add(this.#now(), cost);
    try {
      return await task();
    } finally {
      this.#inflightCost -= cost;
    }
  }

  /**
   * Takes the venue's own count into account: `used` units were spent in the window that was current
   * when the request was sent. Only ever lowers what is left (other programs may share the IP).
   */
  observeUsed(used: number, sentAt: number): void {
    this.#sync();
    if (this.spec.window !== 'fixed' || this.#pausedUntil !== 0) return;
    if (this.#windowOf(sentAt) !== this.#windowStart || this.#windowOf(this.#now()) !== this.#windowStart)
      return;
    // What the venue has not seen yet is still in flight; count it on top of its figure.
    const target = this.spec.limit - used - Math.max(0, this.#inflightCost);
    if (target < this.#reservoir) this.#setReservoir(target);
  }

  /** Stops dispatching until `until` (epoch ms), e.g. after a 429 with `Retry-After`. */
  pause(until: number): void {
    if (until <= this.#pausedUntil || until <= this.#now()) return;
    this.#pausedUntil = until;
    this.#setReservoir(0);
    this.#clearTimer();
    this.#arm();
  }

  /** Drops waiting work and clears timers. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#clearTimer();
    await this.#limiter.stop({ dropWaitingJobs: true }).catch(() => undefined);
  }
}
