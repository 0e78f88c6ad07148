import { describe, expect, test } from 'vitest';
import { BinanceClient } from '../../src/clients/index.js';
import { InvalidArgumentError, StorageError, ValidationError } from '../../src/core/errors.js';
import type { Candle } from '../../src/core/types.js';
import { Sync } from '../../src/pipeline/index.js';
import { ChunkMarker, chunkSpans, EMPTY_REASONS, missingSpans } from '../../src/pipeline/ledger.js';
import { chunkRetryDelay } from '../../src/pipeline/sync.js';
import { BatchWriter, isRetryableStorage } from '../../src/pipeline/writer.js';
import { MemoryStorage } from '../../src/storage/index.js';

const M = 60_000;
const key = { source: 'binance', exchange: 'binance', symbol: 'BTC', interval: '1m' } as const;

describe('missingSpans / chunkSpans', () => {
  test('default: what no stored or empty interval covers', () => {
    const coverage = [
      { from: 10, to: 20, state: 'stored' as const },
      { from: 20, to: 30, state: 'empty' as const, reason: 'x' },
      { from: 40, to: 50, state: 'stored' as const },
    ];
    expect(missingSpans(coverage, 0, 60)).toEqual([
      { from: 0, to: 10 },
      { from: 30, to: 40 },
      { from: 50, to: 60 },
    ]);
    expect(missingSpans(coverage, 12, 45)).toEqual([{ from: 30, to: 40 }]);
    expect(missingSpans([], 5, 9)).toEqual([{ from: 5, to: 9 }]);
    expect(missingSpans(coverage, 10, 30)).toEqual([]);
  });

  test('default: chunks end on absolute multiples of their size, so any run cuts a range the same way', () => {
    expect(chunkSpans([{ from: 5 * M, to: 23 * M }], 10 * M, M)).toEqual([
      { from: 5 * M, to: 10 * M },
      { from: 10 * M, to: 20 * M },
      { from: 20 * M, to: 23 * M },
    ]);
  });
});

describe('ChunkMarker', () => {
  const settled = Number.MAX_SAFE_INTEGER;
  test('default: contiguous rows are stored, holes inside the chunk and at its start are empty with a reason', () => {
    const marker = new ChunkMarker({
      key,
      span: { from: 0, to: 10 * M },
      step: M,
      seriesStart: true,
      settledBefore: settled,
    });
    const marks = [...marker.page([2 * M, 3 * M, 6 * M]), ...marker.page([7 * M]), ...marker.finish()];
    expect(marks.map((m) => [m.from / M, m.to / M, m.state, m.reason])).toEqual([
      [0, 2, 'empty', EMPTY_REASONS.beforeData],
      [2, 4, 'stored', undefined],
      [4, 6, 'empty', EMPTY_REASONS.noData],
      [6, 7, 'stored', undefined],
      // The next page's rows continue the run (storage merges adjacent equal marks).
      [7, 8, 'stored', undefined],
      [8, 10, 'empty', EMPTY_REASONS.noData],
    ]);
    expect(marker.gaps.map((g) => g.from / M)).toEqual([0, 4, 8]);
  });

  test('behavior: the trailing part of a chunk that ends near the present is left unmarked (the venue may publish late)', () => {
    const marker = new ChunkMarker({
      key,
      span: { from: 0, to: 10 * M },
      step: M,
      seriesStart: false,
      settledBefore: 5 * M,
    });
    const marks = [...marker.page([0, M, 2 * M]), ...marker.finish()];
    expect(marks.map((m) => [m.from / M, m.to / M, m.state])).toEqual([[0, 3, 'stored']]);
  });

  test('behavior: event series (funding) are complete between events, and empty only before the first one', () => {
    const start = new ChunkMarker({
      key,
      span: { from: 0, to: 100 },
      step: undefined,
      seriesStart: true,
      settledBefore: settled,
    });
    expect([...start.page([40, 70]), ...start.finish()].map((m) => [m.from, m.to, m.state])).toEqual([
      [0, 71, 'stored'],
      [71, 100, 'stored'],
    ]);
    const none = new ChunkMarker({
      key,
      span: { from: 0, to: 100 },
      step: undefined,
      seriesStart: true,
      settledBefore: settled,
    });
    expect(none.finish().map((m) => m.state)).toEqual(['empty']);
  });
});

describe('BatchWriter', () => {
  const candle = (ts: number): Candle => ({
    source: 'binance',
    exchange: 'binance',
    symbol: 'BTC',
    interval: '1m',
    ts,
    open: 1,
    high: 1,
    low: 1,
    close: 1,
    volume: 1,
  });

  test('default: pages of many series coalesce into one write per table with their marks', async () => {
    const storage = new MemoryStorage();
    const calls: number[] = [];
    const write = storage.write.bind(storage);
    storage.write = (async (kind, rows, options) => {
      calls.push(rows.length);
      return write(kind, rows, options);
    }) as typeof storage.write;
    const writer = new BatchWriter({
      storage,
      maxRows: 1_000,
      maxDelayMs: 10_000,
      retryForMs: 0,
      onRetry: () => {},
      onFailed: () => {},
      onCommitted: () => {},
    });
    for (let p = 0; p < 4; p++) {
      const rows = Array.from({ length: 100 }, (_, i) => candle((p * 100 + i) * M));
      await writer.add('candles', 's', rows, [
        { key, from: p * 100 * M, to: (p + 1) * 100 * M, state: 'stored' },
      ]);
    }
    expect(calls).toEqual([]);
    await writer.flush();
    expect(calls).toEqual([400]);
    expect(await storage.coverage('candles', key)).toEqual([{ from: 0, to: 400 * M, state: 'stored' }]);
  });

  test('behavior: with idleMs, a burst is written once it goes quiet; a steady trickle still goes at the time bound', async () => {
    const storage = new MemoryStorage();
    const calls: { rows: number; at: number }[] = [];
    const write = storage.write.bind(storage);
    const t0 = Date.now();
    storage.write = (async (kind, rows, options) => {
      calls.push({ rows: rows.length, at: Date.now() - t0 });
      return write(kind, rows, options);
    }) as typeof storage.write;
    const writer = new BatchWriter({
      storage,
      maxRows: 10_000,
      maxDelayMs: 1_000,
      idleMs: 100,
      retryForMs: 0,
      onRetry: () => {},
      onFailed: () => {},
      onCommitted: () => {},
    });
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // A burst of 50 rows over about 50 ms: one write, soon after the last row (not at 600 ms).
    for (let i = 0; i < 50; i++) {
      await writer.add('candles', 's', [candle(i * M)], []);
      if (i % 10 === 9) await pause(10);
    }
    await pause(300);
    expect(calls.map((c) => c.rows)).toEqual([50]);
    expect(calls[0]!.at).toBeLessThan(700);
    // A row every 10 ms for 1.5 s never goes quiet: the 1 s bound still writes it.
    calls.length = 0;
    const start = Date.now() - t0;
    for (let i = 0; i < 150; i++) {
      await writer.add('candles', 's', [candle((100 + i) * M)], []);
      await pause(10);
    }
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls[0]!.at - start).toBeGreaterThanOrEqual(900);
    await writer.flush();
    expect(await storage.latest('candles', key)).toBe(249 * M);
  });

  test('resilience: a write whose connection failed is retried; a refused one fails its series', async () => {
    const storage = new MemoryStorage();
    let failures = 1;
    const write = storage.write.bind(storage);
    storage.write = (async (kind, rows, options) => {
      if (failures-- > 0)
        throw new StorageError('write failed: the connection was lost; nothing was written');
      return write(kind, rows, options);
    }) as typeof storage.write;
    const retries: number[] = [];
    const failed: string[] = [];
    const writer = new BatchWriter({
      storage,
      maxRows: 10,
      maxDelayMs: 5,
      retryForMs: 5_000,
      onRetry: ({ attempt }) => retries.push(attempt),
      onFailed: (series) => failed.push(...series.keys()),
      onCommitted: () => {},
    });
    await writer.add('candles', 'a', [candle(0)], []);
    await writer.flush();
    expect(retries).toEqual([1]);
    expect(failed).toEqual([]);
    expect(await storage.latest('candles', key)).toBe(0);
    storage.write = (async () => {
      throw new StorageError('write failed: the database refused it; nothing was written');
    }) as typeof storage.write;
    await writer.add('candles', 'b', [candle(M)], []);
    await writer.flush();
    expect(failed).toEqual(['b']);
  });

  test('default: which storage failures are worth another try', () => {
    expect(
      isRetryableStorage(
        new StorageError('write failed: could not connect to the database; nothing was written'),
      ),
    ).toBe(true);
    expect(isRetryableStorage(new StorageError('x', { committed: 'unknown' }))).toBe(true);
    expect(
      isRetryableStorage(new StorageError('write failed: the database refused it; nothing was written')),
    ).toBe(false);
    expect(isRetryableStorage(new InvalidArgumentError('bad row'))).toBe(false);
  });
});

describe('chunkRetryDelay', () => {
  test('default: bans wait for the venue, network failures back off, validation is final', async () => {
    const { RateLimitError, NetworkError, HttpError } = await import('../../src/core/errors.js');
    const ctx = { venue: 'binance', endpoint: '/fapi/v1/klines' };
    expect(
      chunkRetryDelay(new RateLimitError('banned', { ...ctx, banned: true, retryAt: 10_500 }), 1, 10_000),
    ).toBe(500);
    expect(
      chunkRetryDelay(
        new RateLimitError('banned', { ...ctx, banned: true, retryAt: 10_000 + 86_400_000 }),
        1,
        10_000,
      ),
    ).toBeUndefined();
    const reset = chunkRetryDelay(new NetworkError('reset', ctx), 2, 0) as number;
    expect(reset >= 1_000 && reset <= 2_000).toBe(true); // jittered, doubling
    const oops = chunkRetryDelay(new HttpError('oops', { ...ctx, status: 502 }), 1, 0) as number;
    expect(oops >= 500 && oops <= 1_000).toBe(true);
    expect(chunkRetryDelay(new HttpError('bad', { ...ctx, status: 400 }), 1, 0)).toBeUndefined();
    expect(chunkRetryDelay(new ValidationError(ctx, [], {}), 1, 0)).toBeUndefined();
  });
});

describe('new Sync() validates its options eagerly', () => {
  const storage = new MemoryStorage();
  const binance = new BinanceClient({ baseUrl: 'http://127.0.0.1:9' });
  const ok = { storage, clients: [binance], symbols: ['BTC'], from: '2024-01-01' };
  test.each([
    [{ ...ok, clients: [] }, /clients must be a non-empty array/],
    [{ ...ok, clients: [binance, binance] }, /one client per venue/],
    [{ ...ok, symbols: ['BTC', 'btc'] }, /listed twice/],
    [{ ...ok, symbols: ['MT'] }, /derived market token/],
    [{ ...ok, symbols: ['BTC-USDT'] }, /not a canonical symbol/],
    [{ ...ok, kinds: ['candle'] }, /unknown kind "candle"/],
    [{ ...ok, intervals: { candles: ['7m'] } }, /unknown interval "7m"/],
    [{ ...ok, from: 'yesterday' }, /from is not a valid time/],
    [{ ...ok, to: '2023-01-01' }, /to must not be before from/],
    [{ ...ok, derive: { rsi: [1] } }, /derive.rsi: 1 is not a period/],
    [{ ...ok, derive: { expandTo1m: ['candles'] } }, /cannot be expanded/],
    [{ ...ok, batchRows: 0 }, /batchRows must be a positive integer/],
    [{ ...ok, color: 'red' }, /unknown option "color"/],
  ])('error: %#', (options, message) => {
    expect(() => new Sync(options as never)).toThrow(InvalidArgumentError);
    expect(() => new Sync(options as never)).toThrow(message);
  });
});
