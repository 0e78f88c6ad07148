/** Builders and a seeded PRNG shared by the derive tests. */
import type { Candle, Interval, TakerVolume } from '../../src/core/index.js';

export const MINUTE = 60_000;
/** 2024-01-01T00:00:00Z, a round start for every series. */
export const T0 = Date.UTC(2024, 0, 1);

/** Mulberry32: a small deterministic PRNG, so oracle series are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A positive random walk of `n` closes (multiplicative steps, some exactly flat). */
export function randomCloses(n: number, seed = 1): number[] {
  const rand = prng(seed);
  const out: number[] = [];
  let price = 100;
  for (let i = 0; i < n; i++) {
    const u = rand();
    if (u > 0.1) price *= 1 + (rand() - 0.5) * 0.02;
    out.push(price);
  }
  return out;
}

/** A 1m (or `interval`) candle of symbol BTC on Binance with everything derived from `close`. */
export function candle(ts: number, close: number, extra: Partial<Candle> = {}): Candle {
  return {
    source: 'binance',
    exchange: 'binance',
    symbol: 'BTC',
    ts,
    interval: '1m',
    open: close,
    high: close,
    low: close,
    close,
    volume: 1,
    ...extra,
  };
}

/** A taker-volume bucket of BTC on Binance. */
export function taker(
  ts: number,
  buyVolume: number,
  sellVolume: number,
  interval: Interval = '5m',
): TakerVolume {
  return { source: 'binance', exchange: 'binance', symbol: 'BTC', ts, interval, buyVolume, sellVolume };
}

/** True when every number reachable in `value` is finite. */
export function allFinite(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(allFinite);
  if (value !== null && typeof value === 'object') return Object.values(value).every(allFinite);
  return true;
}

/** `|a - b| <= tol * max(1, |a|, |b|)`. */
export function close(a: number, b: number, tol = 1e-9): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
}
