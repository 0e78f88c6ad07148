/**
 * The one suite every `StorageAdapter` runs: the same tests with the same expectations for MemoryStorage,
 * PostgresStorage on PGlite and PostgresStorage on a real server.
 */
import { describe, expect, test } from 'vitest';
import { InvalidArgumentError, StorageError } from '../../src/core/errors.js';
import { type Candle, DATA_KINDS, type DataKind, type SeriesKey } from '../../src/core/types.js';
import type { ConflictPolicy, CoverageMark, StatusReader, StorageAdapter } from '../../src/storage/index.js';
import { BTC_1M, candles, collect, MINUTE, SAMPLES, T0 } from './fixtures.js';

/** A storage under test plus its status reader. */
export type TestStorage = StorageAdapter & StatusReader;

/** Opens a fresh, empty, migrated storage. */
export type OpenStorage = (options?: {
  onConflict?: ConflictPolicy;
  readPageSize?: number;
}) => Promise<TestStorage>;

const END = Date.UTC(2100, 0, 1) - 1;

/** Registers the shared suite for one adapter. */
export function storageContract(name: string, open: OpenStorage): void {
  describe(`StorageAdapter contract: ${name}`, () => {
    test('behavior: migrate() can run again on a migrated storage', async () => {
      const storage = await open();
      await expect(storage.migrate()).resolves.toBeUndefined();
      await expect(storage.migrate()).resolves.toBeUndefined();
      expect(await storage.write('candles', candles(2))).toEqual({ written: 2 });
    });

    test('default: every kind round-trips, ts as epoch ms, ascending, optional fields absent when not written', async () => {
      const storage = await open();
      for (const kind of DATA_KINDS) {
        const { key, rows } = SAMPLES[kind];
        expect(await storage.write(kind, rows), kind).toEqual({ written: rows.length });
        const { rows: back } = await collect(storage.read(kind, key, T0, END));
        expect(back, kind).toEqual(rows);
        for (const row of back) {
          for (const value of Object.values(row)) {
            expect(value, `${kind} has no null/NaN`).not.toBeNull();
            expect(Number.isNaN(value), `${kind} has no NaN`).toBe(false);
          }
        }
        expect(await storage.latest(kind, key), kind).toBe(rows[rows.length - 1]?.ts);
      }
    });

    test('behavior: millisecond timestamps and extreme float values round-trip exactly', async () => {
      const storage = await open();
      const times = [0, 1, T0 + 123, T0 + 999, Date.UTC(2099, 11, 31, 23, 59, 59, 999)];
      const values = [0.1 + 0.2, 1e-12, -1.7976931348623157e308, 5e-324, 123456789.12345679];
      const rows = times.map((ts, i) => ({
        ...candles(1)[0],
        ts,
        open: values[i] as number,
        high: values[(i + 1) % 5] as number,
        trades: Number.MAX_SAFE_INTEGER - i,
      })) as Candle[];
      expect(await storage.write('candles', rows)).toEqual({ written: 5 });
      const { rows: back } = await collect(storage.read('candles', BTC_1M, 0, END + 1));
      expect(back).toEqual(rows);
      expect(await storage.latest('candles', BTC_1M)).toBe(times[4]);
      const funding = { source: 'okx', exchange: 'okx', symbol: 'ETH', ts: T0 + 7, rate: 1e-9 } as const;
      const predicted = {
        ...funding,
        source: 'bybit',
        exchange: 'bybit',
        nextFundingTime: T0 + 28_800_001,
      } as const;
      await storage.write('funding', [funding]);
      await storage.write('predictedFunding', [predicted]);
      expect((await collect(storage.read('funding', funding, T0, END))).rows).toEqual([funding]);
      expect((await collect(storage.read('predictedFunding', predicted, T0, END))).rows).toEqual([predicted]);
    });

    test('behavior: writing the same rows again writes 0 and stores no duplicates', async () => {
      const storage = await open();
      const rows = candles(50);
      expect(await storage.write('candles', rows)).toEqual({ written: 50 });
      expect(await storage.write('candles', rows)).toEqual({ written: 0 });
      expect(await storage.write('candles', rows.slice(10, 20))).toEqual({ written: 0 });
      const { rows: back } = await collect(storage.read('candles', BTC_1M, T0, END));
      expect(back).toEqual(rows);
    });

    test("default: onConflict 'update' replaces changed rows and counts only those", async () => {
      const storage = await open();
      const rows = candles(10);
      await storage.write('candles', rows);
      const changed = rows.map((r, i) => (i % 3 === 0 ? { ...r, close: r.close + 1, trades: undefined } : r));
      expect(await storage.write('candles', changed)).toEqual({ written: 4 });
      const { rows: back } = await collect(storage.read('candles', BTC_1M, T0, END));
      expect(back).toEqual(changed.map((r) => JSON.parse(JSON.stringify(r))));
      expect(back[0]).not.toHaveProperty('trades');
    });

    test("behavior: onConflict 'ignore' keeps stored rows and counts only new ones", async () => {
      const storage = await open({ onConflict: 'ignore' });
      const rows = candles(10);
      await storage.write('candles', rows.slice(0, 5));
      const changed = rows.map((r) => ({ ...r, close: -1 }));
      expect(await storage.write('candles', changed)).toEqual({ written: 5 });
      const { rows: back } = await collect(storage.read('candles', BTC_1M, T0, END));
      expect(back.map((r) => r.close)).toEqual([...rows.slice(0, 5).map((r) => r.close), -1, -1, -1, -1, -1]);
    });

    test("behavior: a key repeated within one batch is stored once; the last row wins under 'update'", async () => {
      const storage = await open();
      const [a, b] = candles(2) as [Candle, Candle];
      const batch = [a, b, { ...a, close: 1 }, { ...a, close: 2 }];
      expect(await storage.write('candles', batch)).toEqual({ written: 2 });
      const { rows: back } = await collect(storage.read('candles', BTC_1M, T0, END));
      expect(back.map((r) => [r.ts, r.close])).toEqual([
        [T0, 2],
        [T0 + MINUTE, b.close],
      ]);
    });

    test("behavior: a key repeated within one batch is stored once; the first row wins under 'ignore'", async () => {
      const storage = await open({ onConflict: 'ignore' });
      const [a] = candles(1);
      if (!a) throw new Error('fixture');
      expect(await storage.write('candles', [a, { ...a, close: 1 }, { ...a, close: 2 }])).toEqual({
        written: 1,
      });
      const { rows: back } = await collect(storage.read('candles', BTC_1M, T0, END));
      expect(back.map((r) => r.close)).toEqual([a.close]);
    });

    test('behavior: latest() is null for an empty series and isolates series by every key field', async () => {
      const storage = await open();
      expect(await storage.latest('candles', BTC_1M)).toBeNull();
      await storage.write('candles', candles(5));
      await storage.write('candles', candles(9, 0, { symbol: 'ETH' }));
      await storage.write('candles', candles(7, 0, { interval: '5m' }));
      await storage.write('candles', candles(8, 0, { source: 'coinalyze' }));
      expect(await storage.latest('candles', BTC_1M)).toBe(T0 + 4 * MINUTE);
      expect(await storage.latest('candles', { ...BTC_1M, symbol: 'ETH' })).toBe(T0 + 8 * MINUTE);
      expect(await storage.latest('candles', { ...BTC_1M, interval: '5m' })).toBe(T0 + 6 * MINUTE);
      expect(await storage.latest('candles', { ...BTC_1M, source: 'coinalyze' })).toBe(T0 + 7 * MINUTE);
      expect(await storage.latest('candles', { ...BTC_1M, exchange: 'okx' })).toBeNull();
      expect(
        await storage.latest('funding', { source: 'binance', exchange: 'binance', symbol: 'BTC' }),
      ).toBeNull();

      const ratio = SAMPLES.longShortRatio;
      await storage.write('longShortRatio', ratio.rows);
      expect(await storage.latest('longShortRatio', ratio.key)).toBe(T0 + 5 * MINUTE);
      expect(await storage.latest('longShortRatio', { ...ratio.key, kind: 'global' })).toBeNull();
      const rsi = SAMPLES.indicators;
      await storage.write('indicators', rsi.rows);
      expect(await storage.latest('indicators', rsi.key)).toBe(T0 + MINUTE);
      expect(await storage.latest('indicators', { ...rsi.key, kind: 'rsi7' })).toBeNull();
    });

    test('behavior: read() covers [from, to) ascending in pages of at most readPageSize', async () => {
      const storage = await open({ readPageSize: 4 });
      const rows = candles(12);
      await storage.write('candles', rows);
      const { rows: back, sizes } = await collect(
        storage.read('candles', BTC_1M, T0 + MINUTE, T0 + 10 * MINUTE),
      );
      expect(back.map((r) => r.ts)).toEqual(rows.slice(1, 10).map((r) => r.ts));
      expect(sizes).toEqual([4, 4, 1]);
      expect((await collect(storage.read('candles', BTC_1M, T0 + MINUTE, T0 + MINUTE))).rows).toEqual([]);
      expect((await collect(storage.read('candles', BTC_1M, T0 + 50 * MINUTE, END))).rows).toEqual([]);
    });

    test('behavior: rows written out of order, over several batches, are read back ascending', async () => {
      const storage = await open();
      const rows = candles(20);
      const shuffled = [...rows].sort((a, b) => ((a.ts * 7919) % 20) - ((b.ts * 7919) % 20));
      await storage.write('candles', shuffled.slice(0, 7));
      await storage.write('candles', shuffled.slice(7));
      const { rows: back } = await collect(storage.read('candles', BTC_1M, 0, END));
      expect(back).toEqual(rows);
    });

    test('behavior: breaking out of read() early leaves the storage usable', async () => {
      const storage = await open({ readPageSize: 2 });
      await storage.write('candles', candles(10));
      let pages = 0;
      for await (const page of storage.read('candles', BTC_1M, T0, END)) {
        pages++;
        expect(page).toHaveLength(2);
        break;
      }
      expect(pages).toBe(1);
      expect(await storage.write('candles', candles(2, 10))).toEqual({ written: 2 });
      expect(await storage.latest('candles', BTC_1M)).toBe(T0 + 11 * MINUTE);
    });

    test('behavior: a batch spanning many series is written whole', async () => {
      const storage = await open();
      const rows = ['BTC', 'ETH', 'SOL', 'PEPE'].flatMap((symbol) => candles(25, 0, { symbol }));
      expect(await storage.write('candles', rows)).toEqual({ written: 100 });
      for (const symbol of ['BTC', 'ETH', 'SOL', 'PEPE']) {
        expect(await storage.latest('candles', { ...BTC_1M, symbol })).toBe(T0 + 24 * MINUTE);
      }
    });

    test('behavior: an empty batch writes 0', async () => {
      const storage = await open();
      expect(await storage.write('candles', [])).toEqual({ written: 0 });
    });

    const invalid: [string, Record<string, unknown>, RegExp][] = [
      ['NaN value', { open: Number.NaN }, /row 1 open is NaN; expected a finite number/],
      ['Infinity value', { volume: Number.POSITIVE_INFINITY }, /volume is Infinity/],
      ['missing required value', { close: undefined }, /close is missing; it is required/],
      ['null required value', { high: null }, /high is missing/],
      ['number as string', { low: '40000' }, /low is "40000"; expected a finite number/],
      ['missing key field', { symbol: undefined }, /symbol is missing/],
      ['empty symbol', { symbol: '' }, /symbol is ""; expected a non-empty string/],
      ['NUL in symbol', { symbol: 'BT\u0000C' }, /must not contain NUL/],
      ['unknown interval', { interval: '7m' }, /interval is "7m"/],
      ['unknown source', { source: 'kraken' }, /source is "kraken"/],
      ['ts not an integer', { ts: T0 + 0.5 }, /ts is .*; expected integer epoch milliseconds/],
      ['negative ts', { ts: -1 }, /ts is -1/],
      ['non-integer trades', { trades: 1.5 }, /trades is 1.5; expected an integer/],
      ['NaN optional value', { quoteVolume: Number.NaN }, /quoteVolume is NaN/],
    ];
    test.each(invalid)(
      'error: a batch with one row with %s is refused whole, nothing written',
      async (_, patch, message) => {
        const storage = await open();
        const rows = candles(3);
        const bad = [rows[0], { ...rows[1], ...patch }, rows[2]] as typeof rows;
        const error = await storage.write('candles', bad).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect((error as Error).message).toMatch(message);
        expect(await storage.latest('candles', BTC_1M)).toBeNull();
      },
    );

    test('error: a row that is not an object, and rows that are not an array, are refused', async () => {
      const storage = await open();
      await expect(storage.write('candles', [null] as never)).rejects.toThrow(
        /row 0 \(row\) expected an object/,
      );
      await expect(storage.write('candles', 'x' as never)).rejects.toThrow(/rows must be an array/);
    });

    test('error: an unknown kind and series keys missing what the kind needs are refused', async () => {
      const storage = await open();
      await expect(storage.write('trades' as DataKind, [])).rejects.toThrow(InvalidArgumentError);
      const noInterval: SeriesKey = { source: 'binance', exchange: 'binance', symbol: 'BTC' };
      await expect(storage.latest('candles', noInterval)).rejects.toThrow(/series key interval is missing/);
      expect(() => storage.read('indicators', { ...BTC_1M }, T0, END)).toThrow(/series key kind is missing/);
      expect(() => storage.read('longShortRatio', { ...BTC_1M, kind: 'whales' }, T0, END)).toThrow(
        /series key kind is "whales"/,
      );
      expect(() => storage.read('candles', BTC_1M, T0 + 1, T0)).toThrow(/from .* is after to/);
      expect(() => storage.read('candles', BTC_1M, Number.NaN, T0)).toThrow(/from is NaN/);
    });

    test('default: logStatus() keeps the latest status per job and series', async () => {
      const storage = await open();
      await storage.logStatus({ job: 'backfill', status: 'running', ts: T0 });
      await storage.logStatus({
        job: 'backfill',
        status: 'running',
        series: BTC_1M,
        progress: 0.25,
        ts: T0 + 1,
      });
      await storage.logStatus({
        job: 'backfill',
        status: 'done',
        series: BTC_1M,
        progress: 1,
        message: 'caught up',
        ts: T0 + 2,
      });
      await storage.logStatus({ job: 'live', status: 'error', message: 'socket closed', ts: T0 + 3 });
      expect(await storage.listStatus()).toEqual([
        { job: 'backfill', status: 'running', ts: T0 },
        { job: 'backfill', status: 'done', series: BTC_1M, progress: 1, message: 'caught up', ts: T0 + 2 },
        { job: 'live', status: 'error', message: 'socket closed', ts: T0 + 3 },
      ]);
      expect(await storage.listStatus('live')).toHaveLength(1);
    });

    test('behavior: logStatus() does not let an older report replace a newer one', async () => {
      const storage = await open();
      await storage.logStatus({ job: 'backfill', status: 'done', ts: T0 + 10 });
      await storage.logStatus({ job: 'backfill', status: 'running', ts: T0 + 5 });
      expect((await storage.listStatus()).map((s) => s.status)).toEqual(['done']);
    });

    test('default: logError() appends job, series, code, message, ts and detail; newest first', async () => {
      const storage = await open();
      await storage.logError({ job: 'backfill', message: 'first', ts: T0 });
      await storage.logError({
        job: 'backfill',
        message: 'HTTP 429 from binance',
        code: 'RATE_LIMITED',
        series: BTC_1M,
        ts: T0 + 1,
        detail: { status: 429, retryAfter: 30, endpoint: '/fapi/v1/klines' },
      });
      await storage.logError({ job: 'live', message: 'other job', ts: T0 + 2 });
      expect(await storage.listErrors({ job: 'backfill' })).toEqual([
        {
          job: 'backfill',
          message: 'HTTP 429 from binance',
          code: 'RATE_LIMITED',
          series: BTC_1M,
          ts: T0 + 1,
          detail: { status: 429, retryAfter: 30, endpoint: '/fapi/v1/klines' },
        },
        { job: 'backfill', message: 'first', ts: T0 },
      ]);
      expect((await storage.listErrors({ limit: 1 })).map((e) => e.message)).toEqual(['other job']);
    });

    test('behavior: logError() and logStatus() store no secrets', async () => {
      const storage = await open();
      const secrets = ['hunter2pass', 'AKIA1234SECRETKEY', 'sig0123456789abcdef', 'tok-98765-secret'];
      await storage.logError({
        job: 'backfill',
        message: `connect failed: postgres://user:hunter2pass@db.internal:5432/prod (api_key=AKIA1234SECRETKEY)`,
        code: 'NETWORK',
        detail: {
          apiKey: 'AKIA1234SECRETKEY',
          request: {
            url: 'https://api.example/v1?signature=sig0123456789abcdef',
            headers: { Authorization: 'tok-98765-secret' },
          },
          error: new Error('proxy http://bob:hunter2pass@10.0.0.1:8080 refused'),
        },
      });
      await storage.logStatus({
        job: 'backfill',
        status: 'error',
        message: 'via http://bob:hunter2pass@proxy:1',
      });
      const stored = JSON.stringify([await storage.listErrors(), await storage.listStatus()]);
      for (const secret of secrets) expect(stored).not.toContain(secret);
      expect(stored).toContain('db.internal:5432/prod');
    });

    test('error: logStatus() and logError() refuse malformed entries', async () => {
      const storage = await open();
      await expect(storage.logStatus({ job: '', status: 'done' })).rejects.toThrow(
        /job must be a non-empty string/,
      );
      await expect(storage.logStatus({ job: 'x', status: 'paused' as never })).rejects.toThrow(
        /status must be one of/,
      );
      await expect(storage.logStatus({ job: 'x', status: 'running', progress: Number.NaN })).rejects.toThrow(
        /progress/,
      );
      await expect(storage.logError({ job: 'x', message: 5 as never })).rejects.toThrow(
        /message must be a string/,
      );
    });

    const m = (from: number, to: number, over: Partial<CoverageMark> = {}): CoverageMark => ({
      key: BTC_1M,
      from: T0 + from * MINUTE,
      to: T0 + to * MINUTE,
      state: 'stored',
      ...over,
    });
    /** A ledger as `[from, to, state, reason?]` in minutes from T0, for short expectations. */
    const ledger = async (
      storage: TestStorage,
      key: SeriesKey = BTC_1M,
      kind: DataKind = 'candles',
      from?: number,
      to?: number,
    ) =>
      (await storage.coverage(kind, key, from, to)).map((iv) => {
        const out: unknown[] = [(iv.from - T0) / MINUTE, (iv.to - T0) / MINUTE, iv.state];
        if ('reason' in iv) out.push(iv.reason);
        return out;
      });

    test('default: coverage() of a series never marked is empty', async () => {
      const storage = await open();
      expect(await storage.coverage('candles', BTC_1M)).toEqual([]);
      await storage.write('candles', candles(10));
      expect(await storage.coverage('candles', BTC_1M)).toEqual([]);
    });

    test('behavior: marks commit with the rows; consecutive pages merge into one interval', async () => {
      const storage = await open();
      for (let page = 0; page < 5; page++) {
        const rows = candles(100, page * 100);
        expect(await storage.write('candles', rows, { coverage: [m(page * 100, page * 100 + 100)] })).toEqual(
          {
            written: 100,
          },
        );
      }
      expect(await storage.coverage('candles', BTC_1M)).toEqual([
        { from: T0, to: T0 + 500 * MINUTE, state: 'stored' },
      ]);
      expect(await storage.latest('candles', BTC_1M)).toBe(T0 + 499 * MINUTE);
    });

    test('behavior: a mark overwrites what the ledger said over its range (last write wins)', async () => {
      const storage = await open();
      await storage.write('candles', [], { coverage: [m(0, 100)] });
      await storage.write('candles', [], { coverage: [m(40, 60, { state: 'empty', reason: 'outage' })] });
      expect(await ledger(storage)).toEqual([
        [0, 40, 'stored'],
        [40, 60, 'empty', 'outage'],
        [60, 100, 'stored'],
      ]);
      await storage.write('candles', [], { coverage: [m(30, 70)] });
      expect(await ledger(storage)).toEqual([[0, 100, 'stored']]);
      // An empty mark over a larger range swallows what was stored there, and is itself overwritten.
      await storage.write('candles', [], { coverage: [m(-10, 200, { state: 'empty', reason: 'delisted' })] });
      expect(await ledger(storage)).toEqual([[-10, 200, 'empty', 'delisted']]);
      await storage.write('candles', [], { coverage: [m(-10, 0), m(190, 200)] });
      expect(await ledger(storage)).toEqual([
        [-10, 0, 'stored'],
        [0, 190, 'empty', 'delisted'],
        [190, 200, 'stored'],
      ]);
    });

    test('behavior: the marks of one write apply in order; equal neighbours merge, different reasons do not', async () => {
      const storage = await open();
      await storage.write('candles', [], {
        coverage: [
          m(0, 10, { state: 'empty', reason: 'before listing' }),
          m(10, 20, { state: 'empty', reason: 'before listing' }),
          m(20, 30, { state: 'empty', reason: 'no data from venue' }),
          m(30, 40, { state: 'empty' }),
          m(40, 50),
          m(45, 60),
          m(55, 58, { state: 'empty', reason: 'gap' }),
          m(55, 58),
        ],
      });
      expect(await ledger(storage)).toEqual([
        [0, 20, 'empty', 'before listing'],
        [20, 30, 'empty', 'no data from venue'],
        [30, 40, 'empty'],
        [40, 60, 'stored'],
      ]);
    });

    test('behavior: holes stay holes; coverage(from, to) clips to the range and [t, t) is empty', async () => {
      const storage = await open();
      await storage.write('candles', candles(10), { coverage: [m(0, 10)] });
      await storage.write('candles', candles(10, 20), { coverage: [m(20, 30)] });
      await storage.write('candles', [], { coverage: [m(40, 50, { state: 'empty', reason: 'outage' })] });
      expect(await ledger(storage)).toEqual([
        [0, 10, 'stored'],
        [20, 30, 'stored'],
        [40, 50, 'empty', 'outage'],
      ]);
      expect(await ledger(storage, BTC_1M, 'candles', T0 + 5 * MINUTE, T0 + 25 * MINUTE)).toEqual([
        [5, 10, 'stored'],
        [20, 25, 'stored'],
      ]);
      expect(await ledger(storage, BTC_1M, 'candles', T0 + 10 * MINUTE, T0 + 20 * MINUTE)).toEqual([]);
      expect(await ledger(storage, BTC_1M, 'candles', T0 + 45 * MINUTE)).toEqual([
        [45, 50, 'empty', 'outage'],
      ]);
      expect(await ledger(storage, BTC_1M, 'candles', undefined, T0 + MINUTE)).toEqual([[0, 1, 'stored']]);
      expect(await storage.coverage('candles', BTC_1M, T0 + 5 * MINUTE, T0 + 5 * MINUTE)).toEqual([]);
      expect(
        await storage.coverage('candles', BTC_1M, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY),
      ).toHaveLength(3);
      // Filling the hole joins its neighbours.
      await storage.write('candles', candles(10, 10), { coverage: [m(10, 20)] });
      expect(await ledger(storage)).toEqual([
        [0, 30, 'stored'],
        [40, 50, 'empty', 'outage'],
      ]);
    });

    test('behavior: a marks-only write records the marks and no rows', async () => {
      const storage = await open();
      expect(
        await storage.write('candles', [], {
          coverage: [m(0, 60, { state: 'empty', reason: 'before listing' })],
        }),
      ).toEqual({ written: 0 });
      expect(await storage.latest('candles', BTC_1M)).toBeNull();
      expect(await ledger(storage)).toEqual([[0, 60, 'empty', 'before listing']]);
      expect(await storage.write('candles', [], { coverage: [] })).toEqual({ written: 0 });
      expect(await storage.write('candles', candles(2), {})).toEqual({ written: 2 });
      expect(await ledger(storage)).toEqual([[0, 60, 'empty', 'before listing']]);
    });

    test('behavior: the ledger is kept per kind and per series key field', async () => {
      const storage = await open();
      const eth = { ...BTC_1M, symbol: 'ETH' };
      const fiveMin = { ...BTC_1M, interval: '5m' as const };
      const funding = { source: 'binance', exchange: 'binance', symbol: 'BTC' } as const;
      const ratio = { ...BTC_1M, interval: '5m' as const, kind: 'topAccount' };
      const rsi = { ...BTC_1M, kind: 'rsi14' };
      await storage.write('candles', [], {
        coverage: [m(0, 10), m(0, 20, { key: eth }), m(0, 30, { key: fiveMin })],
      });
      await storage.write('funding', [], { coverage: [m(0, 40, { key: funding })] });
      await storage.write('longShortRatio', [], { coverage: [m(0, 50, { key: ratio })] });
      await storage.write('indicators', [], { coverage: [m(0, 60, { key: rsi })] });
      expect(await ledger(storage)).toEqual([[0, 10, 'stored']]);
      expect(await ledger(storage, eth)).toEqual([[0, 20, 'stored']]);
      expect(await ledger(storage, fiveMin)).toEqual([[0, 30, 'stored']]);
      expect(await ledger(storage, funding, 'funding')).toEqual([[0, 40, 'stored']]);
      // Fields a kind does not key on are ignored, as for latest().
      expect(await ledger(storage, BTC_1M, 'funding')).toEqual([[0, 40, 'stored']]);
      expect(await ledger(storage, funding, 'predictedFunding')).toEqual([]);
      expect(await ledger(storage, ratio, 'longShortRatio')).toEqual([[0, 50, 'stored']]);
      expect(await ledger(storage, { ...ratio, kind: 'global' }, 'longShortRatio')).toEqual([]);
      expect(await ledger(storage, rsi, 'indicators')).toEqual([[0, 60, 'stored']]);
      expect(await ledger(storage, { ...rsi, kind: 'rsi7' }, 'indicators')).toEqual([]);
      expect(await ledger(storage, { ...BTC_1M, source: 'coinalyze' })).toEqual([]);
    });

    test('behavior: a refused row leaves no mark, and a refused mark leaves no row (all or nothing)', async () => {
      const storage = await open();
      const rows = candles(5);
      const bad = rows.map((r, i) => (i === 3 ? { ...r, close: Number.NaN } : r));
      await expect(storage.write('candles', bad, { coverage: [m(0, 5)] })).rejects.toThrow(
        /row 3 close is NaN/,
      );
      expect(await storage.coverage('candles', BTC_1M)).toEqual([]);
      await expect(storage.write('candles', rows, { coverage: [m(0, 5), m(5, 4)] })).rejects.toThrow(
        InvalidArgumentError,
      );
      expect(await storage.latest('candles', BTC_1M)).toBeNull();
      expect(await storage.coverage('candles', BTC_1M)).toEqual([]);
      expect(await storage.write('candles', rows, { coverage: [m(0, 5)] })).toEqual({ written: 5 });
      expect(await ledger(storage)).toEqual([[0, 5, 'stored']]);
    });

    test('behavior: concurrent writes of adjacent pages of one series leave one merged interval', async () => {
      const storage = await open();
      await Promise.all(
        Array.from({ length: 8 }, (_, page) =>
          storage.write('candles', candles(50, page * 50), { coverage: [m(page * 50, page * 50 + 50)] }),
        ),
      );
      expect(await ledger(storage)).toEqual([[0, 400, 'stored']]);
      expect((await collect(storage.read('candles', BTC_1M, T0, END))).rows).toHaveLength(400);
    });

    test('behavior: key values and reasons with quotes, dollars, backslashes and braces round-trip in the ledger', async () => {
      const storage = await open();
      const hostile = [`a'b"c`, '$p$x$p0$', 'x$p', '\\{1,2}\\', "'); DROP TABLE x; --", 'é ✓ "{NULL}"'];
      for (const symbol of hostile) {
        const key = { ...BTC_1M, symbol };
        const rsi = { ...BTC_1M, symbol, kind: `rsi"${symbol}` };
        // Three writes per series: the first, an extension of it, and a hole with a hostile reason.
        await storage.write('candles', candles(2, 0, { symbol }), { coverage: [m(0, 2, { key })] });
        await storage.write('candles', candles(2, 2, { symbol }), { coverage: [m(2, 4, { key })] });
        await storage.write('candles', [], { coverage: [m(6, 8, { key, state: 'empty', reason: symbol })] });
        await storage.write('indicators', [], { coverage: [m(0, 1, { key: rsi }), m(1, 2, { key: rsi })] });
        expect(await ledger(storage, key)).toEqual([
          [0, 4, 'stored'],
          [6, 8, 'empty', symbol],
        ]);
        expect(await ledger(storage, rsi, 'indicators')).toEqual([[0, 2, 'stored']]);
        expect(await storage.latest('candles', key)).toBe(T0 + 3 * MINUTE);
      }
    });

    const badMarks: [string, unknown, RegExp][] = [
      ['options not an object', 5, /write\('candles'\): options must be an object, got 5/],
      ['unknown option', { coverge: [] }, /unknown option "coverge"/],
      ['coverage not an array', { coverage: {} }, /options.coverage must be an array of marks, got object/],
      ['mark not an object', { coverage: [null] }, /coverage\[0\] must be an object, got null/],
      [
        'unknown mark field',
        { coverage: [{ ...m(0, 1), until: 5 }] },
        /coverage\[0\]: unknown option "until"/,
      ],
      [
        'missing key',
        { coverage: [{ ...m(0, 1), key: undefined }] },
        /coverage\[0\].key is missing; expected a series key/,
      ],
      [
        'key missing a field of the kind',
        { coverage: [m(0, 1, { key: { source: 'binance', exchange: 'binance', symbol: 'BTC' } })] },
        /coverage\[0\].key.interval is missing; expected a canonical interval/,
      ],
      [
        'unknown source',
        { coverage: [m(0, 1, { key: { ...BTC_1M, source: 'kraken' as never } })] },
        /coverage\[0\].key.source is "kraken"/,
      ],
      [
        'from not an integer',
        { coverage: [m(0, 1), { ...m(0, 1), from: T0 + 0.5 }] },
        /coverage\[1\].from is .*; expected integer epoch milliseconds/,
      ],
      ['from NaN', { coverage: [{ ...m(0, 1), from: Number.NaN }] }, /coverage\[0\].from is NaN/],
      ['to missing', { coverage: [{ ...m(0, 1), to: undefined }] }, /coverage\[0\].to is missing/],
      [
        'to after 2100',
        { coverage: [{ ...m(0, 1), to: Date.UTC(2100, 0, 2) }] },
        /coverage\[0\].to is .*between 1970 and 2100/,
      ],
      ['negative from', { coverage: [{ ...m(0, 1), from: -1 }] }, /coverage\[0\].from is -1/],
      [
        'from equal to to',
        { coverage: [m(5, 5)] },
        /coverage\[0\] is empty: from \(\d+\) must be before to \(\d+\)/,
      ],
      ['from after to', { coverage: [m(6, 5)] }, /coverage\[0\] is inverted/],
      [
        'unknown state',
        { coverage: [m(0, 1, { state: 'full' as never })] },
        /coverage\[0\].state is "full"; expected 'stored' or 'empty'/,
      ],
      [
        'reason on a stored mark',
        { coverage: [m(0, 1, { reason: 'x' })] },
        /coverage\[0\].reason is "x"; a reason applies only to 'empty' marks/,
      ],
      [
        'empty reason',
        { coverage: [m(0, 1, { state: 'empty', reason: '' })] },
        /coverage\[0\].reason is ""; expected a non-empty string/,
      ],
      [
        'reason too long',
        { coverage: [m(0, 1, { state: 'empty', reason: 'x'.repeat(201) })] },
        /at most 200 characters/,
      ],
      [
        'NUL in reason',
        { coverage: [m(0, 1, { state: 'empty', reason: 'a\u0000b' })] },
        /reason must not contain NUL/,
      ],
    ];
    test.each(badMarks)(
      'error: write() options with %s are refused, nothing written',
      async (_, options, message) => {
        const storage = await open();
        const error = await storage.write('candles', candles(2), options as never).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect((error as Error).message).toMatch(message);
        expect(await storage.latest('candles', BTC_1M)).toBeNull();
        expect(await storage.coverage('candles', BTC_1M)).toEqual([]);
      },
    );

    test('error: coverage() refuses a bad key or range', async () => {
      const storage = await open();
      await expect(storage.coverage('candles', { ...BTC_1M, interval: undefined })).rejects.toThrow(
        /coverage\('candles'\): series key interval is missing/,
      );
      await expect(storage.coverage('candles', BTC_1M, T0 + 1, T0)).rejects.toThrow(
        /coverage\('candles'\): from \(\d+\) is after to/,
      );
      await expect(storage.coverage('candles', BTC_1M, Number.NaN)).rejects.toThrow(/from is NaN/);
      await expect(storage.coverage('trades' as DataKind, BTC_1M)).rejects.toThrow(/Unknown data kind/);
    });

    test('error: calls after close() throw a StorageError', async () => {
      const storage = await open();
      await storage.close();
      await storage.close();
      await expect(storage.write('candles', candles(1))).rejects.toThrow(StorageError);
      await expect(storage.latest('candles', BTC_1M)).rejects.toThrow(/closed/);
      expect(() => storage.read('candles', BTC_1M, T0, END)).toThrow(StorageError);
      await expect(storage.logStatus({ job: 'x', status: 'done' })).rejects.toThrow(StorageError);
      await expect(storage.coverage('candles', BTC_1M)).rejects.toThrow(StorageError);
    });
  });
}
