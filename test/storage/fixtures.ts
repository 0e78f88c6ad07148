/** Rows and series keys of every data kind, shared by the storage tests and the benchmark-free suites. */
import type { Candle, DataKind, RecordOf, SeriesKey } from '../../src/core/types.js';

/** 2024-01-01T00:00:00Z. */
export const T0 = Date.UTC(2024, 0, 1);
export const MINUTE = 60_000;

/** The series key of `BTC` 1m candles on Binance. */
export const BTC_1M: SeriesKey = { source: 'binance', exchange: 'binance', symbol: 'BTC', interval: '1m' };

/** `n` 1m candles from `start` (index), deterministic values; every other one carries the optional fields. */
export function candles(n: number, start = 0, over: Partial<Candle> = {}): Candle[] {
  return Array.from({ length: n }, (_, k) => {
    const i = start + k;
    const base = 40_000 + i;
    const candle: Candle = {
      source: 'binance',
      exchange: 'binance',
      symbol: 'BTC',
      interval: '1m',
      ts: T0 + i * MINUTE,
      open: base,
      high: base + 10.5,
      low: base - 10.25,
      close: base + 1.125,
      volume: 12.5 + i,
      ...(i % 2 === 0 ? { quoteVolume: (12.5 + i) * base, trades: 100 + i, takerBuyVolume: 6.25 } : {}),
      ...over,
    };
    return candle;
  });
}

/** A few rows per kind with their series key; optional fields present on some rows and absent on others. */
export const SAMPLES: { [K in DataKind]: { key: SeriesKey; rows: RecordOf<K>[] } } = {
  candles: { key: BTC_1M, rows: candles(3) },
  funding: {
    key: { source: 'okx', exchange: 'okx', symbol: 'ETH' },
    rows: [
      { source: 'okx', exchange: 'okx', symbol: 'ETH', ts: T0, rate: 0.0001, markPrice: 2300.5 },
      { source: 'okx', exchange: 'okx', symbol: 'ETH', ts: T0 + 8 * 3_600_000, rate: -0.00005 },
    ],
  },
  predictedFunding: {
    key: { source: 'bybit', exchange: 'bybit', symbol: 'SOL' },
    rows: [
      {
        source: 'bybit',
        exchange: 'bybit',
        symbol: 'SOL',
        ts: T0,
        rate: 0.0002,
        nextFundingTime: T0 + 8 * 3_600_000,
      },
      { source: 'bybit', exchange: 'bybit', symbol: 'SOL', ts: T0 + MINUTE, rate: 0.00021 },
    ],
  },
  openInterest: {
    key: { source: 'coinalyze', exchange: 'binance', symbol: 'PEPE', interval: '5m' },
    rows: [
      {
        source: 'coinalyze',
        exchange: 'binance',
        symbol: 'PEPE',
        interval: '5m',
        ts: T0,
        openInterest: 1.5e12,
      },
      {
        source: 'coinalyze',
        exchange: 'binance',
        symbol: 'PEPE',
        interval: '5m',
        ts: T0 + 5 * MINUTE,
        openInterest: 1.6e12,
        openInterestUsd: 2.1e7,
      },
    ],
  },
  longShortRatio: {
    key: { source: 'binance', exchange: 'binance', symbol: 'BTC', interval: '5m', kind: 'topAccount' },
    rows: [
      {
        source: 'binance',
        exchange: 'binance',
        symbol: 'BTC',
        interval: '5m',
        kind: 'topAccount',
        ts: T0,
        ratio: 1.25,
        longShare: 0.5556,
        shortShare: 0.4444,
      },
      {
        source: 'binance',
        exchange: 'binance',
        symbol: 'BTC',
        interval: '5m',
        kind: 'topAccount',
        ts: T0 + 5 * MINUTE,
        ratio: 1.3,
      },
    ],
  },
  takerVolume: {
    key: { source: 'okx', exchange: 'okx', symbol: 'BTC', interval: '5m' },
    rows: [
      {
        source: 'okx',
        exchange: 'okx',
        symbol: 'BTC',
        interval: '5m',
        ts: T0,
        buyVolume: 10,
        sellVolume: 12.5,
      },
      {
        source: 'okx',
        exchange: 'okx',
        symbol: 'BTC',
        interval: '5m',
        ts: T0 + 5 * MINUTE,
        buyVolume: 0,
        sellVolume: 3,
      },
    ],
  },
  liquidations: {
    key: { source: 'coinalyze', exchange: 'bybit', symbol: 'DOGE', interval: '1h' },
    rows: [
      {
        source: 'coinalyze',
        exchange: 'bybit',
        symbol: 'DOGE',
        interval: '1h',
        ts: T0,
        longUsd: 125_000,
        shortUsd: 0,
      },
    ],
  },
  indicators: {
    key: { source: 'binance', exchange: 'binance', symbol: 'BTC', interval: '1m', kind: 'rsi14' },
    rows: [
      {
        source: 'binance',
        exchange: 'binance',
        symbol: 'BTC',
        interval: '1m',
        name: 'rsi14',
        ts: T0,
        value: 55.5,
      },
      {
        source: 'binance',
        exchange: 'binance',
        symbol: 'BTC',
        interval: '1m',
        name: 'rsi14',
        ts: T0 + MINUTE,
        value: 61.25,
      },
    ],
  },
};

/** Collects every page of an async iterable. */
export async function collect<T>(pages: AsyncIterable<T[]>): Promise<{ rows: T[]; sizes: number[] }> {
  const rows: T[] = [];
  const sizes: number[] = [];
  for await (const page of pages) {
    sizes.push(page.length);
    rows.push(...page);
  }
  return { rows, sizes };
}

/** A random lower-case suffix for schema and prefix names. */
export function suffix(): string {
  return Math.random()
    .toString(36)
    .slice(2, 10)
    .replace(/[^a-z0-9]/g, 'x');
}
