/**
 * OKX v5 streams (reference §3.4): candles on `/ws/v5/business`, funding, open interest and
 * liquidations on `/ws/v5/public`; `subscribe` requests with at most 64 KB of `args` and 480 requests
 * per connection per hour; text `ping` after 25 s of silence, answered by a plain-text `pong`; a
 * `notice` event before a service upgrade (we reconnect at once); closed candles flagged `confirm: "1"`.
 */
import { ValidationError } from '../../core/errors.js';
import { type Interval, intervalMs } from '../../core/intervals.js';
import type { Candle, Liquidation, OpenInterest, PredictedFunding } from '../../core/types.js';
import { num, numOrUndefined } from '../../normalize/numbers.js';
import type { InstrumentInfo } from '../../normalize/symbols.js';
import type { Schema } from '../transport/index.js';
import { loadRegistry, type RegistrySource } from '../ws/plan.js';
import {
  CandleSequencer,
  type FetchClosed,
  FundingChanges,
  LiquidationBuckets,
  type LiquidationEvent,
  OpenInterestSampler,
} from '../ws/processors.js';
import type { LiveStream, StreamPlan } from '../ws/stream.js';
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
import { batchByLength, openStream, parseFrame, symbolPlan } from '../ws/venue.js';
import { okxBar } from './intervals.js';
import * as raw from './ws-schemas.js';

/** Production stream host. */
export const OKX_WS_URL = 'wss://ws.okx.com:8443';
/** Limits of one OKX connection. */
export const OKX_WS_LIMITS = {
  /** Bytes of `args` in one request. */
  maxArgsBytes: 64 * 1024,
  /** Subscribe/unsubscribe/login requests per connection per hour. */
  requestsPerHour: 480,
  /** Channels per connection: OKX documents none for public channels; ours. */
  topicsPerConnection: 500,
  /** The server drops a connection after 30 s without data; we ping after this much silence. */
  pingAfterMs: 20_000,
} as const;

/** OKX's candle channel suffix (`candle` + the REST `bar`, UTC-aligned); throws `UnsupportedError` for `8h`. */
export function okxWsBar(interval: Interval): string {
  return okxBar(interval);
}

function parse<T>(schema: Schema<T>, payload: unknown, endpoint: string): T {
  return parseFrame('okx', schema, payload, endpoint);
}

/** Topic id of a subscription argument: `candle1m:BTC-USDT-SWAP`, `liquidation-orders:SWAP`. */
export function okxTopic(a: {
  channel: string;
  instId?: string | undefined;
  instType?: string | undefined;
}): string {
  return `${a.channel}:${a.instId ?? a.instType ?? ''}`;
}

function argOf(topic: string): { channel: string; instId?: string; instType?: string } {
  const i = topic.indexOf(':');
  const channel = topic.slice(0, i);
  const rest = topic.slice(i + 1);
  return channel === 'liquidation-orders' ? { channel, instType: rest } : { channel, instId: rest };
}

/** The OKX protocol for one connection on `path` (`/ws/v5/business` or `/ws/v5/public`). */
export function okxProtocol<T>(
  wsUrl: string,
  path: '/ws/v5/business' | '/ws/v5/public',
  decodePush: (push: (typeof raw.push)['_output']) => WsFrame<T>,
): WsProtocol<T> {
  return {
    venue: 'okx',
    url: `${wsUrl.replace(/\/$/, '')}${path}`,
    subscribe(topics, nextId) {
      return batchByLength(topics.map(argOf), OKX_WS_LIMITS.maxArgsBytes - 512).map((args) => {
        const id = nextId();
        return { id, topics: args.map(okxTopic), message: JSON.stringify({ id, op: 'subscribe', args }) };
      });
    },
    sendLimits: [{ limit: OKX_WS_LIMITS.requestsPerHour, intervalMs: 3_600_000, subscribeOnly: true }],
    heartbeat: { mode: 'idle', everyMs: OKX_WS_LIMITS.pingAfterMs, message: 'ping' },
    deadAfterMs: 40_000,
    // 3 new connections per second per IP.
    connectSpacingMs: 400,
    decode(text) {
      // The heartbeat answer is plain text, not JSON.
      if (text === 'pong') return [{ type: 'pong' }];
      const obj = JSON.parse(text) as Record<string, unknown>;
      if (typeof obj !== 'object' || obj === null) {
        throw new ValidationError(
          { venue: 'okx', endpoint: 'ws' },
          [{ path: [], message: 'not an object' }],
          text,
        );
      }
      if (typeof obj.event === 'string') {
        const e = parse(raw.event, obj, 'ws event');
        if (e.event === 'subscribe')
          return [{ type: 'ack', id: e.id, topics: e.arg ? [okxTopic(e.arg)] : undefined }];
        if (e.event === 'notice') return [{ type: 'notice', message: e.msg ?? '' }];
        if (e.event === 'error') {
          const message = e.msg ?? 'error';
          // "…channel:candle1m,instId:BTC-USDT doesn't exist…" names the refused argument.
          const channel = /channel:([\w-]+)/.exec(message)?.[1];
          const instId = /instId:([\w-]+)/.exec(message)?.[1];
          const topics = e.arg ? [okxTopic(e.arg)] : channel && instId ? [`${channel}:${instId}`] : undefined;
          return [
            {
              type: 'refused',
              id: e.id,
              topics,
              message,
              code: e.code,
              unknownSymbol: /doesn't exist|does not exist|51001|60018/.test(`${message} ${e.code ?? ''}`),
            },
          ];
        }
        return [{ type: 'other' }];
      }
      if (typeof obj.arg === 'object') return [decodePush(parse(raw.push, obj, 'ws push'))];
      return [{ type: 'other' }];
    },
  };
}

/** An OKX candle row to a canonical candle; volume from `volCcy` (base coin), quote volume from `volCcyQuote`. */
export function okxWsCandle(
  row: readonly [string, string, string, string, string, string, string, string, string],
  instrument: InstrumentInfo,
  interval: Interval,
): Candle {
  const m = instrument.multiplier;
  return {
    source: 'okx',
    exchange: 'okx',
    symbol: instrument.symbol,
    interval,
    ts: num(row[0], 'ts'),
    open: num(row[1], 'open') / m,
    high: num(row[2], 'high') / m,
    low: num(row[3], 'low') / m,
    close: num(row[4], 'close') / m,
    volume: num(row[6], 'volCcy') * m,
    quoteVolume: numOrUndefined(row[7]),
  };
}

/** What `OkxStreams` needs: where to connect, how to map symbols, and REST for gap fill. */
export interface OkxStreamsOptions extends WsContext {
  /** Canonical symbol ↔ instrument map (or a loader such as `client.registry()`). `contractSize` = `ctVal`. */
  readonly registry: RegistrySource;
  /** Closed candles over REST for gap fill. */
  readonly fetchClosed?: ((interval: Interval) => FetchClosed) | undefined;
}

/**
 * OKX v5 SWAP live streams; `OkxClient.watch*` delegate here.
 * @example
 * const streams = new OkxStreams({ registry: () => okx.registry(), fetchClosed: (interval) => (symbol, from, to, signal) => okx.candles({ symbol, interval, from, to, signal }) });
 * for await (const candle of streams.candles({ symbols: ['BTC'], interval: '1m' })) console.log(candle);
 */
export class OkxStreams {
  readonly #o: OkxStreamsOptions;

  constructor(options: OkxStreamsOptions) {
    this.#o = options;
  }

  #url(): string {
    return this.#o.wsUrl ?? OKX_WS_URL;
  }

  /** Closed candles (`confirm: "1"`) from `/ws/v5/business`, each once and in order per symbol, with gap fill. */
  candles(params: WatchCandlesParams): LiveStream<Candle> {
    const { interval } = params;
    const channel = `candle${okxWsBar(interval)}`;
    const cadenceMs = interval === '1M' ? undefined : intervalMs(interval);
    const fetchClosed = this.#o.fetchClosed?.(interval);
    return openStream<Candle>(
      'okx',
      this.#o,
      params,
      symbolPlan<Candle>(
        'okx',
        this.#o.registry,
        params.symbols,
        (i) => ({ id: okxTopic({ channel, instId: i.instrument }), symbol: i.symbol, cadenceMs }),
        (byInstrument) =>
          okxProtocol<Candle>(this.#url(), '/ws/v5/business', (p) => {
            const instrument = p.arg.instId === undefined ? undefined : byInstrument.get(p.arg.instId);
            if (p.arg.channel !== channel || !instrument) return { type: 'other' };
            const records: Candle[] = [];
            for (const item of p.data) {
              const row = parse(raw.candleRow, item, channel);
              if (row[8] === '1') records.push(okxWsCandle(row, instrument, interval));
            }
            return { type: 'data', topic: okxTopic(p.arg), records, beat: records.length > 0 };
          }),
        params.maxTopicsPerConnection ?? OKX_WS_LIMITS.topicsPerConnection,
      ),
      (ctx) =>
        new CandleSequencer({ interval, gapFill: params.gapFill ?? true, fetchClosed, venue: 'okx' }, ctx),
    );
  }

  #public<T, R>(
    params: WatchSymbolsParams,
    channel: string,
    cadenceMs: number | undefined,
    rows: (data: readonly unknown[], instrument: InstrumentInfo) => T[],
    processor: Parameters<typeof openStream<R>>[4],
  ): LiveStream<R> {
    return openStream<R>(
      'okx',
      this.#o,
      params,
      symbolPlan<T>(
        'okx',
        this.#o.registry,
        params.symbols,
        (i): TopicSpec => ({ id: okxTopic({ channel, instId: i.instrument }), symbol: i.symbol, cadenceMs }),
        (byInstrument) =>
          okxProtocol<T>(this.#url(), '/ws/v5/public', (p) => {
            const instrument = p.arg.instId === undefined ? undefined : byInstrument.get(p.arg.instId);
            if (p.arg.channel !== channel || !instrument) return { type: 'other' };
            return { type: 'data', topic: okxTopic(p.arg), records: rows(p.data, instrument), beat: true };
          }),
        params.maxTopicsPerConnection ?? OKX_WS_LIMITS.topicsPerConnection,
      ),
      processor,
    );
  }

  /** The current-period funding rate (`funding-rate`, pushed every 30–90 s), on change; `nextFundingTime` = when it settles. */
  funding(params: WatchSymbolsParams): LiveStream<PredictedFunding> {
    return this.#public<PredictedFunding, PredictedFunding>(
      params,
      'funding-rate',
      120_000,
      (data, instrument) =>
        data.map((item) => {
          const r = parse(raw.fundingRow, item, 'funding-rate');
          return {
            source: 'okx',
            exchange: 'okx',
            symbol: instrument.symbol,
            ts: num(r.ts, 'ts'),
            rate: num(r.fundingRate, 'fundingRate'),
            nextFundingTime: numOrUndefined(r.fundingTime),
          };
        }),
      (ctx) => new FundingChanges(ctx),
    );
  }

  /** One-sided open interest in base units (`oiCcy`) and USD, one sample per `interval`. */
  openInterest(params: WatchOpenInterestParams): LiveStream<OpenInterest> {
    const interval = params.interval ?? '1m';
    return this.#public<OpenInterest, OpenInterest>(
      params,
      'open-interest',
      undefined,
      (data, instrument) =>
        data.map((item) => {
          const r = parse(raw.openInterestRow, item, 'open-interest');
          return {
            source: 'okx',
            exchange: 'okx',
            symbol: instrument.symbol,
            interval,
            ts: num(r.ts, 'ts'),
            openInterest: num(r.oiCcy, 'oiCcy') * instrument.multiplier,
            openInterestUsd: numOrUndefined(r.oiUsd),
          };
        }),
      (ctx) => new OpenInterestSampler(interval, ctx),
    );
  }

  /**
   * Liquidations of every SWAP (`liquidation-orders`, subscribed by `instType`), kept for `symbols`
   * when given, summed per symbol and period. `side: "sell"` (posSide long) = longs liquidated;
   * notional = `sz` × `ctVal` × `bkPx`. OKX says the feed is not complete and may be out of order:
   * a late event re-yields its period with updated totals.
   */
  liquidations(params: WatchLiquidationsParams): LiveStream<Liquidation> {
    const interval = params.interval ?? '1m';
    const wanted = params.symbols ? new Set(params.symbols.map((s) => s.toUpperCase())) : undefined;
    const plan = async (): Promise<StreamPlan<LiquidationEvent>> => {
      const registry = await loadRegistry(this.#o.registry);
      const protocol = okxProtocol<LiquidationEvent>(this.#url(), '/ws/v5/public', (p) => {
        if (p.arg.channel !== 'liquidation-orders') return { type: 'other' };
        const records: LiquidationEvent[] = [];
        for (const item of p.data) {
          const row = parse(raw.liquidationRow, item, 'liquidation-orders');
          const instrument = registry.findInstrument('okx', row.instId);
          if (!instrument || (wanted && !wanted.has(instrument.symbol.toUpperCase()))) continue;
          const ctVal = instrument.contractSize ?? 1;
          for (const d of row.details) {
            const long = d.posSide === 'long' || (d.posSide !== 'short' && d.side === 'sell');
            records.push({
              symbol: instrument.symbol,
              ts: num(d.ts, 'ts'),
              side: long ? 'long' : 'short',
              usd: num(d.sz, 'sz') * ctVal * num(d.bkPx, 'bkPx'),
            });
          }
        }
        return { type: 'data', topic: okxTopic(p.arg), records };
      });
      return { connections: [{ protocol, topics: [{ id: 'liquidation-orders:SWAP' }] }] };
    };
    return openStream<Liquidation>(
      'okx',
      this.#o,
      params,
      plan,
      (ctx) => new LiquidationBuckets({ interval, exchange: 'okx', lateMs: 5_000 }, ctx),
    );
  }
}
