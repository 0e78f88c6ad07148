import {
  HttpError,
  InvalidArgumentError,
  type PerpdataError,
  RateLimitError,
  UnsupportedError,
} from '../../core/errors.js';
import {
  addInterval,
  assertInterval,
  ceilToInterval,
  floorToInterval,
  type Interval,
  intervalMs,
} from '../../core/intervals.js';
import { registerSecret } from '../../core/redact.js';
import { type TimeInput, toRange } from '../../core/time.js';
import type {
  AnyRecord,
  Candle,
  Exchange,
  FundingRate,
  Liquidation,
  LongShortKind,
  LongShortRatio,
  OpenInterest,
  PredictedFunding,
  TakerVolume,
} from '../../core/types.js';
import {
  coinalyzeCandles,
  coinalyzeCurrentOpenInterest,
  coinalyzeFunding,
  coinalyzeHistoryOf,
  coinalyzeInstruments,
  coinalyzeLiquidations,
  coinalyzeLongShortRatio,
  coinalyzeOpenInterest,
  coinalyzePredictedFunding,
} from '../../normalize/coinalyze.js';
import { normaliseAt } from '../../normalize/guard.js';
import type { InstrumentInfo } from '../../normalize/symbols.js';
import {
  type SeriesRequest,
  type SnapshotKind,
  type SnapshotParams,
  signalOf,
  VenueClient,
} from '../base.js';
import {
  type Capabilities,
  COINALYZE_RETENTION_POINTS,
  coinalyzeCapabilities,
  DEFAULT_FUNDING_PERIOD_MS,
  type HistoryKind,
} from '../capabilities.js';
import { orderedPages } from '../pagination.js';
import type { Schema, VenueAdapter } from '../transport/index.js';
import type { ClientOptions } from '../types.js';
import { COINALYZE_INTERVALS, coinalyzeInterval, isCoinalyzeIntraday } from './intervals.js';
import * as raw from './schemas.js';

const MINUTE = 60_000;

/** Coinalyze's published budget: 40 calls per minute per API key, each symbol of a request one call. */
export const COINALYZE_DEFAULT_RATE_LIMIT = { limit: 40, intervalMs: MINUTE } as const;
/** Symbols per request at most (`symbols` takes up to 20). */
export const COINALYZE_MAX_SYMBOLS = 20;
/** Buckets asked for per request. */
export const COINALYZE_PAGE = 1500;

/** A parsed `/ohlcv-history` body. */
type OhlcvBody = Extract<ReturnType<typeof raw.ohlcvHistory.safeParse>, { success: true }>['data'];

const isNumber = (v: unknown): boolean => typeof v === 'number';
const isOptionalNumber = (v: unknown): boolean => v === undefined || v === null || typeof v === 'number';

function isOhlcvItem(i: unknown): boolean {
  if (typeof i !== 'object' || i === null) return false;
  const o = i as Record<string, unknown>;
  const t = o.t;
  return (
    typeof t === 'number' &&
    Number.isInteger(t) &&
    t >= 0 &&
    t < 100_000_000_000 &&
    isNumber(o.o) &&
    isNumber(o.h) &&
    isNumber(o.l) &&
    isNumber(o.c) &&
    isNumber(o.v) &&
    isOptionalNumber(o.bv) &&
    isOptionalNumber(o.tx) &&
    isOptionalNumber(o.btx)
  );
}

/**
 * OHLCV pages are the hot path of a backfill: items are checked with the same rules as
 * `raw.ohlcvHistory` by a plain loop, and only a page that fails goes through zod, for its precise issues.
 */
const ohlcvPage: Schema<OhlcvBody> = {
  safeParse(data) {
    if (
      Array.isArray(data) &&
      data.every(
        (e) =>
          typeof e === 'object' &&
          e !== null &&
          typeof (e as { symbol?: unknown }).symbol === 'string' &&
          Array.isArray((e as { history?: unknown }).history) &&
          (e as { history: unknown[] }).history.every(isOhlcvItem),
      )
    ) {
      return { success: true, data: data as OhlcvBody };
    }
    return raw.ohlcvHistory.safeParse(data);
  },
};

const adapter: VenueAdapter = {
  venue: 'coinalyze',
  errorOf({ status, headers, body, endpoint, egress, now }): PerpdataError | undefined {
    if (status >= 200 && status < 300) return undefined;
    const context = { venue: 'coinalyze', endpoint, status, egress };
    const message =
      raw.errorMessage(body) ?? (typeof body === 'string' && body ? body.slice(0, 200) : `HTTP ${status}`);
    if (status === 429) {
      const retryAfter = Number(headers.get('retry-after'));
      const retryAt = retryAfter > 0 ? now + retryAfter * 1000 : Math.floor(now / MINUTE) * MINUTE + MINUTE;
      return new RateLimitError(`Rate limited: ${message}`, { ...context, retryAt });
    }
    if (status === 401) return new HttpError(`Coinalyze refused the API key: ${message}`, context);
    return new HttpError(message, context);
  },
};

/** Options of `CoinalyzeClient`: the common ones, plus the key and the venue whose instruments are read. */
export interface CoinalyzeClientOptions extends ClientOptions {
  /** The Coinalyze API key, sent as the `api_key` header; it never appears in errors or logs. */
  readonly apiKey: string;
  /** The venue whose instruments the single-symbol methods read. @default 'binance' */
  readonly exchange?: Exchange;
  /** The funding interval assumed by `funding()`, in ms. @default 28800000 (8 h) */
  readonly fundingIntervalMs?: number;
}

/** History parameters of the Coinalyze methods: the design's `{ symbol, interval?, from, to }`, plus a venue. */
export interface CoinalyzeHistoryParams {
  /** Canonical symbol, e.g. `'BTC'`, `'PEPE'`. */
  readonly symbol: string;
  /** Bucket size. @default '1h' (`'4h'` for funding on an 8 h grid) */
  readonly interval?: Interval;
  readonly from: TimeInput;
  readonly to: TimeInput;
  /** The instrument's venue. @default the client's `exchange` */
  readonly exchange?: Exchange;
  /** Cancels this iteration. */
  readonly signal?: AbortSignal;
}

/** Multi-symbol history parameters: symbols are batched up to 20 per request. */
export interface CoinalyzeManyParams extends Omit<CoinalyzeHistoryParams, 'symbol'> {
  /** Canonical symbols, e.g. `['BTC', 'ETH', 'PEPE']`. */
  readonly symbols: readonly string[];
}

/** What one history kind needs: its endpoint, schema, extra params and normaliser. */
interface Kind<I, T> {
  readonly path: string;
  readonly schema: Schema<{ symbol: string; history: I[] }[]>;
  readonly query?: Record<string, string>;
  /** Params of a second request per batch whose items go to `normalize` as `second` (USD open interest). */
  readonly second?: Record<string, string> | undefined;
  readonly normalize: (
    items: I[],
    instrument: InstrumentInfo,
    interval: Interval,
    now: number,
    second: I[] | undefined,
  ) => T[];
}

/**
 * Coinalyze v1: history of Binance, Bybit and OKX perpetuals from one place (candles with taker-buy
 * volume, open interest, funding, predicted funding, liquidations, long/short ratio), with the key's
 * budget of 40 symbol-calls per minute spread over time and up to 20 symbols per request
 * (`concurrency` defaults to 2 here: the key's budget, not latency, bounds a backfill).
 * @example
 * import { CoinalyzeClient } from 'perpdata';
 *
 * const coinalyze = new CoinalyzeClient({ apiKey: process.env.COINALYZE_API_KEY ?? '', exchange: 'bybit' });
 * const to = Date.now();
 * for await (const page of coinalyze.liquidations({ symbol: 'BTC', interval: '1h', from: to - 86_400_000, to })) {
 *   console.log(page.map((l) => [new Date(l.ts), l.longUsd, l.shortUsd]));
 * }
 * await coinalyze.close();
 */
export class CoinalyzeClient extends VenueClient<CoinalyzeClientOptions> {
  /** Source name. */
  readonly venue = 'coinalyze' as const;
  /** The venue whose instruments the single-symbol methods read (and the `exchange` of every series of `history()`). */
  readonly exchange: Exchange;
  /**
   * What Coinalyze serves for `exchange`: history of every kind but taker volume (candles carry
   * `takerBuyVolume`), long/short ratios for Binance and Bybit instruments only, nothing live;
   * intraday intervals the latest 1,500 buckets. `snapshot('openInterest')` reads the current value.
   */
  readonly capabilities: Capabilities;
  /** The bucket of funding history: the longest Coinalyze interval that divides the funding period. */
  readonly #fundingBucket: Interval;

  constructor(options: CoinalyzeClientOptions) {
    const { apiKey, rateLimit = COINALYZE_DEFAULT_RATE_LIMIT } = options;
    if (typeof apiKey !== 'string' || apiKey.length === 0)
      throw new InvalidArgumentError('apiKey is required');
    registerSecret(apiKey);
    if (!(rateLimit.limit >= COINALYZE_MAX_SYMBOLS) || !(rateLimit.intervalMs > 0)) {
      throw new InvalidArgumentError(
        `rateLimit needs a limit of at least ${COINALYZE_MAX_SYMBOLS} and a positive intervalMs`,
      );
    }
    super(
      { concurrency: 2, ...options },
      {
        baseUrl: 'https://api.coinalyze.net/v1',
        rateLimit: COINALYZE_DEFAULT_RATE_LIMIT,
        adapter,
        headers: { api_key: apiKey },
        // Calls per key over a sliding minute: a request costs one call per symbol.
        buckets: (limit) => ({ calls: { ...limit, window: 'rolling' } }),
      },
    );
    this.exchange = options.exchange ?? 'binance';
    const period = options.fundingIntervalMs ?? DEFAULT_FUNDING_PERIOD_MS;
    this.#fundingBucket =
      (['4h', '2h', '1h', '30m', '15m', '5m', '1m'] as const).find((i) => period % intervalMs(i) === 0) ??
      '1h';
    this.capabilities = coinalyzeCapabilities(Object.keys(COINALYZE_INTERVALS) as Interval[], {
      longShortRatio: this.exchange !== 'okx',
      fundingBucket: this.#fundingBucket,
      fundingPeriodMs: period,
    });
  }

  /** The registry maps the instruments of `exchange` (entries carry the underlying venue). */
  protected get registryExchange(): Exchange {
    return this.exchange;
  }

  /** USDT perpetuals of Binance, Bybit and OKX as Coinalyze lists them (`/future-markets`); `instrument` is the Coinalyze symbol. */
  async instruments(options: { signal?: AbortSignal } = {}): Promise<InstrumentInfo[]> {
    const { data } = await this.transport.get({
      path: '/future-markets',
      bucket: 'calls',
      cost: 1,
      schema: raw.futureMarkets,
      signal: options.signal,
    });
    return coinalyzeInstruments(data);
  }

  /** Clamps `from` to the intraday retention: a warning (default) or `HistoryRangeError`. */
  #retention(from: number, earliest: number, endpoint: string, to: number, interval: Interval): number {
    return this.clampToRetention(
      from,
      earliest,
      to,
      endpoint,
      `the latest ${COINALYZE_RETENTION_POINTS} ${interval} buckets`,
      "use interval '1d' for older history",
    );
  }

  /**
   * The shared history loop: symbols resolved through `/future-markets`, batched ≤ 20 per request,
   * windows of 1,500 buckets, pages yielded per symbol and window in ascending order.
   */
  // Long by design: the symbol batches, the windows and the per-symbol pages are one loop, so pages come out in ascending order per symbol.
  async *#history<I, T>(
    params: CoinalyzeManyParams,
    kind: Kind<I, T>,
    defaultInterval: Interval,
  ): AsyncGenerator<T[], void, undefined> {
    const interval = params.interval ?? defaultInterval;
    assertInterval(interval);
    const spelling = coinalyzeInterval(interval);
    const exchange = params.exchange ?? this.exchange;
    const range = toRange(params.from, params.to);
    if (range.from === range.to) return; // [t, t): empty, no request
    const { signal } = params;
    if (params.symbols.length === 0) return;
    const registry = await this.registry(signal ? { signal } : {});
    const instruments = [...new Set(params.symbols)].map((s) => registry.toInstrument(exchange, s));
    const now = this.now();
    const current = floorToInterval(now, interval);
    const to = Math.min(range.to, current);
    const earliest = isCoinalyzeIntraday(interval)
      ? addInterval(current, interval, -(COINALYZE_RETENTION_POINTS - 2))
      : Number.NEGATIVE_INFINITY;
    const from = ceilToInterval(this.#retention(range.from, earliest, kind.path, to, interval), interval);
    if (from >= to) return;
    const batches: InstrumentInfo[][] = [];
    for (let i = 0; i < instruments.length; i += COINALYZE_MAX_SYMBOLS) {
      batches.push(instruments.slice(i, i + COINALYZE_MAX_SYMBOLS));
    }
    const jobs = function* () {
      for (let start = from; start < to; ) {
        const end = Math.min(to, addInterval(start, interval, COINALYZE_PAGE));
        for (const batch of batches) yield { start, end, batch };
        start = end;
      }
    };
    const fetchJob = async (
      job: { start: number; end: number; batch: InstrumentInfo[] },
      s: AbortSignal,
    ): Promise<T[][]> => {
      const ask = (extra: Record<string, string> | undefined) =>
        this.transport.get({
          path: kind.path,
          query: {
            symbols: job.batch.map((i) => i.instrument).join(','),
            interval: spelling,
            from: Math.floor(job.start / 1000),
            to: Math.floor((job.end - 1) / 1000),
            ...kind.query,
            ...extra,
          },
          bucket: 'calls',
          cost: job.batch.length,
          schema: kind.schema,
          signal: s,
        });
      const [{ data }, second] = await Promise.all([
        ask(undefined),
        kind.second ? ask(kind.second) : undefined,
      ]);
      return job.batch.map((instrument) => {
        const items = coinalyzeHistoryOf(data, instrument.instrument);
        const extra = second ? coinalyzeHistoryOf(second.data, instrument.instrument) : undefined;
        const records = normaliseAt({ venue: 'coinalyze', endpoint: kind.path }, items, () =>
          kind.normalize(items, instrument, interval, now, extra),
        );
        return records.filter(
          (r) => (r as { ts: number }).ts >= job.start && (r as { ts: number }).ts < job.end,
        );
      });
    };
    const pages = orderedPages(jobs(), fetchJob, {
      concurrency: (this.options.concurrency ?? 2) * this.transport.egressCount,
      signal,
    });
    for await (const perSymbol of pages) {
      for (const page of perSymbol) if (page.length > 0) yield page;
    }
  }

  /** Closed candles with taker-buy volume (`/ohlcv-history`) of several symbols, batched ≤ 20 per request. */
  candlesMany(params: CoinalyzeManyParams): AsyncGenerator<Candle[], void, undefined> {
    return this.#history(
      params,
      {
        path: '/ohlcv-history',
        schema: ohlcvPage,
        normalize: (items, instrument, interval, now) =>
          coinalyzeCandles(items, { instrument, interval, now }),
      },
      '1h',
    );
  }

  /** Closed candles with taker-buy volume, prices per one base unit, volumes in base units. */
  candles(params: CoinalyzeHistoryParams): AsyncGenerator<Candle[], void, undefined> {
    return this.candlesMany(single(params));
  }

  /**
   * Open interest in base units (the bucket's open, × multiplier) of several symbols; with `usd: true`
   * a second request per batch (`convert_to_usd=true`, twice the calls) fills `openInterestUsd`.
   */
  openInterestMany(
    params: CoinalyzeManyParams & { usd?: boolean },
  ): AsyncGenerator<OpenInterest[], void, undefined> {
    return this.#history(
      params,
      {
        path: '/open-interest-history',
        schema: raw.ohlcHistory,
        query: { convert_to_usd: 'false' },
        second: params.usd ? { convert_to_usd: 'true' } : undefined,
        normalize: (items, instrument, interval, now, usd) =>
          coinalyzeOpenInterest(items, { instrument, interval, now, usd }),
      },
      '1h',
    );
  }

  /** One-sided open interest in base units at each bucket's start (and in USD with `usd: true`). */
  openInterest(
    params: CoinalyzeHistoryParams & { usd?: boolean },
  ): AsyncGenerator<OpenInterest[], void, undefined> {
    return this.openInterestMany(single(params));
  }

  /**
   * Settled funding of several symbols, as fractions, on the funding grid (`fundingIntervalMs`,
   * default 8 h). The interval must not exceed the funding interval; the default is the longest
   * Coinalyze interval that divides it (4h for 8 h funding).
   */
  fundingMany(params: CoinalyzeManyParams): AsyncGenerator<FundingRate[], void, undefined> {
    const grid = this.options.fundingIntervalMs ?? DEFAULT_FUNDING_PERIOD_MS;
    return this.#history(
      params,
      {
        path: '/funding-rate-history',
        schema: raw.ohlcHistory,
        normalize: (items, instrument, interval, now) =>
          coinalyzeFunding(items, { instrument, interval, now, fundingIntervalMs: grid }),
      },
      this.#fundingBucket,
    );
  }

  /** Settled funding rates (fractions) at each funding time. */
  funding(params: CoinalyzeHistoryParams): AsyncGenerator<FundingRate[], void, undefined> {
    return this.fundingMany(single(params));
  }

  /** The predicted funding rate observed at each bucket's start (fractions), several symbols. */
  predictedFundingMany(params: CoinalyzeManyParams): AsyncGenerator<PredictedFunding[], void, undefined> {
    return this.#history(
      params,
      {
        path: '/predicted-funding-rate-history',
        schema: raw.ohlcHistory,
        normalize: (items, instrument, interval, now) =>
          coinalyzePredictedFunding(items, { instrument, interval, now }),
      },
      '1h',
    );
  }

  /** The predicted funding rate observed at each bucket's start, as fractions. */
  predictedFunding(params: CoinalyzeHistoryParams): AsyncGenerator<PredictedFunding[], void, undefined> {
    return this.predictedFundingMany(single(params));
  }

  /** Liquidated USD of longs (`longUsd`) and shorts per bucket (`convert_to_usd=true`), several symbols. */
  liquidationsMany(params: CoinalyzeManyParams): AsyncGenerator<Liquidation[], void, undefined> {
    return this.#history(
      params,
      {
        path: '/liquidation-history',
        schema: raw.liquidationHistory,
        query: { convert_to_usd: 'true' },
        normalize: (items, instrument, interval, now) =>
          coinalyzeLiquidations(items, { instrument, interval, now }),
      },
      '1h',
    );
  }

  /** Liquidated USD of longs and shorts per bucket. */
  liquidations(params: CoinalyzeHistoryParams): AsyncGenerator<Liquidation[], void, undefined> {
    return this.liquidationsMany(single(params));
  }

  /** All-accounts long/short ratio and shares, several symbols (Coinalyze has it for Binance and Bybit). */
  longShortRatioMany(params: CoinalyzeManyParams): AsyncGenerator<LongShortRatio[], void, undefined> {
    return this.#history(
      params,
      {
        path: '/long-short-ratio-history',
        schema: raw.longShortHistory,
        normalize: (items, instrument, interval, now) =>
          coinalyzeLongShortRatio(items, { instrument, interval, now }),
      },
      '1h',
    );
  }

  /** All-accounts (`global`) long/short ratio and shares; other kinds throw `UnsupportedError`. */
  longShortRatio(
    params: CoinalyzeHistoryParams & { kind?: LongShortKind },
  ): AsyncGenerator<LongShortRatio[], void, undefined> {
    if ((params.kind ?? 'global') !== 'global') {
      return rejecting("Coinalyze serves only the all-accounts ('global') long/short ratio");
    }
    return this.longShortRatioMany(single(params));
  }

  /** Not served: Coinalyze has no taker-volume series; `candles` carry `takerBuyVolume`. */
  takerVolume(_params: CoinalyzeHistoryParams): AsyncGenerator<TakerVolume[], void, undefined> {
    return rejecting('Coinalyze has no taker-volume series; candles carry takerBuyVolume');
  }

  /**
   * `history()`'s dispatch: the series of `exchange`; funding in buckets of the funding grid,
   * predicted funding in 1h buckets, open interest in base units only (USD would cost a second call
   * per page: use `openInterest({ usd: true })`).
   */

  /** `history()`'s dispatch: predicted funding is read in 1 h buckets (the kind has no interval). */
  protected override historyOf(kind: HistoryKind, r: SeriesRequest): AsyncIterable<AnyRecord[]> {
    if (kind !== 'predictedFunding') return super.historyOf(kind, r);
    return this.predictedFunding({
      symbol: r.symbol,
      from: r.from,
      to: r.to,
      interval: '1h',
      ...signalOf(r.signal),
    });
  }

  /**
   * Current open interest (`/open-interest`): one-sided, in base units (the value is in the market's
   * `oi_lq_vol_denominated_in` units, as in the history, × multiplier) and in USD
   * (`convert_to_usd=true`, a second call), as a `1m` record at the minute of the venue's `update`.
   * Current funding is not served: Coinalyze's docs leave the unit of `/funding-rate` open (its
   * history is in percent, the reference's sample looks like a fraction), so no rate is guessed.
   */
  protected override async snapshotOf(kind: SnapshotKind, params: SnapshotParams): Promise<AnyRecord[]> {
    if (kind !== 'openInterest') return super.snapshotOf(kind, params);
    const { signal } = params;
    const instrument = await this.instrument(params.symbol, signal);
    const ask = (usd: boolean) =>
      this.transport.get({
        path: '/open-interest',
        query: { symbols: instrument.instrument, convert_to_usd: String(usd) },
        bucket: 'calls',
        cost: 1,
        schema: raw.currentValues,
        signal,
      });
    const [base, usd] = await Promise.all([ask(false), ask(true)]);
    const row = base.data.find((r) => r.symbol === instrument.instrument);
    if (!row) return [];
    const inUsd = usd.data.find((r) => r.symbol === instrument.instrument);
    return [coinalyzeCurrentOpenInterest(row, inUsd, { instrument })];
  }

  /** The funding period `funding()` assumes (`fundingIntervalMs`, default 8 h): Coinalyze does not publish one per instrument. */
  protected readFundingPeriod(_symbol: string, _signal: AbortSignal | undefined): Promise<number> {
    return Promise.resolve(this.options.fundingIntervalMs ?? DEFAULT_FUNDING_PERIOD_MS);
  }
}

function single<P extends CoinalyzeHistoryParams>(params: P): Omit<P, 'symbol'> & CoinalyzeManyParams {
  const { symbol, ...rest } = params;
  return { ...rest, symbols: [symbol] } as Omit<P, 'symbol'> & CoinalyzeManyParams;
}

/** An iteration whose first `next()` rejects with `UnsupportedError` (what every unserved method returns). */
// biome-ignore lint/correctness/useYield: rejects by design before yielding anything.
async function* rejecting<T>(message: string): AsyncGenerator<T, void, undefined> {
  throw new UnsupportedError(message);
}
