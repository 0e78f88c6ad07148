/**
 * Bybit v5 public linear streams (reference §2.4): `/v5/public/linear`, `subscribe` requests whose
 * `args` stay under 21,000 characters, `{"op":"ping"}` every 20 s, closed candles flagged `confirm`,
 * tickers as a snapshot followed by deltas to merge, all liquidations in `allLiquidation.{symbol}`.
 */
import { UnsupportedError } from '../../core/errors.js';
import { type Interval, intervalMs } from '../../core/intervals.js';
import type { Candle, Liquidation, OpenInterest, PredictedFunding } from '../../core/types.js';
import {
  type BybitTicker,
  bybitTickerFunding,
  bybitTickerOpenInterest,
  bybitWsCandle,
  bybitWsLiquidation,
} from '../../normalize/bybit.js';
import { frameJson, normaliseAt, type PayloadSite, payloadError, validateAt } from '../../normalize/guard.js';
import type { InstrumentInfo } from '../../normalize/symbols.js';
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
import { batchByLength, openStream, symbolPlan } from '../ws/venue.js';
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

/** The socket path of every public linear stream; errors name it as their endpoint. */
const SOCKET: PayloadSite = { venue: 'bybit', endpoint: '/v5/public/linear' };
const KLINE: PayloadSite = { ...SOCKET, channel: 'kline' };
const TICKERS: PayloadSite = { ...SOCKET, channel: 'tickers' };
const LIQUIDATION: PayloadSite = { ...SOCKET, channel: 'allLiquidation' };

/** A topic push as the protocol hands it to a stream's decoder. */
export interface BybitPush {
  readonly topic: string;
  readonly type?: string | undefined;
  /** When the venue sent it, epoch ms. */
  readonly ts: number;
  readonly data: unknown;
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
export function bybitProtocol<T>(wsUrl: string, decodePush: (push: BybitPush) => WsFrame<T>): WsProtocol<T> {
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
      try {
        return decodeText(text, decodePush);
      } catch (cause) {
        throw payloadError(SOCKET, cause, text);
      }
    },
  };
}

/** One frame's text to frames; anything unexpected throws (`decode` makes it a `ValidationError`). */
function decodeText<T>(text: string, decodePush: (push: BybitPush) => WsFrame<T>): readonly WsFrame<T>[] {
  const msg = frameJson(SOCKET, text);
  if (typeof msg !== 'object' || msg === null) throw new TypeError('not an object');
  const obj = msg as Record<string, unknown>;
  if (typeof obj.op === 'string') {
    const a = validateAt(SOCKET, raw.opAnswer, obj);
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
  if (typeof obj.topic === 'string') return [decodePush(validateAt(SOCKET, raw.push, obj))];
  return [{ type: 'other' }];
}

type Ticker = BybitTicker & { readonly symbol: string };

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
            const ctx = { instrument, interval };
            const records: Candle[] = [];
            for (const item of p.data) {
              const row = validateAt(KLINE, raw.klineRow, item);
              if (row.confirm) records.push(normaliseAt(KLINE, item, () => bybitWsCandle(row, ctx)));
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
    toRecord: (ticker: Ticker, instrument: InstrumentInfo, time: number) => R | undefined,
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
            const data = validateAt(TICKERS, raw.tickerData, p.data);
            const instrument = byInstrument.get(data.symbol);
            if (!instrument) return { type: 'other' };
            const merged = book.apply(p.type, data);
            const record = normaliseAt(TICKERS, p.data, () => toRecord(merged, instrument, p.ts));
            return { type: 'data', topic: p.topic, records: record === undefined ? [] : [record] };
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
      (t, instrument, time) => bybitTickerFunding(t, { instrument, time }),
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
      (t, instrument, time) => bybitTickerOpenInterest(t, { instrument, interval, time }),
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
              const row = validateAt(LIQUIDATION, raw.liquidationRow, item);
              const instrument = byInstrument.get(row.s);
              if (instrument)
                records.push(normaliseAt(LIQUIDATION, item, () => bybitWsLiquidation(row, instrument)));
            }
            return { type: 'data', topic: p.topic, records };
          }),
        this.#perConnection(params.maxTopicsPerConnection),
      ),
      (ctx) => new LiquidationBuckets({ interval, exchange: 'bybit' }, ctx),
    );
  }
}
