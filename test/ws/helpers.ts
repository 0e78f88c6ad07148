import { expect } from 'vitest';
import { scaledClock, type WsClock } from '../../src/clients/ws/clock.js';
import type { Candle } from '../../src/core/types.js';
import type { InstrumentInfo } from '../../src/normalize/symbols.js';
import type { SyntheticMarket } from '../../src/testing/market.js';

export const MINUTE = 60_000;
/** A simulated minute lasts 200 ms of real time. */
export const SPEED = 300;
/** Half a minute before a candle boundary, so the first candle closes soon after subscribing. */
export const EPOCH = Date.UTC(2024, 5, 1, 0, 0, 30);

/** A fresh scaled clock for one test. */
export function testClock(speed = SPEED): WsClock {
  return scaledClock(speed, EPOCH);
}

/**
 * A slower clock (a minute in 500 ms) for tests that assert nothing was replaced: at full speed an
 * event-loop hiccup of 100 ms on a loaded machine is 30 simulated seconds, enough to miss a heartbeat.
 */
export const STRICT_SPEED = 120;

/** Timing of the live layer in tests (clock ms): quick backoff, generous stall grace. */
export const TEST_TIMING = {
  backoff: { initialMs: 2_000, maxMs: 20_000, stableMs: 5 * MINUTE },
  stallGraceMs: 20_000,
} as const;

/**
 * Reads `stream` until `done(items)` holds, then breaks out of the loop (which closes the stream).
 * Fails with what was collected when that takes longer than `timeoutMs` (real ms).
 */
export async function take<T>(
  stream: AsyncIterable<T>,
  done: (items: readonly T[]) => boolean,
  timeoutMs = 20_000,
): Promise<T[]> {
  const items: T[] = [];
  const iterator = stream[Symbol.asyncIterator]();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${items.length} items`)), timeoutMs);
  });
  try {
    while (!done(items)) {
      const r = await Promise.race([iterator.next(), timeout]);
      if (r.done) break;
      items.push(r.value);
    }
  } finally {
    clearTimeout(timer);
    await iterator.return?.();
  }
  return items;
}

/** Candles per symbol, in arrival order. */
export function bySymbol(candles: readonly Candle[]): Map<string, Candle[]> {
  const out = new Map<string, Candle[]>();
  for (const c of candles) {
    const list = out.get(c.symbol) ?? [];
    list.push(c);
    out.set(c.symbol, list);
  }
  return out;
}

/** Whether every symbol has at least `n` candles (incremental: safe to call after every item). */
export function atLeast(symbols: readonly string[], n: number): (items: readonly Candle[]) => boolean {
  const counts = new Map<string, number>();
  let seen = 0;
  let missing = symbols.length;
  const wanted = new Set(symbols);
  return (items) => {
    if (items.length < seen) {
      counts.clear();
      seen = 0;
      missing = symbols.length;
    }
    for (; seen < items.length; seen++) {
      const s = items[seen]!.symbol;
      const c = (counts.get(s) ?? 0) + 1;
      counts.set(s, c);
      if (c === n && wanted.has(s)) missing--;
    }
    return missing <= 0;
  };
}

/** Asserts each symbol's series is ascending, one candle per minute, no duplicate, no hole, and matches the market. */
export function expectCompleteSeries(
  candles: readonly Candle[],
  symbols: readonly string[],
  market: SyntheticMarket,
): void {
  const series = bySymbol(candles);
  for (const symbol of symbols) {
    const list = series.get(symbol) ?? [];
    expect(list.length, symbol).toBeGreaterThan(0);
    for (let i = 1; i < list.length; i++) {
      expect(list[i]!.ts - list[i - 1]!.ts, `${symbol} step at ${i}`).toBe(MINUTE);
    }
    for (const c of list) {
      const want = market.candle(symbol, c.ts, MINUTE);
      expect(c.close).toBeCloseTo(want.close, 12);
      expect(c.volume).toBeCloseTo(want.volume, 6);
      expect(Number.isNaN(c.open)).toBe(false);
    }
  }
}

/** A registry entry. */
export function instrument(
  exchange: InstrumentInfo['exchange'],
  id: string,
  symbol: string,
  multiplier = 1,
  contractSize?: number,
): InstrumentInfo {
  return {
    exchange,
    instrument: id,
    symbol,
    quote: 'USDT',
    multiplier,
    ...(contractSize === undefined ? {} : { contractSize }),
  };
}

/** Waits (real time) until `check` holds. */
export async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Handles that keep the process alive (timers and sockets), for leak checks. */
export function liveHandles(): number {
  return process
    .getActiveResourcesInfo()
    .filter((r) => r === 'Timeout' || r === 'TCPSocketWrap' || r === 'TCPWRAP').length;
}

/** Records every lifecycle event of a stream. */
export function record<R>(stream: import('../../src/clients/ws/stream.js').LiveStream<R>) {
  type Events = import('../../src/clients/ws/types.js').StreamEvents;
  const events: { [K in keyof Events]: Events[K][] } = {
    connected: [],
    reconnecting: [],
    reconnected: [],
    stalled: [],
    gapFilled: [],
    error: [],
    overflow: [],
    closed: [],
  };
  for (const name of Object.keys(events) as (keyof Events)[]) {
    stream.on(name, (e) => (events[name] as unknown[]).push(e));
  }
  return events;
}

/** Gap fill straight from the synthetic market (what a venue's REST history would return). */
export function marketFetcher(
  market: SyntheticMarket,
  venue: Candle['exchange'],
  calls: { symbol: string; from: number; to: number }[] = [],
): import('../../src/clients/ws/processors.js').FetchClosed {
  return async (symbol, from, to) => {
    calls.push({ symbol, from, to });
    const out: Candle[] = [];
    for (let ts = from; ts < to; ts += MINUTE) {
      out.push({
        source: venue,
        exchange: venue,
        symbol,
        interval: '1m',
        ...market.candle(symbol, ts, MINUTE),
      });
    }
    return out;
  };
}
