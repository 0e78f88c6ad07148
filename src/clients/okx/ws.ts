/**
 * OKX v5 streams (reference §3.4): candles on `/ws/v5/business`, funding, open interest and
 * liquidations on `/ws/v5/public`; `subscribe` requests with at most 64 KB of `args` and 480 requests
 * per connection per hour; text `ping` after 25 s of silence, answered by a plain-text `pong`; a
 * `notice` event before a service upgrade (we reconnect at once); closed candles flagged `confirm: "1"`.
 */
import { type Interval, intervalMs } from '../../core/intervals.js';
import type { Candle, Liquidation, OpenInterest, PredictedFunding } from '../../core/types.js';
import { frameJson, normaliseAt, type PayloadSite, payloadError, validateAt } from '../../normalize/guard.js';
import { okxCurrentFunding, okxWsCandle, okxWsLiquidations, okxWsOpenInterest } from '../../normalize/okx.js';
import type { InstrumentInfo } from '../../normalize/symbols.js';
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
import { batchByLength, openStream, symbolPlan } from '../ws/venue.js';
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

/** The two socket paths: candles on `business`, everything else on `public`. */
type OkxSocketPath = '/ws/v5/business' | '/ws/v5/public';

/** Where a frame came from, for the error that names it. */
function siteOf(endpoint: OkxSocketPath, channel?: string): PayloadSite {
  return { venue: 'okx', endpoint, channel };
}

/** A channel push as the protocol hands it to a stream's decoder. */
export interface OkxPush {
  readonly arg: {
    readonly channel: string;
    readonly instId?: string | undefined;
    readonly instType?: string | undefined;
  };
  readonly data: readonly unknown[];
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
  path: OkxSocketPath,
  decodePush: (push: OkxPush) => WsFrame<T>,
): WsProtocol<T> {
  const site = siteOf(path);
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
      try {
        return decodeText(site, text, decodePush);
      } catch (cause) {
        throw payloadError(site, cause, text);
      }
    },
  };
}

/** One frame's JSON text to frames; anything unexpected throws (`decode` makes it a `ValidationError`). */
function decodeText<T>(
  site: PayloadSite,
  text: string,
  decodePush: (push: OkxPush) => WsFrame<T>,
): readonly WsFrame<T>[] {
  const msg = frameJson(site, text);
  if (typeof msg !== 'object' || msg === null) throw new TypeError('not an object');
  const obj = msg as Record<string, unknown>;
  if (typeof obj.event === 'string') {
    const e = validateAt(site, raw.event, obj);
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
  if (typeof obj.arg === 'object') return [decodePush(validateAt(site, raw.push, obj))];
  return [{ type: 'other' }];
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
    const site = siteOf('/ws/v5/business', channel);
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
            const ctx = { instrument, interval };
            const records: Candle[] = [];
            for (const item of p.data) {
              const row = validateAt(site, raw.candleRow, item);
              if (row[8] === '1') records.push(normaliseAt(site, item, () => okxWsCandle(row, ctx)));
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
    row: (item: unknown, instrument: InstrumentInfo, site: PayloadSite) => T,
    processor: Parameters<typeof openStream<R>>[4],
  ): LiveStream<R> {
    const site = siteOf('/ws/v5/public', channel);
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
            const records = p.data.map((item) => row(item, instrument, site));
            return { type: 'data', topic: okxTopic(p.arg), records, beat: true };
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
      (item, instrument, site) => {
        const r = validateAt(site, raw.fundingRow, item);
        return normaliseAt(site, item, () => okxCurrentFunding(r, { instrument }));
      },
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
      (item, instrument, site) => {
        const r = validateAt(site, raw.openInterestRow, item);
        return normaliseAt(site, item, () => okxWsOpenInterest(r, { instrument, interval }));
      },
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
      const site = siteOf('/ws/v5/public', 'liquidation-orders');
      const protocol = okxProtocol<LiquidationEvent>(this.#url(), '/ws/v5/public', (p) => {
        if (p.arg.channel !== 'liquidation-orders') return { type: 'other' };
        const records: LiquidationEvent[] = [];
        for (const item of p.data) {
          const row = validateAt(site, raw.liquidationRow, item);
          const instrument = registry.findInstrument('okx', row.instId);
          if (!instrument || (wanted && !wanted.has(instrument.symbol.toUpperCase()))) continue;
          records.push(...normaliseAt(site, item, () => okxWsLiquidations(row, instrument)));
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
