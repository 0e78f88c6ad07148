import { describe, expect, test } from 'vitest';
import type { AnyRecord, Candle, Funding } from '../../src/core/types.js';
import { RowArena } from '../../src/pipeline/packed.js';
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

describe('RowArena (pages waiting in the batch writer)', () => {
  test('behavior: packed pages come back equal, value for value, in the order they came', () => {
    const arena = new RowArena('candles');
    const a = [candle(0), candle(60_000, { takerBuyVolume: 5 })];
    const b = [candle(120_000, { quoteVolume: undefined, trades: undefined })];
    arena.add(a);
    arena.add([]);
    arena.add(b);
    expect(arena.rows).toBe(3);
    const out = arena.drain();
    const defined = (r: object) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
    expect(out).toStrictEqual([...a, ...b].map(defined));
    // Bit-exact, -0 included; absent optional values stay absent.
    expect(Object.is((out[0] as Candle).close, -0)).toBe(true);
    expect((out[1] as Candle).open).toBe(a[1]!.open);
    expect('quoteVolume' in (out[2] as object)).toBe(false);
    expect(arena.rows).toBe(0);
    expect(arena.drain()).toEqual([]);
  });

  test('behavior: a page that does not fit is kept as it is, between packed ones, in order', () => {
    const arena = new RowArena('candles');
    const mixedKeys = [candle(0), { ...candle(60_000), symbol: 'ETH' }];
    const invalid = [candle(120_000, { open: Number.NaN })];
    const wrongType = [{ ...candle(180_000), volume: '1' } as unknown as Candle];
    const missing = [{ ...candle(240_000), close: undefined } as unknown as Candle];
    const good = [candle(300_000)];
    for (const page of [good, mixedKeys, invalid, wrongType, missing, good]) arena.add(page);
    const out = arena.drain();
    expect(out.length).toBe(7);
    // Kept pages are the very objects handed over: the storage then refuses them with its own message.
    expect(out[1]).toBe(mixedKeys[0]);
    expect(out[2]).toBe(mixedKeys[1]);
    expect(out[3]).toBe(invalid[0]);
    expect(out[4]).toBe(wrongType[0]);
    expect(out[5]).toBe(missing[0]);
    expect(out[0]).toEqual(good[0]);
    expect(out[6]).toEqual(good[0]);
  });

  test('behavior: kinds without an interval, null optional values, and growth over many pages', () => {
    const arena = new RowArena('funding');
    const rows: Funding[] = [];
    for (let i = 0; i < 3_000; i++) {
      const row = {
        source: 'okx',
        exchange: 'okx',
        symbol: 'ETH',
        ts: i * 8 * 3_600_000,
        rate: i * 1e-6,
        markPrice: i % 2 ? null : 3_000 + i,
      } as unknown as Funding;
      rows.push(row);
    }
    for (let i = 0; i < rows.length; i += 100) arena.add(rows.slice(i, i + 100));
    const out = arena.drain() as AnyRecord[];
    expect(out.length).toBe(3_000);
    expect(out[1]).toEqual({ source: 'okx', exchange: 'okx', symbol: 'ETH', ts: 8 * 3_600_000, rate: 1e-6 });
    expect(out[2]).toEqual(rows[2]);
    expect(out.map((r) => r.ts)).toEqual(rows.map((r) => r.ts));
  });
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
