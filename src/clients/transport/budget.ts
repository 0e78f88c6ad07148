import Bottleneck from 'bottleneck';
import { ClosedError, InvalidArgumentError } from '../../core/errors.js';
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
 * The clients' one rate budget: what is left of `spec.limit` units per window, refilled at window
 * boundaries (fixed) or as spent units age out (rolling), emptied by a 429 until its `Retry-After`
 * (`pause`), and lowered by what the venue reports as used (`observeUsed`, `X-MBX-USED-WEIGHT-1M`).
 * Every time is read from `now`.
 *
 * Two ways to spend it:
 * - `schedule(cost, task)`, for concurrent callers (one egress's REST bucket): a task that fits goes
 *   out at once; the others wait, first in first out, in a bottleneck limiter whose reservoir holds
 *   exactly what is left, woken by a real timer when units come back.
 * - `waitFor(cost)` then `spend(cost)`, for a caller that sends in its own order on its own clock
 *   (a socket's `Outbox`, one budget per `SendLimit`): `waitFor` answers how long until `cost` fits
 *   and `spend` counts it as spent now. This path starts no timer and makes no bottleneck limiter.
 */
export class Budget {
  readonly spec: BudgetSpec;
  /** The queue of `schedule`, made when a first task has to wait (pacing callers never need one). */
  #limiter: Bottleneck | undefined;
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
  }

  /** The limiter of waiting `schedule` tasks; its reservoir starts at what `#told` says it holds. */
  #queue(): Bottleneck {
    if (this.#limiter) return this.#limiter;
    const limiter = new Bottleneck({ reservoir: this.#told, maxConcurrent: null });
    limiter.on('idle', () => this.#clearTimer());
    this.#limiter = limiter;
    return limiter;
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
    void this.#queue().incrementReservoir(delta);
  }

  /** Applies what the clock says: a pause that ended, a new fixed window, rolling units that aged out. */
  #sync(t: number = this.#now()): void {
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
    const next = this.#nextRefill(t);
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

  /** The next moment units come back: the pause's end, the next fixed boundary, the oldest rolling unit. */
  #nextRefill(t: number): number {
    if (this.#pausedUntil > t) return this.#pausedUntil;
    if (this.spec.window === 'fixed') return this.#windowStart + this.spec.intervalMs;
    return (this.#recent.oldest ?? t) + this.spec.intervalMs;
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
    if (cost > this.spec.limit) return Promise.reject(this.#neverFits(cost));
    const limiter = this.#queue();
    this.#tell();
    this.#queuedCost += cost;
    let started = false;
    let dropped = false;
    const job = limiter
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

  /**
   * Clock ms (of `now`) until `cost` more units fit: 0 when they fit now. Exact for a budget spent only
   * through `spend`: the end of a 429's pause, the next boundary (fixed), the moment enough spent units
   * have aged out (rolling). While `schedule` tasks wait or run on the same budget it answers the next
   * moment units come back, a lower bound: ask again then. Starts no timer: the caller waits on its own
   * clock, then calls `spend`.
   * @throws InvalidArgumentError when `cost` exceeds `spec.limit` (it would never fit).
   * @throws ClosedError once the budget is closed.
   */
  waitFor(cost: number): number {
    if (this.#closed) throw new ClosedError('The rate budget is closed (its client was closed)');
    if (cost > this.spec.limit) throw this.#neverFits(cost);
    const t = this.#now();
    this.#sync(t);
    if (this.#pausedUntil !== 0) return this.#pausedUntil - t;
    if (this.#queuedCost === 0 && this.#reservoir >= cost) return 0;
    if (this.#queuedCost > 0 || this.#inflightCost > 0) return Math.max(1, this.#nextRefill(t) - t);
    if (this.spec.window === 'fixed') return this.#windowStart + this.spec.intervalMs - t;
    return Math.max(1, this.#recent.nextFit(t, cost, this.spec.limit) - t);
  }

  /**
   * Counts `cost` units as spent now, by a caller that waited for `waitFor(cost)` to answer 0 (a
   * message that went out). Spending without waiting overdraws the budget, and the wait that follows
   * is longer.
   * @throws ClosedError once the budget is closed.
   */
  spend(cost: number): void {
    if (this.#closed) throw new ClosedError('The rate budget is closed (its client was closed)');
    const t = this.#now();
    this.#sync(t);
    this.spent += cost;
    if (this.spec.window === 'rolling') this.#recent.add(t, cost);
    this.#setReservoir(this.#reservoir - cost);
  }

  #neverFits(cost: number): InvalidArgumentError {
    return new InvalidArgumentError(
      `A cost of ${cost} units never fits a budget of ${this.spec.limit} per ${this.spec.intervalMs} ms`,
    );
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
    await this.#limiter?.stop({ dropWaitingJobs: true }).catch(() => undefined);
  }
}
