import type { Timers } from '../transport/sleep.js';

/**
 * A clock and timer source. The WebSocket layer takes every duration from it, so tests can run a
 * "minute" in 250 ms; it sleeps with the clients' one `sleep(ms, signal, clock)`.
 */
export interface WsClock extends Timers {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs `fn` after `ms` (clock milliseconds). */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer of `setTimeout`. */
  clearTimeout(handle: unknown): void;
}

/** The real clock: `Date.now` and Node's timers. */
export const systemClock: WsClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * A clock that runs `speed` times faster than real time from `epoch` on (for tests and benchmarks):
 * one clock minute lasts `60_000 / speed` real milliseconds.
 * @example const clock = scaledClock(240, Date.UTC(2024, 0, 1)); // a minute every 250 ms
 */
export function scaledClock(speed: number, epoch: number): WsClock {
  const start = performance.now();
  return {
    now: () => Math.floor(epoch + (performance.now() - start) * speed),
    setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms / speed)),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}
