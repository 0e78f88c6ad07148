/**
 * Bybit v5 public linear streams (reference §2.4): `/v5/public/linear`, `subscribe` requests whose
 * `args` stay under 21,000 characters, `{"op":"ping"}` every 20 s, closed candles flagged `confirm`,
 * tickers as a snapshot followed by deltas to merge, all liquidations in `allLiquidation.{symbol}`.
 */
import { UnsupportedError, ValidationError } from '../../core/errors.js';
import { type Interval, intervalMs } from '../../core/intervals.js';
import type { Candle, Liquidation, OpenInterest, PredictedFunding } from '../../core/types.js';
import { num, numOrUndefined } from '../../normalize/numbers.js';
import type { InstrumentInfo } from '../../normalize/symbols.js';
import type { Schema } from '../transport/index.js';
import type { RegistrySource } from '../ws/plan.js';
import {
  CandleSequencer,
  type FetchClosed,
  FundingChanges,
  LiquidationBuckets,
  type LiquidationEvent,
  OpenInterestSampler,
} from '../ws/processors.js';
import type { LiveStream } from '../ws/stream.js';
import type {
  WatchCandlesParams,
  WatchLiquidationsParams,
  WatchOpenInterestParams,
  WatchSymbolsParams,
  WsContext,
  WsFrame,
  WsProtocol,
} from '../ws/types.js';
import { batchByLength, openStream, parseFrame, symbolPlan } from '../ws/venue.js';
import { bybitKlineInterval } from './intervals.js';
import * as raw from './ws-schemas.js';

/** Production stream host. */
export const BYBIT_WS_URL = 'wss://stream.bybit.com';
/** Limits of one public linear connection. */
export const BYBIT_WS_LIMITS = {
  /** Characters of the `args` array of one request. */
  maxArgsChars: 21_000,
  /** Topics per connection: Bybit sets no limit on linear; ours keeps reconnects (and their gap fills) small. */
  topicsPerConnection: 500,
  /** Client ping period. */
  pingEveryMs: 20_000,
} as const;

/** Bybit's kline topic interval (the REST spelling); throws `UnsupportedError` for `8h` and `3d`. */
export function bybitWsInterval(interval: Interval): string {
  return bybitKlineInterval(interval);
}

function parse<T>(schema: Schema<T>, payload: unknown, endpoint: string): T {
  return parseFrame('bybit', schema, payload, endpoint);
}

/** Topics a refusal names: `error:handler not found,topic:kline.1.X` or `Invalid symbol :[kline.1.X, …]`. */
function refusedTopics(message: string): string[] | undefined {
  const list = /\[([^\]]+)\]/.exec(message)?.[1];
  if (list)
    return list
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
  const one = /topic:([^\s,]+)/.exec(message)?.[1];
  return one ? [one] : undefined;
}

/** The Bybit protocol for one connection; `decodePush` turns one topic push into records. */
export function bybitProtocol<T>(
  wsUrl: string,
  decodePush: (push: (typeof raw.push)['_output']) => WsFrame<T>,
): WsProtocol<T> {
  return {
    venue: 'bybit',
    url: `${wsUrl.replace(/\/$/, '')}/v5/public/linear`,
    subscribe(topics, nextId) {
      return batchByLength(topics, BYBIT_WS_LIMITS.maxArgsChars - 100).map((args) => {
        const id = nextId();
        return { id, topics: args, message: JSON.stringify({ req_id: id, op: 'subscribe', args }) };
      });
    },
    sendLimits: [{ limit: 20, intervalMs: 1_000 }],
    heartbeat: {
      mode: 'interval',
      everyMs: BYBIT_WS_LIMITS.pingEveryMs,
      message: '{"req_id":"ping","op":"ping"}',
    },
    deadAfterMs: 45_000,
    // 500 new connections per 5 minutes per domain.
    connectSpacingMs: 600,
    decode(text) {
      const msg = JSON.parse(text) as unknown;
      if (typeof msg !== 'object' || msg === null) {
        throw new ValidationError(
          { venue: 'bybit', endpoint: 'ws' },
          [{ path: [], message: 'not an object' }],
          text,
        );
      }
      const obj = msg as Record<string, unknown>;
      if (typeof obj.op === 'string') {
        const a = parse(raw.opAnswer, obj, 'ws op');
        if (a.op === 'ping' || a.op === 'pong') return [{ type: 'pong' }];
        const id = a.req_id === '' ? undefined : a.req_id;
        if (a.success === false) {
          const message = a.ret_msg ?? 'refused';
          return [
            {
              type: 'refused',
              id,
              topics: refusedTopics(message),
              message,
              unknownSymbol: /invalid symbol|not found|not supported/i.test(message),
            },
          ];
        }
        return [{ type: 'ack', id }];
      }
      if (typeof obj.topic === 'string') return [decodePush(parse(raw.push, obj, 'ws push'))];
      return [{ type: 'other' }];
    },
  };
}

/** A Bybit kline row to a canonical candle (prices per base unit, volumes in base units). */
export function bybitWsCandle(
  row: (typeof raw.klineRow)['_output'],
  instrument: InstrumentInfo,
  interval: Interval,
): Candle {
  const m = instrument.multiplier;
  return {
    source: 'bybit',
    exchange: 'bybit',
    symbol: instrument.symbol,
    interval,
    ts: row.start,
    open: num(row.open, 'open') / m,
    high: num(row.high, 'high') / m,
    low: num(row.low, 'low') / m,
    close: num(row.close, 'close') / m,
    volume: num(row.volume, 'volume') * m,
    quoteVolume: numOrUndefined(row.turnover),
  };
}

/**
 * An `allLiquidation` row to a liquidation event. Bybit's `S` is the side of the **position**:
 * `Buy` = a long was liquidated (the opposite of Binance's order side). Notional = `v` × `p`.
 */
export function bybitWsLiquidation(
  row: (typeof raw.liquidationRow)['_output'],
  instrument: InstrumentInfo,
): LiquidationEvent {
  return {
    symbol: instrument.symbol,
    ts: row.T,
    side: row.S === 'Buy' ? 'long' : 'short',
    usd: num(row.v, 'v') * num(row.p, 'p'),
  };
}

type Ticker = (typeof raw.tickerData)['_output'];

/** Merges tickers snapshots and deltas per symbol (a delta carries only the fields that changed). */
class TickerBook {
  readonly #book = new Map<string, Ticker>();
  apply(type: string | undefined, data: Ticker): Ticker {
    const merged = type === 'delta' ? { ...(this.#book.get(data.symbol) ?? {}), ...data } : data;
    this.#book.set(data.symbol, merged);
    return merged;
  }
}

/** What `BybitStreams` needs: where to connect, how to map symbols, and REST for gap fill. */
export interface BybitStreamsOptions extends WsContext {
  /** Canonical symbol ↔ instrument map (or a loader such as `client.registry()`). */
  readonly registry: RegistrySource;
  /** Closed candles over REST for gap fill. */
  readonly fetchClosed?: ((interval: Interval) => FetchClosed) | undefined;
}

/**
 * Bybit v5 linear live streams; `BybitClient.watch*` delegate here.
 * @example
 * const streams = new BybitStreams({ registry: () => bybit.registry(), fetchClosed: (interval) => (symbol, from, to, signal) => bybit.candles({ symbol, interval, from, to, signal }) });
 * for await (const candle of streams.candles({ symbols: ['BTC'], interval: '1m' })) console.log(candle);
 */
export class BybitStreams {
  readonly #o: BybitStreamsOptions;

  constructor(options: BybitStreamsOptions) {
    this.#o = options;
  }

  #url(): string {
    return this.#o.wsUrl ?? BYBIT_WS_URL;
  }

  #perConnection(max: number | undefined): number {
    return max ?? BYBIT_WS_LIMITS.topicsPerConnection;
  }

  /** Closed candles (`confirm: true`), each once and in order per symbol, with gap fill after reconnects. */
  candles(params: WatchCandlesParams): LiveStream<Candle> {
    const { interval } = params;
    const code = bybitWsInterval(interval);
    const cadenceMs = interval === '1M' ? undefined : intervalMs(interval);
    const fetchClosed = this.#o.fetchClosed?.(interval);
    return openStream<Candle>(
      'bybit',
      this.#o,
      params,
      symbolPlan<Candle>(
        'bybit',
        this.#o.registry,
        params.symbols,
        (i) => ({ id: `kline.${code}.${i.instrument}`, symbol: i.symbol, cadenceMs }),
        (byInstrument) =>
          bybitProtocol<Candle>(this.#url(), (p) => {
            const instrument = byInstrument.get(p.topic.slice(p.topic.lastIndexOf('.') + 1));
            if (!p.topic.startsWith('kline.') || !instrument || !Array.isArray(p.data))
              return { type: 'other' };
            const records: Candle[] = [];
            for (const item of p.data) {
              const row = parse(raw.klineRow, item, 'kline');
              if (row.confirm) records.push(bybitWsCandle(row, instrument, interval));
            }
            return { type: 'data', topic: p.topic, records, beat: records.length > 0 };
          }),
        this.#perConnection(params.maxTopicsPerConnection),
      ),
      (ctx) =>
        new CandleSequencer({ interval, gapFill: params.gapFill ?? true, fetchClosed, venue: 'bybit' }, ctx),
    );
  }

  #tickers<R>(
    params: WatchSymbolsParams,
    toRecords: (ticker: Ticker, instrument: InstrumentInfo, ts: number) => R[],
    processor: Parameters<typeof openStream<R>>[4],
  ): LiveStream<R> {
    const book = new TickerBook();
    return openStream<R>(
      'bybit',
      this.#o,
      params,
      symbolPlan<R>(
        'bybit',
        this.#o.registry,
        params.symbols,
        (i) => ({ id: `tickers.${i.instrument}`, symbol: i.symbol }),
        (byInstrument) =>
          bybitProtocol<R>(this.#url(), (p) => {
            if (!p.topic.startsWith('tickers.')) return { type: 'other' };
            const data = parse(raw.tickerData, p.data, 'tickers');
            const instrument = byInstrument.get(data.symbol);
            if (!instrument) return { type: 'other' };
            const merged = book.apply(p.type, data);
            return { type: 'data', topic: p.topic, records: toRecords(merged, instrument, p.ts) };
          }),
        this.#perConnection(params.maxTopicsPerConnection),
      ),
      processor,
    );
  }

  /** The accruing funding rate from `tickers.{symbol}` (deltas merged into the snapshot), on change. */
  funding(params: WatchSymbolsParams): LiveStream<PredictedFunding> {
    return this.#tickers<PredictedFunding>(
      params,
      (t, instrument, ts) => {
        const rate = numOrUndefined(t.fundingRate);
        if (rate === undefined) return [];
        return [
          {
            source: 'bybit',
            exchange: 'bybit',
            symbol: instrument.symbol,
            ts,
            rate,
            nextFundingTime: numOrUndefined(t.nextFundingTime),
          },
        ];
      },
      (ctx) => new FundingChanges(ctx),
    );
  }

  /**
   * One-sided open interest in base units from `tickers.{symbol}`, one sample per `interval`.
   * Uses `singleOpenInterest` when present, else half of the two-sided `openInterest`.
   */
  openInterest(params: WatchOpenInterestParams): LiveStream<OpenInterest> {
    const interval = params.interval ?? '1m';
    return this.#tickers<OpenInterest>(
      params,
      (t, instrument, ts) => {
        const single = numOrUndefined(t.singleOpenInterest);
        const both = numOrUndefined(t.openInterest);
        const oi = single ?? (both === undefined ? undefined : both / 2);
        if (oi === undefined) return [];
        const singleUsd = numOrUndefined(t.singleOpenInterestValue);
        const bothUsd = numOrUndefined(t.openInterestValue);
        return [
          {
            source: 'bybit',
            exchange: 'bybit',
            symbol: instrument.symbol,
            interval,
            ts,
            openInterest: oi * instrument.multiplier,
            openInterestUsd: singleUsd ?? (bothUsd === undefined ? undefined : bothUsd / 2),
          },
        ];
      },
      (ctx) => new OpenInterestSampler(interval, ctx),
    );
  }

  /** Liquidations (`allLiquidation.{symbol}`) summed per symbol and period; `longUsd` = longs liquidated (`S: "Buy"`). */
  liquidations(params: WatchLiquidationsParams): LiveStream<Liquidation> {
    if (!params.symbols) throw new UnsupportedError('Bybit streams liquidations per symbol: pass symbols');
    const interval = params.interval ?? '1m';
    return openStream<Liquidation>(
      'bybit',
      this.#o,
      params,
      symbolPlan<LiquidationEvent>(
        'bybit',
        this.#o.registry,
        params.symbols,
        (i) => ({ id: `allLiquidation.${i.instrument}`, symbol: i.symbol }),
        (byInstrument) =>
          bybitProtocol<LiquidationEvent>(this.#url(), (p) => {
            if (!p.topic.startsWith('allLiquidation.') || !Array.isArray(p.data)) return { type: 'other' };
            const records: LiquidationEvent[] = [];
            for (const item of p.data) {
              const row = parse(raw.liquidationRow, item, 'allLiquidation');
              const instrument = byInstrument.get(row.s);
              if (instrument) records.push(bybitWsLiquidation(row, instrument));
            }
            return { type: 'data', topic: p.topic, records };
          }),
        this.#perConnection(params.maxTopicsPerConnection),
      ),
      (ctx) => new LiquidationBuckets({ interval, exchange: 'bybit' }, ctx),
    );
  }
}
