/**
 * Units spent over the last `intervalMs`, as a log of (time, cost) entries: the count behind a rolling
 * `Budget` (REST buckets and, through `SendPacer`, the per-connection send limits of sockets), used by
 * nothing else. An entry leaves the window `intervalMs` after it was spent.
 */
export class SlidingLog {
  readonly intervalMs: number;
  readonly #entries: { at: number; cost: number }[] = [];
  #total = 0;

  constructor(intervalMs: number) {
    this.intervalMs = intervalMs;
  }

  /** Units in the window (as of the last `expire`). */
  get total(): number {
    return this.#total;
  }

  /** When the oldest entry was spent, if any. */
  get oldest(): number | undefined {
    return this.#entries[0]?.at;
  }

  /** Counts `cost` units spent at `at` (never earlier than the last entry). */
  add(at: number, cost: number): void {
    this.#entries.push({ at, cost });
    this.#total += cost;
  }

  /** Drops the entries that left the window by `t`; answers the units they held. */
  expire(t: number): number {
    let back = 0;
    while (this.#entries.length > 0 && this.#entries[0]!.at + this.intervalMs <= t)
      back += this.#entries.shift()!.cost;
    this.#total -= back;
    return back;
  }

  /** The earliest time from `t` on at which `cost` more units keep the window within `limit`. */
  nextFit(t: number, cost: number, limit: number): number {
    let excess = this.#total + cost - limit;
    if (excess <= 0) return t;
    for (const entry of this.#entries) {
      excess -= entry.cost;
      if (excess <= 0) return Math.max(t, entry.at + this.intervalMs);
    }
    return t; // `cost` alone exceeds `limit`: nothing to wait for would help
  }
}
