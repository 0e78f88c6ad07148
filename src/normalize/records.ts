import type { Interval } from '../core/intervals.js';
import type { Candle, Exchange, Source } from '../core/types.js';
import type { InstrumentInfo } from './symbols.js';

/**
 * One liquidation as a stream reports it, before `LiquidationBuckets` sums it into a period.
 * Structurally the live layer's `LiquidationEvent`.
 */
export interface LiquidationFill {
  /** Canonical symbol. */
  readonly symbol: string;
  readonly ts: number;
  /** `'long'`: a long position was liquidated (a forced sell); `'short'`: a forced buy. */
  readonly side: 'long' | 'short';
  /** Notional in USD(T). */
  readonly usd: number;
}

/** Sorts by `ts` ascending (for venues that list newest first) and keeps the first record of each `ts`. */
export function ascending<T extends { ts: number }>(records: T[]): T[] {
  records.sort((a, b) => a.ts - b.ts);
  return records.filter((r, i) => i === 0 || records[i - 1]!.ts !== r.ts);
}

/**
 * One candle of an instrument that may carry a multiplier (`1000PEPEUSDT`): prices per one base unit
 * (÷ multiplier), volume in base units (× multiplier). Every reader of such venues builds its candles
 * here, from parsed rows or from bytes, so their candles share one shape.
 */
export function multipliedCandle(
  exchange: Exchange,
  ctx: {
    readonly instrument: InstrumentInfo;
    readonly interval: Interval;
    readonly source?: Source | undefined;
  },
  ts: number,
  open: number,
  high: number,
  low: number,
  close: number,
  volume: number,
  quoteVolume: number | undefined,
): Candle {
  const m = ctx.instrument.multiplier;
  return {
    source: ctx.source ?? exchange,
    exchange,
    symbol: ctx.instrument.symbol,
    interval: ctx.interval,
    ts,
    open: open / m,
    high: high / m,
    low: low / m,
    close: close / m,
    volume: volume * m,
    quoteVolume,
  };
}
