/**
 * The main generic signatures, checked by the compiler (`npm run typecheck` covers test/; vitest runs
 * the file, where `expectTypeOf` is a no-op): `write(kind, rows)` takes only that kind's rows,
 * `history(kind, …)` yields that kind's records on every venue client, `Sync` events carry their own
 * payload types. The consumer test checks the same on the emitted declarations.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type {
  BinanceClient,
  BybitClient,
  CoinalyzeClient,
  HistoryKind,
  OkxClient,
} from '../../src/clients/index.js';
import type {
  Candle,
  DataKind,
  FundingRate,
  IndicatorValue,
  LongShortRatio,
  OpenInterest,
  RecordOf,
  SeriesRef,
  SeriesReport,
} from '../../src/index.js';
import type { Sync, SyncEvents } from '../../src/pipeline/index.js';
import type { StorageAdapter, WriteResult } from '../../src/storage/index.js';
import { MemoryStorage } from '../../src/storage/index.js';

const candles: Candle[] = [];
const funding: FundingRate[] = [];
const ratios: LongShortRatio[] = [];

describe('public generic signatures', () => {
  it('default: storage.write(kind, rows) accepts only that kind’s rows', () => {
    const storage: StorageAdapter = new MemoryStorage();
    expectTypeOf(storage.write<'candles'>)
      .parameter(1)
      .toEqualTypeOf<Candle[]>();
    expectTypeOf(storage.write<'indicators'>)
      .parameter(1)
      .toEqualTypeOf<IndicatorValue[]>();
    expectTypeOf(storage.write<'candles'>).returns.toEqualTypeOf<Promise<WriteResult>>();
    expectTypeOf(storage.write).toBeCallableWith('funding', funding);
    expectTypeOf(storage.write).toBeCallableWith('longShortRatio', ratios);
    // Never called: the compiler checks the calls.
    const misuse = () => {
      // @ts-expect-error funding rows are not candles
      void storage.write('candles', funding);
      // @ts-expect-error candles are not open interest
      void storage.write('openInterest', candles);
      // @ts-expect-error not a data kind
      void storage.write('trades', candles);
    };
    expectTypeOf(misuse).toBeFunction();
    // read() yields what write() takes.
    expectTypeOf(storage.read<'funding'>).returns.toEqualTypeOf<AsyncIterable<FundingRate[]>>();
    expectTypeOf<RecordOf<'openInterest'>>().toEqualTypeOf<OpenInterest>();
  });

  it('default: client.history(kind, …) yields that kind’s records on every venue client', () => {
    type Clients = BinanceClient | BybitClient | OkxClient | CoinalyzeClient;
    const check = <C extends Clients>(client: C) => {
      expectTypeOf(client.history<'candles'>).returns.toEqualTypeOf<AsyncIterable<Candle[]>>();
      expectTypeOf(client.history<'funding'>).returns.toEqualTypeOf<AsyncIterable<FundingRate[]>>();
      expectTypeOf(client.history<'longShortRatio'>).returns.toEqualTypeOf<AsyncIterable<LongShortRatio[]>>();
      const params = { symbol: 'BTC', interval: '5m', from: 0, to: 1 } as const;
      expectTypeOf(client.history('openInterest', params)).toEqualTypeOf<AsyncIterable<OpenInterest[]>>();
      // @ts-expect-error indicators are derived, not fetched
      void client.history('indicators', params);
      // @ts-expect-error from and to are required
      void client.history('candles', { symbol: 'BTC' });
    };
    expectTypeOf(check).toBeFunction();
    expectTypeOf<HistoryKind>().toEqualTypeOf<Exclude<DataKind, 'indicators'>>();
  });

  it('default: Sync events are typed: on(event, listener) hands the listener that event’s payload', () => {
    const listen = (sync: Sync) => {
      const off = sync.on('progress', (e) => {
        expectTypeOf(e).toEqualTypeOf<SyncEvents['progress']>();
        expectTypeOf(e.series).toEqualTypeOf<SeriesRef>();
        expectTypeOf(e.done).toBeNumber();
        expectTypeOf(e.total).toBeNumber();
        expectTypeOf(e.rows).toBeNumber();
      });
      expectTypeOf(off).toEqualTypeOf<() => void>();
      sync.on('seriesDone', (e) => expectTypeOf(e.report).toEqualTypeOf<SeriesReport>());
      sync.on('gap', (e) => expectTypeOf(e.reason).toBeString());
      sync.on('error', (e) => expectTypeOf(e.error).toEqualTypeOf<Error>());
      sync.on('retry', (e) => expectTypeOf(e.error).toBeUnknown());
      sync.on('reconnected', (e) => expectTypeOf(e.downtimeMs).toBeNumber());
      sync.on('stalled', (e) => expectTypeOf(e.symbol).toEqualTypeOf<string | undefined>());
      expectTypeOf(sync.on<'warning'>)
        .parameter(1)
        .parameter(0)
        .toEqualTypeOf<SyncEvents['warning']>();
      expectTypeOf(sync.off<'banned'>)
        .parameter(1)
        .parameter(0)
        .toEqualTypeOf<SyncEvents['banned']>();
      // @ts-expect-error progress has no reason
      sync.on('progress', (e) => e.reason);
      // @ts-expect-error no such event
      sync.on('finished', () => {});
    };
    expectTypeOf(listen).toBeFunction();
  });
});
