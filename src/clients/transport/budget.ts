import Bottleneck from 'bottleneck';

/** How a venue counts its budget. */
export interface BudgetSpec {
  /** Units (weight or requests) per window. */
  readonly limit: number;
  readonly intervalMs: number;
  /**
   * `'fixed'`: windows aligned to the epoch (Binance counts weight per UTC minute) — the budget is spent
   * as fast as it likes inside a window. `'rolling'`: the venue's window position is unknown, so
   * requests are also spaced `intervalMs / limit` apart and no rolling window ever sees more than `limit`.
   */
  readonly window: 'fixed' | 'rolling';
}

/**
 * One egress's budget for one venue bucket: a bottleneck limiter whose reservoir is refilled at every
 * window boundary and corrected by what the venue reports as used (`X-MBX-USED-WEIGHT-1M`).
 */
export class Budget {
  readonly spec: BudgetSpec;
  readonly #limiter: Bottleneck;
  readonly #now: () => number;
  /** Mirror of the limiter's reservoir, kept synchronously for headroom decisions. */
  #reservoir: number;
  #windowStart: number;
  #queuedCost = 0;
  #inflightCost = 0;
  #pausedUntil = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #lastDispatch = Number.NEGATIVE_INFINITY;
  readonly #minTime: number;
  /** Units dispatched per window, for utilisation figures. */
  spent = 0;

  constructor(spec: BudgetSpec, now: () => number = Date.now) {
    this.spec = spec;
    this.#now = now;
    this.#windowStart = this.#windowOf(now());
    this.#reservoir = spec.limit;
    this.#minTime = spec.window === 'rolling' ? Math.ceil(spec.intervalMs / spec.limit) : 0;
    this.#limiter = new Bottleneck({ reservoir: spec.limit, maxConcurrent: null, minTime: this.#minTime });
    this.#limiter.on('idle', () => this.#clearTimer());
  }

  #windowOf(t: number): number {
    return Math.floor(t / this.spec.intervalMs) * this.spec.intervalMs;
  }

  /** Starts a new window if the clock has passed the boundary: the reservoir is full again, less what is still in flight. */
  #roll(): void {
    const t = this.#now();
    const window = this.#windowOf(t);
    if (window === this.#windowStart || t < this.#pausedUntil) return;
    this.#windowStart = window;
    const target = Math.max(0, this.spec.limit - this.#inflightCost);
    const delta = target - this.#reservoir;
    this.#reservoir = target;
    this.spent = 0;
    if (delta !== 0) void this.#limiter.incrementReservoir(delta);
  }

  /** Arms one timer for the next boundary while work is waiting, so queued jobs resume on time. */
  #arm(): void {
    if (this.#timer || this.#closed || this.#queuedCost === 0) return;
    const t = this.#now();
    const next = Math.max(this.#windowOf(t) + this.spec.intervalMs, this.#pausedUntil);
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#roll();
        this.#arm();
      },
      Math.max(1, next - t + 1),
    );
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Units still available in this window minus what is queued; negative when work is waiting. */
  headroom(): number {
    this.#roll();
    if (this.#now() < this.#pausedUntil) return -this.spec.limit - this.#queuedCost;
    return this.#reservoir - this.#queuedCost;
  }

  /** Epoch ms until which this budget is paused (a 429's `Retry-After`), or 0. */
  get pausedUntil(): number {
    return this.#pausedUntil;
  }

  /**
   * Runs `task` once `cost` units are available. A task whose `signal` aborts while it waits is dropped
   * and its units are given back.
   */
  schedule<T>(cost: number, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('budget closed'));
    signal?.throwIfAborted();
    this.#roll();
    const t = this.#now();
    // Fast path: nothing is waiting and the request fits the window (and the spacing of a rolling
    // budget), so it goes out now. The limiter's reservoir is charged the same units, so the queue
    // below sees exactly what is left; only requests that must wait pay for the limiter's scheduling.
    if (
      this.#queuedCost === 0 &&
      this.#reservoir >= cost &&
      t >= this.#pausedUntil &&
      t - this.#lastDispatch >= this.#minTime
    ) {
      this.#reservoir -= cost;
      void this.#limiter.incrementReservoir(-cost);
      return this.#run(cost, task);
    }
    this.#queuedCost += cost;
    let started = false;
    const job = this.#limiter.schedule({ weight: cost }, async () => {
      started = true;
      this.#queuedCost -= cost;
      this.#reservoir -= cost;
      if (signal?.aborted) {
        this.#reservoir += cost;
        void this.#limiter.incrementReservoir(cost);
        throw signal.reason;
      }
      return this.#run(cost, task);
    });
    this.#arm();
    if (!signal) return job;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        if (!started) reject(signal.reason);
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
    this.#lastDispatch = this.#now();
    this.spent += cost;
    this.#inflightCost += cost;
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
    this.#roll();
    if (this.#windowOf(sentAt) !== this.#windowStart || this.#windowOf(this.#now()) !== this.#windowStart)
      return;
    const remaining = this.spec.limit - used;
    // What the venue has not seen yet is still in flight; count it on top of its figure.
    const target = remaining - Math.max(0, this.#inflightCost);
    if (target < this.#reservoir) {
      const delta = target - this.#reservoir;
      this.#reservoir = target;
      void this.#limiter.incrementReservoir(delta);
    }
  }

  /** Stops dispatching until `until` (epoch ms), e.g. after a 429 with `Retry-After`. */
  pause(until: number): void {
    if (until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    const delta = -this.#reservoir - this.spec.limit;
    this.#reservoir += delta;
    void this.#limiter.incrementReservoir(delta);
    this.#clearTimer();
    const t = this.#now();
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#windowStart = -1;
        this.#roll();
        this.#arm();
      },
      Math.max(1, until - t),
    );
    if (this.#queuedCost === 0) this.#timer.unref?.();
  }

  /** Drops waiting work and clears timers. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#clearTimer();
    await this.#limiter.stop({ dropWaitingJobs: true }).catch(() => undefined);
  }
}
