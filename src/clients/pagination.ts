import { setMaxListeners } from 'node:events';
import { addInterval, type Interval } from '../core/intervals.js';

/**
 * Fetches `windows` with up to `concurrency` requests in flight and yields their pages in window
 * order, skipping empty ones. Memory stays bounded by `concurrency` pages. Leaving the loop early
 * (`break`, an error, the caller's signal) aborts the requests still in flight.
 */
export async function* orderedPages<W, T>(
  windows: Iterable<W>,
  fetchWindow: (window: W, signal: AbortSignal) => Promise<T[]>,
  options: { concurrency: number; signal?: AbortSignal | undefined },
): AsyncGenerator<T[], void, undefined> {
  const controller = new AbortController();
  // Every request in flight listens on this signal (timeouts, budgets): more than Node's default of 10.
  setMaxListeners(0, controller.signal);
  const outer = options.signal;
  const onAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onAbort, { once: true });
  if (outer?.aborted) controller.abort(outer.reason);
  const iterator = windows[Symbol.iterator]();
  const inflight: Promise<T[]>[] = [];
  const launch = () => {
    while (inflight.length < Math.max(1, options.concurrency)) {
      const next = iterator.next();
      if (next.done) return;
      const promise = fetchWindow(next.value, controller.signal);
      // Rejections are observed when the page's turn comes; until then they must not go unhandled.
      promise.catch(() => undefined);
      inflight.push(promise);
    }
  };
  try {
    controller.signal.throwIfAborted();
    launch();
    while (inflight.length > 0) {
      const page = await inflight.shift()!;
      launch();
      if (page.length > 0) yield page;
    }
  } finally {
    outer?.removeEventListener('abort', onAbort);
    if (inflight.length > 0) controller.abort(new DOMException('Iteration ended', 'AbortError'));
  }
}

/** `[start, end)` windows covering `[from, to)` in steps of `size` ms (the last one may be shorter). */
export function* timeWindows(
  from: number,
  to: number,
  size: number,
): Generator<{ start: number; end: number }> {
  for (let start = from; start < to; start += size) yield { start, end: Math.min(to, start + size) };
}

/**
 * `[start, end)` windows of `size` periods of `interval` covering `[from, to)`; calendar months for
 * `1M`. `from` should be on the interval's grid.
 */
export function* periodWindows(
  from: number,
  to: number,
  interval: Interval,
  size: number,
): Generator<{ start: number; end: number }> {
  for (let start = from; start < to; ) {
    const end = Math.min(to, addInterval(start, interval, size));
    yield { start, end };
    start = end;
  }
}
