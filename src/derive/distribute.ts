import type { Candle, TakerVolume } from '../core/types.js';
import { fail, gridOffset, iso, minuteMultipleMs } from './internal.js';

/** What `distributeByVolume` produced and what it could not place. */
export interface DistributeResult {
  /** One record per candle that falls inside a taker bucket, with the candle's `ts` and interval. */
  readonly volumes: TakerVolume[];
  /** Taker buckets with no candle at all: their volume is in no record of `volumes`. */
  readonly uncovered: TakerVolume[];
  /** `ts` of the buckets split equally (candles missing, or zero total candle volume). */
  readonly equalSplit: number[];
}

interface Series {
  readonly exchange: string;
  readonly symbol: string;
}

function checkSeries(fn: string, what: string, first: Series, record: Series, index: number): void {
  if (record.symbol !== first.symbol || record.exchange !== first.exchange) {
    fail(fn, `${what} of more than one series: pass one exchange/symbol at a time`, {
      Index: index,
      Expected: `${first.exchange}/${first.symbol}`,
      Got: `${record.exchange}/${record.symbol}`,
    });
  }
}

function checkVolume(fn: string, name: string, value: number, index: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(fn, `${name} must be a finite non-negative number, got ${String(value)}`, { Index: index });
  }
}

/**
 * Splits each taker-volume bucket (e.g. 5m) over the candles (e.g. 1m) inside it in proportion to the
 * candles' volume, the way the seeds turned 5m taker volume into 1m rows.
 *
 * Policies:
 * - **Conservation**: the buy and sell totals of every bucket that has a candle are kept (up to
 *   floating-point rounding, well within 1e-9 relative).
 * - **Equal-split fallback**: when the bucket's candles have zero total volume, or some of its candles
 *   are missing, the bucket is split equally over the candles present (the volume of a missing minute
 *   is unknown, so the present ones cannot be weighted fairly). Such buckets are listed in `equalSplit`.
 * - **Uncovered buckets**: a bucket with no candle at all produces no record and is returned in
 *   `uncovered`, never dropped silently. Candles outside every bucket are ignored.
 *
 * Call it per bucket in live use: one 5m record and its candles give the same records as the batch.
 * @param taker Taker volume of one series, strictly ascending, one interval (a whole number of minutes).
 * @param candles Candles of the same exchange and symbol, strictly ascending, one interval that divides
 *   the taker interval.
 * @example
 * import type { Candle, TakerVolume } from 'perpdata';
 * import { distributeByVolume } from 'perpdata/derive';
 *
 * declare const taker5m: TakerVolume[]; // Binance 5m taker volume
 * declare const candles1m: Candle[]; // the same symbol's 1m candles
 * const { volumes, uncovered } = distributeByVolume(taker5m, candles1m); // TakerVolume[] at 1m
 * if (uncovered.length > 0) console.warn(`${uncovered.length} buckets have no candles yet`);
 */
// Long by design: one pass over buckets and candles with its validation inline (a hot path over millions of candles).
export function distributeByVolume(
  taker: readonly TakerVolume[],
  candles: readonly Candle[],
): DistributeResult {
  const fn = 'distributeByVolume';
  // At most one record per candle: allocate once, trim at the end.
  const volumes: TakerVolume[] = new Array<TakerVolume>(candles.length);
  let written = 0;
  const uncovered: TakerVolume[] = [];
  const equalSplit: number[] = [];
  const firstTaker = taker[0];
  if (firstTaker === undefined) return { volumes: [], uncovered, equalSplit };
  const bucketMs = minuteMultipleMs(fn, firstTaker.interval, 'taker volume');
  const firstCandle = candles[0];
  let candleMs = bucketMs;
  if (firstCandle !== undefined) {
    candleMs = minuteMultipleMs(fn, firstCandle.interval, 'candle');
    if (candleMs > bucketMs || bucketMs % candleMs !== 0) {
      fail(
        fn,
        `candle interval ${firstCandle.interval} does not divide taker interval ${firstTaker.interval}`,
      );
    }
    checkSeries(fn, 'candles and taker volume', firstTaker, firstCandle, 0);
  }
  const perBucket = bucketMs / candleMs;
  const bucketOffset = gridOffset(firstTaker.interval, bucketMs);
  const candleOffset = firstCandle === undefined ? 0 : gridOffset(firstCandle.interval, candleMs);

  // Validate the candles once, up front, so the split loop stays lean.
  let prevTs = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < candles.length; i++) {
    const candle = candles[i] as Candle;
    const ref = candles[0] as Candle;
    if (candle.interval !== ref.interval) {
      fail(fn, `candles of mixed intervals: ${ref.interval} and ${String(candle.interval)}`, { Index: i });
    }
    checkSeries(fn, 'candles', ref, candle, i);
    if (!(candle.ts > prevTs)) {
      fail(fn, 'candles must be in strictly ascending ts order without duplicates', {
        Index: i,
        Got: iso(candle.ts),
      });
    }
    if ((candle.ts - candleOffset) % candleMs !== 0) {
      fail(fn, `candle ts is not a period start of ${candle.interval}: ${iso(candle.ts)}`, { Index: i });
    }
    checkVolume(fn, 'candle volume', candle.volume, i);
    prevTs = candle.ts;
  }

  let j = 0;
  prevTs = Number.NEGATIVE_INFINITY;
  for (let b = 0; b < taker.length; b++) {
    const bucket = taker[b] as TakerVolume;
    if (bucket.interval !== firstTaker.interval) {
      fail(fn, `taker volume of mixed intervals: ${firstTaker.interval} and ${String(bucket.interval)}`, {
        Index: b,
      });
    }
    checkSeries(fn, 'taker volume', firstTaker, bucket, b);
    const start = bucket.ts;
    if (!(start > prevTs)) {
      fail(fn, 'taker volume must be in strictly ascending ts order without duplicates', {
        Index: b,
        Got: iso(start),
      });
    }
    if ((start - bucketOffset) % bucketMs !== 0) {
      fail(fn, `taker volume ts is not a period start of ${bucket.interval}: ${iso(start)}`, { Index: b });
    }
    checkVolume(fn, 'buyVolume', bucket.buyVolume, b);
    checkVolume(fn, 'sellVolume', bucket.sellVolume, b);
    prevTs = start;

    const end = start + bucketMs;
    while (j < candles.length && (candles[j] as Candle).ts < start) j++;
    let k = j;
    let total = 0;
    while (k < candles.length && (candles[k] as Candle).ts < end) {
      total += (candles[k] as Candle).volume;
      k++;
    }
    const count = k - j;
    if (!Number.isFinite(total)) fail(fn, 'candle volumes are too large: their sum overflows', { Index: b });
    if (count === 0) {
      uncovered.push(bucket);
      continue;
    }
    const { buyVolume, sellVolume, source, exchange, symbol } = bucket;
    const equal = total === 0 || count < perBucket;
    if (equal) equalSplit.push(start);
    for (let i = j; i < k; i++) {
      const candle = candles[i] as Candle;
      const share = equal ? 1 / count : candle.volume / total;
      volumes[written++] = {
        source,
        exchange,
        symbol,
        ts: candle.ts,
        interval: candle.interval,
        buyVolume: buyVolume * share,
        sellVolume: sellVolume * share,
      };
    }
    j = k;
  }
  volumes.length = written;
  return { volumes, uncovered, equalSplit };
}
