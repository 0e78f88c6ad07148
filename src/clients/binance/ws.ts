/**
 * Binance USDⓈ-M market streams (reference §1.5): the `/market` socket path, `SUBSCRIBE` in batches,
 * 1,024 streams and 10 incoming messages per second per connection, server ping frames (answered by
 * undici), a forced cut at 24 h (we reconnect at 23 h), closed candles flagged `k.x`.
 */
import { UnsupportedError } from '../../core/errors.js';
import { type Interval, intervalMs } from '../../core/intervals.js';
import type { Candle, Liquidation, OpenInterest, PredictedFunding } from '../../core/types.js';
import { binanceWsCandle, binanceWsFunding, binanceWsLiquidation } from '../../normalize/binance.js';
import { frameJson, normaliseAt, type PayloadSite, payloadError, validateAt } from '../../normalize/guard.js';
import type { InstrumentInfo, SymbolRegistry } from '../../normalize/symbols.js';
import { loadRegistry, type RegistrySource } from '../ws/plan.js';
import {
  CandleSequencer,
  type FetchClosed,
  FundingChanges,
  LiquidationBuckets,
  type LiquidationEvent,
} from '../ws/processors.js';
import { type LiveStream, type StreamPlan, shardTopics } from '../ws/stream.js';
import type {
  TopicSpec,
  WatchCandlesParams,
  WatchLiquidationsParams,
  WatchOpenInterestParams,
  WatchSymbolsParams,
  WsContext,
  WsFrame,
  WsProtocol,
} from '../ws/types.js';
import { openStream, symbolPlan } from '../ws/venue.js';
import * as raw from './ws-schemas.js';

/** Production stream host. */
export const BINANCE_WS_URL = 'wss://fstream.binance.com';
/** Venue limits of one market-stream connection. */
export const BINANCE_WS_LIMITS = {
  /** Streams per connection (raised from 200 to 1,024 on 2025-07-02). */
  maxStreamsPerConnection: 1024,
  /** Incoming messages per second per connection (pings, pongs and control messages count). */
  messagesPerSecond: 10,
  /** Streams per `SUBSCRIBE` message (ours, to keep frames small). */
  streamsPerRequest: 200,
  /** The venue cuts a connection after 24 h; we replace it after 23 h. */
  lifetimeMs: 23 * 3_600_000,
} as const;

const OTHER = [{ type: 'other' }] as const;
/** A kline frame whose candle is still open (`"x":false`, with or without the recorded `", "` spacing). */
const OPEN_KLINE = /^\{"(?:stream|e)":"[^"]*(?:kline|@kline_[^"]*)".*"x":\s*false/;

type Decoder<T> = (payload: Record<string, unknown>) => WsFrame<T>;

/** The socket path every market stream shares; errors name it as their endpoint. */
const SOCKET_PATH = '/market/ws';
const SOCKET: PayloadSite = { venue: 'binance', endpoint: SOCKET_PATH };
const KLINE: PayloadSite = { ...SOCKET, channel: 'kline' };
const MARK_PRICE: PayloadSite = { ...SOCKET, channel: 'markPrice' };
const FORCE_ORDER: PayloadSite = { ...SOCKET, channel: 'forceOrder' };

/** One frame's text to frames; anything unexpected throws (`decode` makes it a `ValidationError`). */
function decodeText<T>(text: string, decodeEvent: Decoder<T>): readonly WsFrame<T>[] {
  const msg = frameJson(SOCKET, text);
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new TypeError('not an object');
  const obj = msg as Record<string, unknown>;
  if ('id' in obj && ('result' in obj || 'error' in obj)) {
    const answer = validateAt(SOCKET, raw.controlAnswer, obj);
    const id = answer.id === null ? undefined : String(answer.id);
    if (answer.error) return [{ type: 'refused', id, message: answer.error.msg, code: answer.error.code }];
    return [{ type: 'ack', id }];
  }
  // Combined-stream frames wrap the event as { stream, data }.
  const payload =
    'stream' in obj && typeof obj.data === 'object' && obj.data !== null
      ? (obj.data as Record<string, unknown>)
      : obj;
  return [decodeEvent(payload)];
}

/** The Binance protocol for one connection; `decode` turns one event payload into records. */
export function binanceProtocol<T>(wsUrl: string, decodeEvent: Decoder<T>): WsProtocol<T> {
  return {
    venue: 'binance',
    url: `${wsUrl.replace(/\/$/, '')}/market/ws`,
    subscribe(topics, nextId) {
      return shardTopics(topics, BINANCE_WS_LIMITS.streamsPerRequest).map((params) => {
        const id = nextId();
        return {
          id,
          topics: params,
          message: JSON.stringify({ method: 'SUBSCRIBE', params, id: Number(id) }),
        };
      });
    },
    // Half the venue's cap: the pongs undici sends count too.
    sendLimits: [{ limit: BINANCE_WS_LIMITS.messagesPerSecond / 2, intervalMs: 1_000 }],
    // The venue pings us; on a quiet socket an idle LIST_SUBSCRIPTIONS proves the socket still answers.
    heartbeat: { mode: 'idle', everyMs: 60_000, message: '{"method":"LIST_SUBSCRIPTIONS","id":0}' },
    deadAfterMs: 90_000,
    maxLifetimeMs: BINANCE_WS_LIMITS.lifetimeMs,
    // 300 connection attempts per 5 minutes per IP (documented for spot).
    connectSpacingMs: 1_000,
    decode(text) {
      // Fast path: open-candle updates (4 a second per symbol) only prove the socket is alive.
      if (OPEN_KLINE.test(text)) return OTHER;
      try {
        return decodeText(text, decodeEvent);
      } catch (cause) {
        throw payloadError(SOCKET, cause, text);
      }
    },
  };
}

/** `btcusdt@kline_1m` */
export function binanceKlineTopic(instrument: string, interval: Interval): string {
  return `${instrument.toLowerCase()}@kline_${interval}`;
}

/** What `BinanceStreams` needs: where to connect, how to map symbols, and REST for gap fill. */
export interface BinanceStreamsOptions extends WsContext {
  /** Canonical symbol ↔ instrument map (or a loader such as `client.registry()`). */
  readonly registry: RegistrySource;
  /** Closed candles over REST for gap fill (`BinanceClient` passes its `candles()`). */
  readonly fetchClosed?: ((interval: Interval) => FetchClosed) | undefined;
}

/**
 * Binance USDⓈ-M live streams. `BinanceClient.watch*` delegate here; use it directly to stream with
 * your own REST fetcher.
 * @example
 * const streams = new BinanceStreams({ registry, fetchClosed: (interval) => (symbol, from, to, signal) => client.candles({ symbol, interval, from, to, signal }) });
 * for await (const candle of streams.candles({ symbols: ['BTC'], interval: '1m' })) console.log(candle);
 */
export class BinanceStreams {
  readonly #o: BinanceStreamsOptions;

  constructor(options: BinanceStreamsOptions) {
    this.#o = options;
  }

  #url(): string {
    return this.#o.wsUrl ?? BINANCE_WS_URL;
  }

  #plan<T>(
    symbols: readonly string[],
    topicOf: (i: InstrumentInfo) => TopicSpec,
    decoder: (byInstrument: Map<string, InstrumentInfo>) => Decoder<T>,
    maxPerConnection: number | undefined,
  ): () => Promise<StreamPlan<T>> {
    const size = Math.min(
      maxPerConnection ?? BINANCE_WS_LIMITS.maxStreamsPerConnection,
      BINANCE_WS_LIMITS.maxStreamsPerConnection,
    );
    return symbolPlan<T>(
      'binance',
      this.#o.registry,
      symbols,
      topicOf,
      (byInstrument) => binanceProtocol(this.#url(), decoder(byInstrument)),
      size,
    );
  }

  /** Closed candles of `symbols`, each once and in order per symbol, with gap fill after reconnects. */
  candles(params: WatchCandlesParams): LiveStream<Candle> {
    const { interval } = params;
    const cadenceMs = interval === '1M' ? undefined : intervalMs(interval);
    const fetchClosed = this.#o.fetchClosed?.(interval);
    return openStream<Candle>(
      'binance',
      this.#o,
      params,
      this.#plan<Candle>(
        params.symbols,
        (i) => ({ id: binanceKlineTopic(i.instrument, interval), symbol: i.symbol, cadenceMs }),
        (byInstrument) => (payload) => {
          if (payload.e !== 'kline') return { type: 'other' };
          const k = payload.k as { x?: unknown; i?: unknown } | undefined;
          // Open-candle updates (every 250 ms) only prove the socket is alive: skip validating them.
          if (k?.x !== true || k.i !== interval) return { type: 'other' };
          const event = validateAt(KLINE, raw.klineEvent, payload);
          const instrument = byInstrument.get(event.s);
          if (!instrument) return { type: 'other' };
          const candle = normaliseAt(KLINE, payload, () =>
            binanceWsCandle(event.k, { instrument, interval }),
          );
          return { type: 'data', topic: binanceKlineTopic(event.s, interval), records: [candle], beat: true };
        },
        params.maxTopicsPerConnection,
      ),
      (ctx) =>
        new CandleSequencer(
          { interval, gapFill: params.gapFill ?? true, fetchClosed, venue: 'binance' },
          ctx,
        ),
    );
  }

  /** The accruing funding rate of `symbols` (`@markPrice@1s`), yielded when the rate or next funding time changes. */
  funding(params: WatchSymbolsParams): LiveStream<PredictedFunding> {
    return openStream<PredictedFunding>(
      'binance',
      this.#o,
      params,
      this.#plan<PredictedFunding>(
        params.symbols,
        (i) => ({ id: `${i.instrument.toLowerCase()}@markPrice@1s`, symbol: i.symbol, cadenceMs: 10_000 }),
        (byInstrument) => (payload) => {
          if (payload.e !== 'markPriceUpdate') return { type: 'other' };
          const event = validateAt(MARK_PRICE, raw.markPriceEvent, payload);
          const instrument = byInstrument.get(event.s);
          if (!instrument) return { type: 'other' };
          return {
            type: 'data',
            topic: `${event.s.toLowerCase()}@markPrice@1s`,
            beat: true,
            records: [normaliseAt(MARK_PRICE, payload, () => binanceWsFunding(event, { instrument }))],
          };
        },
        params.maxTopicsPerConnection,
      ),
      (ctx) => new FundingChanges(ctx),
    );
  }

  /** Not streamed by Binance: open interest is REST only (`openInterest()`). */
  openInterest(_params: WatchOpenInterestParams): LiveStream<OpenInterest> {
    throw new UnsupportedError('Binance does not stream open interest; poll BinanceClient.openInterest');
  }

  /**
   * Liquidations summed per symbol and `interval` (`@forceOrder`, or `!forceOrder@arr` when `symbols`
   * is omitted). `longUsd` = longs liquidated (Binance order side `SELL`). Binance pushes at most one
   * liquidation per symbol per second, so totals under-count during cascades.
   */
  liquidations(params: WatchLiquidationsParams): LiveStream<Liquidation> {
    const interval = params.interval ?? '1m';
    const all = params.symbols === undefined;
    const decoder =
      (byInstrument: Map<string, InstrumentInfo>, registry?: SymbolRegistry): Decoder<LiquidationEvent> =>
      (payload) => {
        if (payload.e !== 'forceOrder') return { type: 'other' };
        const event = validateAt(FORCE_ORDER, raw.forceOrderEvent, payload);
        const instrument = registry
          ? registry.findInstrument('binance', event.o.s)
          : byInstrument.get(event.o.s);
        if (!instrument) return { type: 'other' };
        return {
          type: 'data',
          topic: all ? '!forceOrder@arr' : `${event.o.s.toLowerCase()}@forceOrder`,
          records: [normaliseAt(FORCE_ORDER, payload, () => binanceWsLiquidation(event.o, instrument))],
        };
      };
    const plan: () => Promise<StreamPlan<LiquidationEvent>> = all
      ? async () => {
          const registry = await loadRegistry(this.#o.registry);
          return {
            connections: [
              {
                protocol: binanceProtocol(this.#url(), decoder(new Map(), registry)),
                topics: [{ id: '!forceOrder@arr' }],
              },
            ],
          };
        }
      : this.#plan(
          params.symbols ?? [],
          (i) => ({ id: `${i.instrument.toLowerCase()}@forceOrder`, symbol: i.symbol }),
          (byInstrument) => decoder(byInstrument),
          params.maxTopicsPerConnection,
        );
    return openStream<Liquidation>(
      'binance',
      this.#o,
      params,
      plan,
      (ctx) => new LiquidationBuckets({ interval, exchange: 'binance' }, ctx),
    );
  }
}
