import type { PerpdataError } from '../../core/errors.js';
import type { Exchange } from '../../core/types.js';
import type { BackoffOptions } from '../transport/backoff.js';
import type { EgressPool } from '../transport/egress.js';
import type { Logger } from '../types.js';
import type { WsClock } from './clock.js';

/** What one decoded frame means to the connection. */
export type WsFrame<T> =
  /** Records of one topic; `beat` marks an item that proves the topic's cadence (a closed candle). */
  | { readonly type: 'data'; readonly topic: string; readonly records: readonly T[]; readonly beat?: boolean }
  /** A subscribe request was accepted (by request id, or naming the topics). */
  | {
      readonly type: 'ack';
      readonly id?: string | undefined;
      readonly topics?: readonly string[] | undefined;
    }
  /** A subscribe request, or some of its topics, was refused. */
  | {
      readonly type: 'refused';
      readonly id?: string | undefined;
      readonly topics?: readonly string[] | undefined;
      readonly message: string;
      readonly code?: string | number | undefined;
      /** The venue says the instrument does not exist (reported as `UnknownSymbolError`). */
      readonly unknownSymbol?: boolean | undefined;
    }
  /** An answer to our heartbeat. */
  | { readonly type: 'pong' }
  /** The venue will disconnect soon (OKX service upgrade): reconnect now. */
  | { readonly type: 'notice'; readonly message: string }
  /** Anything else (e.g. an unsolicited event); still proves the socket is alive. */
  | { readonly type: 'other' };

/** One outgoing control message and the topics it subscribes. */
export interface WsRequest {
  readonly id: string | undefined;
  readonly message: string;
  readonly topics: readonly string[];
}

/** A rate limit on messages the client sends on one connection. */
export interface SendLimit {
  readonly limit: number;
  readonly intervalMs: number;
  /** Counts only subscribe/unsubscribe requests (OKX), not heartbeats. */
  readonly subscribeOnly?: boolean | undefined;
}

/** How a venue speaks on one connection: the part of the lifecycle that differs per venue. */
export interface WsProtocol<T> {
  readonly venue: Exchange;
  /** Socket URL. */
  readonly url: string;
  /** Subscribe messages for `topics`, each within the venue's size limits. */
  subscribe(topics: readonly string[], nextId: () => string): WsRequest[];
  /** Limits on what the client sends per connection (Binance 10 messages/s, OKX 480 subscribe requests/h). */
  readonly sendLimits: readonly SendLimit[];
  /**
   * Client heartbeat: `interval` sends `message` every `everyMs` (Bybit), `idle` only after `everyMs`
   * without any frame (OKX text `ping`, Binance `LIST_SUBSCRIPTIONS`). Server ping frames are
   * answered by undici itself.
   */
  readonly heartbeat: {
    readonly mode: 'interval' | 'idle';
    readonly everyMs: number;
    readonly message: string;
  };
  /** Silence after which the connection is presumed dead (heartbeats unanswered). */
  readonly deadAfterMs: number;
  /** Reconnect proactively after this long (Binance cuts connections at 24 h). */
  readonly maxLifetimeMs?: number | undefined;
  /** Gap between opening the shards of one stream (OKX allows 3 new connections a second per IP). */
  readonly connectSpacingMs?: number | undefined;
  /** Decodes one text frame; throws on a malformed one. */
  decode(text: string): readonly WsFrame<T>[];
}

/** A topic of a stream and its expected cadence. */
export interface TopicSpec {
  /** The venue's topic id (`btcusdt@kline_1m`, `kline.1.BTCUSDT`, `candle1m:BTC-USDT-SWAP`). */
  readonly id: string;
  /** Canonical symbol, when the topic is one symbol's. */
  readonly symbol?: string | undefined;
  /** A beat (e.g. a closed candle) is due at least this often; `undefined` for topics that may be silent. */
  readonly cadenceMs?: number | undefined;
}

/** Why a connection is being replaced. */
export type ReconnectReason = 'closed' | 'error' | 'refused' | 'stall' | 'dead' | 'lifetime' | 'notice';

/** A missing stretch `[from, to)` of one symbol's closed candles after a reconnect. */
export interface GapWindow {
  readonly symbol: string;
  /** Start of the last closed candle delivered before the disconnect. */
  readonly lastClosedTs: number;
  /** Start of the first candle the new connection delivers live. */
  readonly firstNewTs: number;
}

/** Lifecycle events of a live stream. None of them is fatal; `error` is plain data. */
export interface StreamEvents {
  /** A connection opened for the first time and its subscriptions were sent. */
  connected: { readonly connection: number; readonly url: string; readonly topics: number };
  /** A connection dropped (or is being replaced) and will be retried after `delayMs`. */
  reconnecting: {
    readonly connection: number;
    readonly attempt: number;
    readonly delayMs: number;
    readonly reason: ReconnectReason;
    readonly error?: PerpdataError | undefined;
  };
  /**
   * A connection is back and resubscribed. For candles, `gaps` lists per symbol the window
   * `[lastClosedTs, firstNewTs)` whose inner candles were missed (filled over REST when `gapFill` is on).
   */
  reconnected: {
    readonly connection: number;
    readonly attempt: number;
    readonly downtimeMs: number;
    readonly gaps: readonly GapWindow[];
  };
  /** A topic missed its cadence (no closed candle in time). */
  stalled: {
    readonly connection: number;
    readonly topic: string;
    readonly symbol?: string | undefined;
    readonly silentMs: number;
  };
  /** Closed candles missed while disconnected were fetched over REST and yielded before live ones. */
  gapFilled: {
    readonly symbol: string;
    readonly from: number;
    readonly to: number;
    readonly candles: number;
  };
  /** A typed error as data: a refused topic, a malformed frame, a failed gap fill. The stream goes on. */
  error: {
    readonly error: PerpdataError;
    readonly topic?: string | undefined;
    readonly symbol?: string | undefined;
  };
  /** The consumer is slower than the feed: `dropped` records did not fit the bounded buffer. */
  overflow: { readonly dropped: number; readonly capacity: number };
  /** The stream ended (closed by the consumer, its signal, or `close()`). */
  closed: { readonly reason: string };
}

/** Options every `watch*` method takes. */
export interface WatchOptions {
  /** Ends the stream. */
  readonly signal?: AbortSignal | undefined;
  /** Records buffered for a slow consumer before `overflow` is reported. @default 10000 */
  readonly bufferSize?: number | undefined;
  /** Reconnect backoff. @default { initialMs: 1000, maxMs: 60000, stableMs: 60000 } */
  readonly backoff?: BackoffOptions | undefined;
  /** Topics per connection before the stream shards over another one. @default the venue's limit */
  readonly maxTopicsPerConnection?: number | undefined;
  /** Slack on top of a topic's cadence before it counts as stalled. @default max(5 s, 10 % of the cadence) */
  readonly stallGraceMs?: number | undefined;
  /** Replace each connection after this long (Binance cuts at 24 h). @default the venue's (Binance 23 h, others none) */
  readonly maxLifetimeMs?: number | undefined;
  /** Clock and timers (tests run a minute in a fraction of a second). @default the system clock */
  readonly clock?: WsClock | undefined;
}

/** What every venue's stream factory needs besides the request. */
export interface WsContext {
  /** WebSocket base URL (scheme + host, e.g. `wss://fstream.binance.com`). */
  readonly wsUrl?: string | undefined;
  /**
   * The client's egress pool, shared with its REST transport: one health state per egress, so an
   * egress banned or quarantined over REST carries no new socket. Without it (streams made on their
   * own), the stream builds a pool from `proxies` and `direct`.
   */
  readonly egress?: EgressPool | undefined;
  /** HTTP(S) proxies; connections are spread over them like REST requests. */
  readonly proxies?: readonly (string | URL)[] | undefined;
  /** Whether the direct connection is an egress too. @default true */
  readonly direct?: boolean | undefined;
  readonly logger?: Logger | undefined;
  /** Ends every stream of the client. */
  readonly signal?: AbortSignal | undefined;
}

/** Parameters of `watchCandles`. */
export interface WatchCandlesParams extends WatchOptions {
  /** Canonical symbols, e.g. `['BTC', 'ETH']`. */
  readonly symbols: readonly string[];
  readonly interval: import('../../core/intervals.js').Interval;
  /** After each reconnect (and any hole), fetch the missed closed candles over REST. @default true */
  readonly gapFill?: boolean | undefined;
}

/** Parameters of `watchFunding` and `watchOpenInterest`. */
export interface WatchSymbolsParams extends WatchOptions {
  readonly symbols: readonly string[];
}

/** Parameters of `watchOpenInterest`. */
export interface WatchOpenInterestParams extends WatchSymbolsParams {
  /** One sample per symbol and period (the last value seen in it). @default '1m' */
  readonly interval?: import('../../core/intervals.js').Interval | undefined;
}

/** Parameters of `watchLiquidations`. */
export interface WatchLiquidationsParams extends WatchOptions {
  /** Canonical symbols; omit for every instrument of the venue (Binance `!forceOrder@arr`; OKX always streams all). */
  readonly symbols?: readonly string[] | undefined;
  /** Liquidations are summed per symbol and period. @default '1m' */
  readonly interval?: import('../../core/intervals.js').Interval | undefined;
}
