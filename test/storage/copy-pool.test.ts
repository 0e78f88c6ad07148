import { describe, expect, test } from 'vitest';
import type { Candle } from '../../src/core/types.js';
import { ChunkPool, encodeCopy, encodeGroupKey } from '../../src/storage/postgres/copy.js';
import { KIND_SPECS } from '../../src/storage/records.js';
import { prepareBatch } from '../../src/storage/validate.js';

const key = { source: 'binance', exchange: 'binance', symbol: 'BTC', interval: '1m' } as const;
const candle = (ts: number, extra: Partial<Candle> = {}): Candle => ({
  ...key,
  ts,
  open: 0.1 + ts / 7,
  high: 1e300,
  low: Number.MIN_VALUE,
  close: -0,
  volume: 123_456.789_012_345_67,
  quoteVolume: 2 ** 53 - 1,
  trades: 42,
  ...extra,
});

describe('ChunkPool (reused COPY buffers)', () => {
  test('behavior: a buffer comes back only when given back, and encodes the same bytes as a fresh one', () => {
    const pool = new ChunkPool(2);
    const a = pool.take(100);
    expect(a.byteLength).toBe(1 << 20);
    expect(pool.take(100)).not.toBe(a);
    pool.give([a.subarray(0, 10)]);
    const again = pool.take(10);
    expect(again.buffer).toBe(a.buffer);
    // Dirty buffers encode the same stream as fresh ones: every byte emitted is written.
    again.fill(0xab);
    pool.give([again]);
    const spec = KIND_SPECS.candles;
    const batch = prepareBatch('candles', [candle(0), candle(60_000, { trades: undefined })], 'update');
    const keys = batch.groups.map(encodeGroupKey);
    const fresh = Buffer.concat([...encodeCopy(spec, batch.rows, batch.groupOf, keys)]);
    const pooled = Buffer.concat([
      ...encodeCopy(spec, batch.rows, batch.groupOf, keys, undefined, (n) => pool.take(n)),
    ]);
    expect(pooled.equals(fresh)).toBe(true);
    // A request above the pooled size gets a buffer of its own.
    expect(pool.take((1 << 20) + 1).byteLength).toBe((1 << 20) + 1);
  });
});
