import { HistoryRangeError, InvalidArgumentError, UnsupportedError } from '../core/errors.js';
import { assertInterval, type Interval } from '../core/intervals.js';
import { toRange } from '../core/time.js';
import type {
  AnyRecord,
  Candle,
  DataKind,
  Exchange,
  Liquidation,
  LongShortKind,
  OpenInterest,
  PredictedFunding,
  RecordOf,
  Source,
} from '../core/types.js';
import { type InstrumentInfo, SymbolRegistry } from '../normalize/symbols.js';
import type { Capabilities, HistoryKind, KindCapability, SeriesParams } from './capabilities.js';
import { type BudgetSpec, Transport, type VenueAdapter } from './transport/index.js';
import type { ClientOptions, IntervalHistoryParams, RateLimit } from './types.js';
import type { RegistrySource } from './ws/plan.js';
import type { FetchClosed } from './ws/processors.js';
import type { LiveStream } from './ws/stream.js';
import type {
  WatchCandlesParams,
  WatchLiquidationsParams,
  WatchOpenInterestParams,
  WatchSymbolsParams,
  WsContext,
} from './ws/types.js';

const MINUTE = 60_000;
/** How long a funding period read from the venue is reused. */
const FUNDING_PERIOD_TTL_MS = 60 * MINUTE;

/** Kinds `snapshot()` may serve: the current value of a series. */
export type SnapshotKind = 'predictedFunding' | 'openInterest' | 'funding';

/** Parameters of `snapshot()`. */
export interface SnapshotParams {
  /** Canonical symbol, e.g. `'BTC'`. */
  readonly symbol: string;
  /** Cancels the request. */
  readonly signal?: AbortSignal;
}

/**
 * What `history()` hands a venue's dispatch once checked against `capabilities`: `interval` is set
 * exactly for kinds with intervals, `ratioKind` is one the venue serves.
 */
export interface SeriesRequest {
  readonly symbol: string;
  readonly from: number;
  readonly to: number;
  readonly interval: Interval | undefined;
  readonly ratioKind: LongShortKind;
  readonly signal: AbortSignal | undefined;
}

/** `{ signal }` when there is one (the options objects take no `signal: undefined`). */
export function signalOf(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

/** The interval of a request for a kind with intervals (checked by `history()`). */
export function intervalOf(request: SeriesRequest): Interval {
  if (request.interval === undefined) throw new InvalidArgumentError('interval is required');
  return request.interval;
}

/** What a venue client tells the shared base: its host, budgets and error mapping. */
export interface VenueDefaults {
  readonly baseUrl: string;
  readonly rateLimit: RateLimit;
  readonly adapter: VenueAdapter;
  /** Budget buckets per egress, given the effective `rateLimit`. */
  readonly buckets: (rateLimit: RateLimit) => Readonly<Record<string, BudgetSpec>>;
  /** Headers sent with every request (e.g. Coinalyze's `api_key`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The part every REST client shares: option validation, the transport, the lazily loaded symbol
 * registry, the venue clock, range clamping to retention windows, and closing. A venue client extends
 * it with its history methods; adding a venue never edits another venue's file.
 */
export abstract class VenueClient<O extends ClientOptions = ClientOptions> {
  /** Venue name. */
  abstract readonly venue: Source;
  /** The venue whose instruments the registry maps (differs from `venue` for Coinalyze). */
  protected abstract get registryExchange(): Exchange;
  /** The shared HTTP transport (egress statistics, budgets). */
  readonly transport: Transport;
  protected readonly options: O & { readonly concurrency: number };
  protected readonly now: () => number;
  #registry: Promise<SymbolRegistry> | undefined;
  #clockOffset: { value: number; at: number } | undefined;
  /** Live streams opened by `watch*` and not closed yet; `close()` closes them. */
  readonly #live = new Set<{ close(): Promise<void>; on(event: 'closed', listener: () => void): unknown }>();
  /** Funding periods read from the venue, per canonical symbol. */
  readonly #fundingPeriods = new Map<string, { ms: number; at: number }>();
  /** What this client serves: one entry per `HistoryKind`, `null` where it serves nothing. */
  abstract readonly capabilities: Capabilities;

  protected constructor(options: O, defaults: VenueDefaults) {
    const {
      baseUrl = defaults.baseUrl,
      rateLimit = defaults.rateLimit,
      concurrency = 4,
      timeoutMs = 15_000,
      retries = 5,
    } = options;
    if (!(rateLimit.limit > 0) || !(rateLimit.intervalMs > 0)) {
      throw new InvalidArgumentError('rateLimit needs a positive limit and intervalMs');
    }
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new InvalidArgumentError('concurrency must be a positive integer');
    if (!(timeoutMs > 0)) throw new InvalidArgumentError('timeoutMs must be positive');
    if (!Number.isInteger(retries) || retries < 0)
      throw new InvalidArgumentError('retries must be a whole number ≥ 0');
    this.options = { ...options, concurrency };
    this.now = options.now ?? Date.now;
    if (options.registry) this.#registry = Promise.resolve(options.registry);
    this.transport = new Transport({
      adapter: defaults.adapter,
      baseUrl,
      proxies: options.proxies,
      direct: options.direct,
      timeoutMs,
      retries,
      retryDelayMs: options.retryDelayMs,
      maxEgressWaitMs: options.maxEgressWaitMs,
      http: options.http,
      headers: defaults.headers,
      signal: options.signal,
      logger: options.logger,
      // Budgets and bans run on the real clock; `now` only decides which periods are closed.
      buckets: defaults.buckets(rateLimit),
    });
  }

  /** The capability of `kind`, or `null` (also for kinds that are not a `HistoryKind`). */
  #capability(kind: DataKind): KindCapability | null {
    return (this.capabilities.kinds as Readonly<Record<string, KindCapability | null>>)[kind] ?? null;
  }

  /**
   * Whether this client serves `kind` at all (over REST or live) and, given `interval`, on that
   * interval. Answers from `capabilities`, without a request.
   * @example
   * import { BinanceClient } from 'perpdata';
   *
   * const binance = new BinanceClient();
   * binance.serves('openInterest', '5m'); // true
   * binance.serves('openInterest', '1m'); // false: statistics start at 5m
   */
  serves(kind: DataKind, interval?: Interval): boolean {
    const capability = this.#capability(kind);
    if (!capability) return false;
    return interval === undefined || capability.intervals.includes(interval);
  }

  /**
   * History of one series over `[from, to)`, in ascending pages: one dispatch to `candles`,
   * `funding`, `openInterest`, … A kind, interval or ratio kind the client does not serve (and a
   * kind it serves only as a current value or live) rejects the first `next()` with
   * `UnsupportedError`, the same on every venue. `[t, t)` is empty (no request).
   * @example
   * import { BybitClient, type OpenInterest } from 'perpdata';
   *
   * const client = new BybitClient();
   * const stored: OpenInterest[] = [];
   * const to = Date.now();
   * for await (const page of client.history('openInterest', { symbol: 'BTC', interval: '5m', from: to - 86_400_000, to })) {
   *   stored.push(...page); // ascending, closed periods only, no duplicates across pages
   * }
   * await client.close();
   */
  history<K extends HistoryKind>(kind: K, params: SeriesParams): AsyncIterable<RecordOf<K>[]> {
    return this.#history(kind, params) as AsyncIterable<RecordOf<K>[]>;
  }

  async *#history(kind: HistoryKind, params: SeriesParams): AsyncGenerator<AnyRecord[], void, undefined> {
    const capability = this.#capability(kind);
    const name = `${this.venue} ${String(kind)}`;
    if (!capability) throw new UnsupportedError(`${this.venue} does not serve ${String(kind)}`);
    if (capability.rest !== 'history') {
      throw new UnsupportedError(
        capability.rest === 'snapshot'
          ? `${name} is a current value only: use snapshot()`
          : `${name} has no REST history (live only)`,
      );
    }
    const { interval } = params;
    if (capability.intervals.length > 0) {
      if (interval === undefined) {
        throw new InvalidArgumentError(`${name} needs an interval`, {
          meta: { Supported: capability.intervals.join(' ') },
        });
      }
      assertInterval(interval);
      if (!capability.intervals.includes(interval)) {
        throw new UnsupportedError(`${name} has no ${interval} interval`, {
          meta: { Supported: capability.intervals.join(' ') },
        });
      }
    } else if (interval !== undefined) {
      throw new UnsupportedError(`${name} is on the instrument's own period: pass no interval`);
    }
    const ratioKind = params.ratioKind ?? 'global';
    if (kind === 'longShortRatio') {
      if (!capability.ratioKinds?.includes(ratioKind)) {
        throw new UnsupportedError(`${this.venue} has no ${ratioKind} long/short ratio`, {
          meta: { Supported: capability.ratioKinds?.join(' ') },
        });
      }
    } else if (params.ratioKind !== undefined) {
      throw new InvalidArgumentError(`ratioKind applies to longShortRatio only, not ${String(kind)}`);
    }
    const range = toRange(params.from, params.to);
    if (range.from === range.to) return;
    yield* this.historyOf(kind, {
      symbol: params.symbol,
      from: range.from,
      to: range.to,
      interval,
      ratioKind,
      signal: params.signal,
    });
  }

  /**
   * The dispatch from a checked `history()` request to the history method of the same name: every
   * venue names its methods after the kinds, with `{ symbol, from, to, interval?, kind?, signal? }`
   * (`kind` the ratio population). A venue whose method takes something else overrides this.
   */
  protected historyOf(kind: HistoryKind, r: SeriesRequest): AsyncIterable<AnyRecord[]> {
    const method = (this as unknown as Record<HistoryKind, (params: object) => AsyncIterable<AnyRecord[]>>)[
      kind
    ];
    return method.call(this, {
      symbol: r.symbol,
      from: r.from,
      to: r.to,
      ...(r.interval === undefined ? {} : { interval: r.interval }),
      ...(kind === 'longShortRatio' ? { kind: r.ratioKind } : {}),
      ...signalOf(r.signal),
    });
  }

  /**
   * The current value of `kind` for one symbol, where the venue has a current-value endpoint
   * (predicted funding on Binance, Bybit and OKX; open interest on Coinalyze); anything else rejects
   * with `UnsupportedError`.
   * @example
   * import { BinanceClient } from 'perpdata';
   *
   * const binance = new BinanceClient();
   * const [current] = await binance.snapshot('predictedFunding', { symbol: 'BTC' });
   * console.log(current?.rate, current?.nextFundingTime);
   * await binance.close();
   */
  async snapshot<K extends SnapshotKind>(kind: K, params: SnapshotParams): Promise<RecordOf<K>[]> {
    return (await this.snapshotOf(kind, params)) as RecordOf<K>[];
  }

  /** The venue's current-value endpoints; the default serves none. */
  protected snapshotOf(kind: SnapshotKind, _params: SnapshotParams): Promise<AnyRecord[]> {
    return Promise.reject(new UnsupportedError(`${this.venue} has no current ${kind} endpoint`));
  }

  /**
   * The instrument's funding period in ms (1 h, 4 h and 8 h exist), read from the venue's
   * instrument data and reused for an hour.
   */
  async fundingPeriod(symbol: string, options: { signal?: AbortSignal } = {}): Promise<number> {
    const cached = this.#fundingPeriods.get(symbol);
    const at = this.now();
    if (cached && at - cached.at < FUNDING_PERIOD_TTL_MS && at >= cached.at) return cached.ms;
    const ms = await this.readFundingPeriod(symbol, options.signal);
    this.#fundingPeriods.set(symbol, { ms, at });
    return ms;
  }

  /** Reads one instrument's funding period from the venue. */
  protected abstract readFundingPeriod(symbol: string, signal: AbortSignal | undefined): Promise<number>;

  /** The venue's perpetuals with their canonical mapping. */
  abstract instruments(options?: { signal?: AbortSignal }): Promise<InstrumentInfo[]>;

  /** The venue's clock, epoch ms; venues without a time endpoint answer with the local clock. */
  serverTime(_options: { signal?: AbortSignal } = {}): Promise<number> {
    return Promise.resolve(this.now());
  }

  /** The symbol registry (loaded from `instruments()` once, unless one was given). */
  registry(options: { signal?: AbortSignal } = {}): Promise<SymbolRegistry> {
    if (!this.#registry) {
      const loading = this.instruments(options).then((list) => new SymbolRegistry(list));
      this.#registry = loading;
      loading.catch(() => {
        if (this.#registry === loading) this.#registry = undefined;
      });
    }
    return this.#registry;
  }

  /** The instrument of a canonical symbol; `UnknownSymbolError` before any data request when there is none. */
  protected async instrument(symbol: string, signal: AbortSignal | undefined): Promise<InstrumentInfo> {
    const registry = await this.registry(signal ? { signal } : {});
    return registry.toInstrument(this.registryExchange, symbol);
  }

  /**
   * Now on the venue's clock: the local clock, corrected by `serverTime()` (cached for ten minutes)
   * when the range reaches within two periods of the present, where a skewed clock could let the
   * forming period through.
   */
  protected async venueNow(to: number, step: number, signal: AbortSignal | undefined): Promise<number> {
    const local = this.now();
    if (to < local - 2 * step && to < local - 2 * MINUTE) return local;
    if (!this.#clockOffset || local - this.#clockOffset.at > 10 * MINUTE) {
      const before = this.now();
      const server = await this.serverTime(signal ? { signal } : {});
      const after = this.now();
      this.#clockOffset = { value: server - (before + after) / 2, at: after };
    }
    return local + this.#clockOffset.value;
  }

  /** Pages in flight: `concurrency` per egress. */
  protected get pagesInFlight(): number {
    return this.options.concurrency * this.transport.egressCount;
  }

  /**
   * Clamps `from` to the oldest data the venue keeps for `endpoint`, reporting a `RANGE_CLAMPED`
   * warning, or throws `HistoryRangeError` with `outOfRange: 'throw'`.
   * @param keeps what the venue keeps, for the message (e.g. `'the latest 30 days'`).
   */
  protected clampToRetention(
    from: number,
    earliest: number,
    to: number,
    endpoint: string,
    keeps: string,
    hint?: string,
  ): number {
    if (from >= earliest) return from;
    const venue = this.venue;
    if (this.options.outOfRange === 'throw') {
      throw new HistoryRangeError(`${venue} ${endpoint} keeps only ${keeps}`, earliest, {
        meta: { Requested: new Date(from).toISOString(), Hint: hint },
      });
    }
    const message = `${venue} ${endpoint} keeps only ${keeps}; serving from ${new Date(earliest).toISOString()}`;
    this.options.logger?.warn?.(message);
    this.options.onWarning?.({ code: 'RANGE_CLAMPED', message, venue, endpoint, from: earliest, to });
    return earliest;
  }

  /** Remembers a live stream so that `close()` closes it too. */
  protected track<S extends { close(): Promise<void>; on(event: 'closed', listener: () => void): unknown }>(
    stream: S,
  ): S {
    this.#live.add(stream);
    stream.on('closed', () => this.#live.delete(stream));
    return stream;
  }

  /** Closes open live streams, sockets and timers. The client cannot be used afterwards. */
  async close(): Promise<void> {
    await Promise.all([...this.#live].map((stream) => stream.close()));
    await this.transport.close();
  }

  /** `await using client = new …Client()` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The stream classes a live venue provides (`BinanceStreams`, `BybitStreams`, `OkxStreams`). */
export interface VenueStreams {
  candles(params: WatchCandlesParams): LiveStream<Candle>;
  funding(params: WatchSymbolsParams): LiveStream<PredictedFunding>;
  openInterest(params: WatchOpenInterestParams): LiveStream<OpenInterest>;
  liquidations(params: WatchLiquidationsParams): LiveStream<Liquidation>;
}

/** What a venue's stream classes get from their client. */
export type StreamContext = WsContext & {
  readonly registry: RegistrySource;
  readonly fetchClosed: (interval: Interval) => FetchClosed;
};

/**
 * A venue client with a live side: `watch*` open sockets through the same egress pool as REST (one
 * health state per egress), map symbols with
 * the same registry, and fill the hole a reconnect leaves with the same client's REST `candles()`.
 * `close()` closes the streams still open.
 */
export abstract class LiveVenueClient<O extends ClientOptions = ClientOptions> extends VenueClient<O> {
  /** The venue's stream classes, given this client's context. */
  protected abstract createStreams(context: StreamContext): VenueStreams;

  /** The current predicted funding, one page (`predictedFunding({ symbol })` over REST). */
  abstract predictedFunding(params: SnapshotParams): AsyncIterable<PredictedFunding[]>;

  /** `snapshot('predictedFunding')` on every live venue: the page of its `predictedFunding()`. */
  protected override async snapshotOf(kind: SnapshotKind, params: SnapshotParams): Promise<AnyRecord[]> {
    if (kind !== 'predictedFunding') return super.snapshotOf(kind, params);
    const out: AnyRecord[] = [];
    for await (const page of this.predictedFunding(params)) out.push(...page);
    return out;
  }

  /** REST history of closed candles, used for gap fill. */
  abstract candles(params: IntervalHistoryParams): AsyncIterable<Candle[]>;

  #streams(): VenueStreams {
    const o = this.options;
    return this.createStreams({
      wsUrl: o.wsUrl,
      // The transport's egresses: a ban or a dead proxy seen over REST keeps sockets off it too.
      egress: this.transport.egress,
      proxies: o.proxies,
      direct: o.direct,
      logger: o.logger,
      signal: o.signal,
      registry: () => this.registry(),
      fetchClosed: (interval) => (symbol, from, to, signal) =>
        this.candles({ symbol, interval, from, to, signal }),
    });
  }

  /**
   * Closed candles of `symbols` as they close, each exactly once and in order per symbol; after a
   * reconnect the missed candles are fetched over REST and yielded first (`gapFill`, default on).
   * @example
   * import { OkxClient } from 'perpdata';
   *
   * const client = new OkxClient();
   * const stream = client.watchCandles({ symbols: ['BTC', 'ETH'], interval: '1m', signal: AbortSignal.timeout(600_000) });
   * stream.on('reconnected', ({ gaps }) => console.log('filled over REST:', gaps));
   * for await (const candle of stream) console.log(candle.symbol, new Date(candle.ts), candle.close);
   * await client.close();
   */
  watchCandles(params: WatchCandlesParams): LiveStream<Candle> {
    return this.track(this.#streams().candles(params));
  }

  /**
   * The accruing (predicted) funding rate, yielded when the rate or the next funding time changes.
   * @example
   * import { BybitClient } from 'perpdata';
   *
   * const bybit = new BybitClient();
   * for await (const f of bybit.watchFunding({ symbols: ['BTC', 'ETH'], signal: AbortSignal.timeout(60_000) })) {
   *   console.log(f.symbol, f.rate, f.nextFundingTime && new Date(f.nextFundingTime));
   * }
   * await bybit.close();
   */
  watchFunding(params: WatchSymbolsParams): LiveStream<PredictedFunding> {
    return this.track(this.#streams().funding(params));
  }

  /**
   * Open interest where the venue streams it (Bybit, OKX), one value per symbol and period; Binance throws `UnsupportedError`.
   * @example
   * import { OkxClient } from 'perpdata';
   *
   * const okx = new OkxClient();
   * const stream = okx.watchOpenInterest({ symbols: ['BTC'], interval: '5m' });
   * for await (const oi of stream) console.log(new Date(oi.ts), oi.openInterest, 'BTC'); // the last value seen per 5m
   */
  watchOpenInterest(params: WatchOpenInterestParams): LiveStream<OpenInterest> {
    return this.track(this.#streams().openInterest(params));
  }

  /**
   * Liquidations summed per symbol and period; `longUsd` = longs liquidated, whatever the venue's side convention.
   * @example
   * import { BinanceClient } from 'perpdata';
   *
   * const binance = new BinanceClient();
   * const stream = binance.watchLiquidations({ interval: '1m' }); // every instrument of the venue
   * stream.on('reconnected', ({ downtimeMs }) => console.warn(`liquidations of ${downtimeMs} ms are lost`));
   * for await (const l of stream) console.log(l.symbol, new Date(l.ts), 'longs', l.longUsd, 'shorts', l.shortUsd);
   */
  watchLiquidations(params: WatchLiquidationsParams = {}): LiveStream<Liquidation> {
    return this.track(this.#streams().liquidations(params));
  }
}
