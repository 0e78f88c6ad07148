import {
  HttpError,
  InvalidArgumentError,
  type PerpdataError,
  RateLimitError,
  UnknownSymbolError,
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
import { toRange } from '../../core/time.js';
import type {
  Candle,
  FundingRate,
  Liquidation,
  LongShortKind,
  LongShortRatio,
  OpenInterest,
  PredictedFunding,
  TakerVolume,
} from '../../core/types.js';
import {
  binanceCandles,
  binanceFunding,
  binanceInstruments,
  binanceLongShortRatio,
  binanceOpenInterest,
  binancePredictedFunding,
  binanceTakerVolume,
  decodeBinanceKlines,
  snapFundingTime,
} from '../../normalize/binance.js';
import { normaliseAt } from '../../normalize/guard.js';
import type { InstrumentInfo } from '../../normalize/symbols.js';
import { LiveVenueClient, type StreamContext } from '../base.js';
import {
  BINANCE_CAPABILITIES,
  BINANCE_STATS_PERIODS,
  type Capabilities,
  DEFAULT_FUNDING_PERIOD_MS,
} from '../capabilities.js';
import { orderedPages, periodWindows, timeWindows } from '../pagination.js';
import { normalisedPages, type Schema, type VenueAdapter } from '../transport/index.js';
import type { ClientOptions, HistoryParams, IntervalHistoryParams } from '../types.js';
import * as raw from './schemas.js';
import { BinanceStreams } from './ws.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Kline page size: `limit=499` costs 2 weight, the most candles per weight (see the reference, §1.3). */
export const BINANCE_KLINE_PAGE = 499;
const STATS_PERIODS: ReadonlySet<Interval> = new Set(BINANCE_STATS_PERIODS);
const LONG_SHORT_PATHS: Record<LongShortKind, string> = {
  global: '/futures/data/globalLongShortAccountRatio',
  topAccount: '/futures/data/topLongShortAccountRatio',
  topPosition: '/futures/data/topLongShortPositionRatio',
};

/** Request weight of `/fapi/v1/klines` by `limit` (§1.3). */
export function binanceKlineWeight(limit: number): number {
  if (limit < 100) return 1;
  if (limit < 500) return 2;
  if (limit <= 1000) return 5;
  return 10;
}

/** Binance's published IP budget: 2,400 request weight per minute. */
export const BINANCE_DEFAULT_RATE_LIMIT = { limit: 2400, intervalMs: MINUTE } as const;

const adapter: VenueAdapter = {
  venue: 'binance',
  usedFromHeaders(headers) {
    const v = headers.get('x-mbx-used-weight-1m');
    return v === null ? undefined : Number(v);
  },
  errorOf({ status, headers, body, endpoint, url, egress, now }): PerpdataError | undefined {
    if (status >= 200 && status < 300) return undefined;
    const parsed = raw.errorBody.safeParse(body);
    const msg = parsed.success
      ? parsed.data.msg
      : typeof body === 'string'
        ? body.slice(0, 200)
        : `HTTP ${status}`;
    const venueCode = parsed.success ? parsed.data.code : undefined;
    const context = { venue: 'binance', endpoint, status, venueCode, egress };
    const retryAfter = Number(headers.get('retry-after'));
    if (status === 418) {
      const until = /banned until (\d{12,})/.exec(msg)?.[1];
      const retryAt = until ? Number(until) : retryAfter > 0 ? now + retryAfter * 1000 : now + 2 * MINUTE;
      return new RateLimitError(`IP banned: ${msg}`, { ...context, retryAt, banned: true });
    }
    if (status === 429) {
      // Retry-After when sent; otherwise the rest of the UTC minute that the weight is counted in.
      const retryAt = retryAfter > 0 ? now + retryAfter * 1000 : Math.floor(now / MINUTE) * MINUTE + MINUTE;
      return new RateLimitError(`Rate limited: ${msg}`, { ...context, retryAt });
    }
    if (venueCode === -1121) return new UnknownSymbolError(url.searchParams.get('symbol') ?? '', context);
    return new HttpError(msg, context);
  },
};

/**
 * Binance USDⓈ-M futures: history over REST with pagination, weight budgeting and failover.
 * @example
 * import { BinanceClient } from 'perpdata';
 *
 * const binance = new BinanceClient();
 * for await (const page of binance.candles({ symbol: 'BTC', interval: '1m', from: '2024-01-01', to: '2024-01-02' })) {
 *   console.log(page.length, page[0]?.close, page[0]?.takerBuyVolume);
 * }
 * await binance.close();
 */
export class BinanceClient extends LiveVenueClient {
  /** Venue name. */
  readonly venue = 'binance' as const;
  protected readonly registryExchange = 'binance' as const;
  /** What Binance serves (`BINANCE_CAPABILITIES`). */
  readonly capabilities: Capabilities = BINANCE_CAPABILITIES;
  /** `fundingInfo` (instruments whose funding was adjusted), loaded once per hour. */
  #fundingInfo: { hours: Map<string, number>; at: number } | undefined;

  constructor(options: ClientOptions = {}) {
    super(options, {
      baseUrl: 'https://fapi.binance.com',
      rateLimit: BINANCE_DEFAULT_RATE_LIMIT,
      adapter,
      buckets: (rateLimit) => ({
        // Request weight per IP, counted in fixed windows (the UTC minute).
        weight: { ...rateLimit, window: 'fixed' },
        // /fapi/v1/fundingRate and fundingInfo: 500 requests per 5 minutes, shared.
        funding: { limit: 500, intervalMs: 5 * MINUTE, window: 'rolling' },
        // /futures/data/*: 1,000 requests per 5 minutes.
        stats: { limit: 1000, intervalMs: 5 * MINUTE, window: 'rolling' },
      }),
    });
  }

  /** USDT perpetuals with their canonical mapping and listing time; also refreshes the weight budget from `rateLimits`. */
  async instruments(options: { signal?: AbortSignal } = {}): Promise<InstrumentInfo[]> {
    const { data } = await this.transport.get({
      path: '/fapi/v1/exchangeInfo',
      bucket: 'weight',
      cost: 1,
      schema: raw.exchangeInfo,
      signal: options.signal,
    });
    const weight = data.rateLimits?.find((r) => r.rateLimitType === 'REQUEST_WEIGHT');
    if (weight && !this.options.rateLimit) {
      const unit =
        weight.interval === 'SECOND'
          ? 1_000
          : weight.interval === 'MINUTE'
            ? MINUTE
            : weight.interval === 'HOUR'
              ? 60 * MINUTE
              : DAY;
      this.transport.setBudget('weight', {
        limit: weight.limit,
        intervalMs: unit * weight.intervalNum,
        window: 'fixed',
      });
    }
    return binanceInstruments(data.symbols);
  }

  /** The venue's clock, epoch ms. */
  override async serverTime(options: { signal?: AbortSignal } = {}): Promise<number> {
    const { data } = await this.transport.get({
      path: '/fapi/v1/time',
      bucket: 'weight',
      cost: 1,
      schema: raw.serverTime,
      signal: options.signal,
    });
    return data.serverTime;
  }

  /**
   * Closed candles in `[from, to)`, ascending, in pages. Pages of 499 candles (2 weight each) are
   * fetched `concurrency` at a time per egress and yielded in order; the forming candle is never returned.
   */
  async *candles(params: IntervalHistoryParams): AsyncGenerator<Candle[], void, undefined> {
    const { interval } = params;
    assertInterval(interval);
    const range = toRange(params.from, params.to);
    if (range.from === range.to) return; // [t, t): empty, no request
    const signal = params.signal;
    const instrument = await this.instrument(params.symbol, signal);
    const step = interval === '1M' ? 31 * DAY : intervalMs(interval);
    const now = await this.venueNow(range.to, step, signal);
    const to = Math.min(range.to, floorToInterval(now, interval));
    const from = ceilToInterval(range.from, interval);
    if (from >= to) return;
    const ctx = { instrument, interval };
    const pages = normalisedPages(
      raw.klines,
      (rows) => binanceCandles(rows, ctx),
      (body) => decodeBinanceKlines(body, ctx),
    );
    const fetchWindow = async (w: { start: number; end: number }, s: AbortSignal): Promise<Candle[]> => {
      const out: Candle[] = [];
      let cursor = w.start;
      while (cursor < w.end) {
        const periods = interval === '1M' ? BINANCE_KLINE_PAGE : Math.ceil((w.end - cursor) / step);
        const limit = Math.min(BINANCE_KLINE_PAGE, periods);
        const { data } = await this.transport.get({
          path: '/fapi/v1/klines',
          query: { symbol: instrument.instrument, interval, startTime: cursor, endTime: w.end - 1, limit },
          bucket: 'weight',
          cost: binanceKlineWeight(limit),
          ...pages,
          signal: s,
        });
        let last: number | undefined;
        for (const c of data) {
          if (c.ts < cursor || c.ts >= w.end) continue;
          out.push(c);
          last = c.ts;
        }
        // A full page that stops short of the window's end means more rows exist; anything else is the end (or a venue-side hole).
        if (data.length < limit || last === undefined) break;
        cursor = addInterval(last, interval, 1);
      }
      return out;
    };
    yield* orderedPages(periodWindows(from, to, interval, BINANCE_KLINE_PAGE), fetchWindow, {
      concurrency: this.pagesInFlight,
      signal,
    });
  }

  /** Settled funding rates in `[from, to)` (by funding time snapped to the hour grid), ascending. */
  async *funding(params: HistoryParams): AsyncGenerator<FundingRate[], void, undefined> {
    const range = toRange(params.from, params.to);
    if (range.from === range.to) return; // [t, t): empty, no request
    const signal = params.signal;
    const instrument = await this.instrument(params.symbol, signal);
    const to = Math.min(range.to, this.now() + MINUTE);
    if (range.from >= to) return;
    const limit = 1000;
    // Funding is at most hourly, so a window of 1,000 hours never holds more than one page. Windows are
    // shifted by half an hour because raw funding times sit a few ms off the boundary.
    const half = 30 * MINUTE;
    const fetchWindow = async (w: { start: number; end: number }, s: AbortSignal): Promise<FundingRate[]> => {
      const { data } = await this.transport.get({
        path: '/fapi/v1/fundingRate',
        query: { symbol: instrument.instrument, startTime: w.start, endTime: w.end - 1, limit },
        bucket: 'funding',
        cost: 1,
        schema: raw.fundingRates,
        signal: s,
      });
      const rows = data.filter((r) => {
        const ts = snapFundingTime(r.fundingTime);
        return ts >= range.from && ts < to && r.fundingTime >= w.start && r.fundingTime < w.end;
      });
      return normaliseAt({ venue: 'binance', endpoint: '/fapi/v1/fundingRate' }, data, () =>
        binanceFunding(rows, { instrument }),
      );
    };
    yield* orderedPages(timeWindows(range.from - half, to - half, limit * 60 * MINUTE), fetchWindow, {
      concurrency: this.pagesInFlight,
      signal,
    });
  }

  /** The currently accruing funding rate (`premiumIndex`), as one page with one record. */
  async *predictedFunding(params: {
    symbol: string;
    signal?: AbortSignal;
  }): AsyncGenerator<PredictedFunding[], void, undefined> {
    const signal = params.signal;
    const instrument = await this.instrument(params.symbol, signal);
    const { data } = await this.transport.get({
      path: '/fapi/v1/premiumIndex',
      query: { symbol: instrument.instrument },
      bucket: 'weight',
      cost: 1,
      schema: raw.premiumIndex,
      signal,
    });
    yield [
      normaliseAt({ venue: 'binance', endpoint: '/fapi/v1/premiumIndex' }, data, () =>
        binancePredictedFunding(data, { instrument }),
      ),
    ];
  }

  /** Shared pagination of the `/futures/data/*` statistics (30 days, periods 5m–1d, 500 rows a page). */
  async *#stats<R, T extends { ts: number }>(
    params: IntervalHistoryParams,
    path: string,
    schema: Schema<R[]>,
    normalize: (rows: R[], instrument: InstrumentInfo) => T[],
  ): AsyncGenerator<T[], void, undefined> {
    const { interval } = params;
    assertInterval(interval);
    if (!STATS_PERIODS.has(interval)) {
      throw new UnsupportedError(`Binance ${path} has no ${interval} period`, {
        meta: { Periods: [...STATS_PERIODS].join(' ') },
      });
    }
    const range = toRange(params.from, params.to);
    if (range.from === range.to) return; // [t, t): empty, no request
    const signal = params.signal;
    const instrument = await this.instrument(params.symbol, signal);
    const step = intervalMs(interval);
    const now = this.now();
    const to = Math.min(range.to, floorToInterval(now, interval));
    // The oldest period the venue still has (one period of margin for clocks and the daily cut).
    const earliest = BINANCE_CAPABILITIES.kinds.openInterest!.earliest(now, interval);
    const from = ceilToInterval(
      this.clampToRetention(range.from, earliest, to, path, 'the latest 30 days'),
      interval,
    );
    if (from >= to) return;
    const limit = 500;
    const fetchWindow = async (w: { start: number; end: number }, s: AbortSignal): Promise<T[]> => {
      const { data } = await this.transport.get({
        path,
        query: {
          symbol: instrument.instrument,
          period: interval,
          startTime: w.start,
          endTime: w.end - 1,
          limit,
        },
        bucket: 'stats',
        cost: 1,
        schema,
        signal: s,
      });
      const records = normaliseAt({ venue: 'binance', endpoint: path }, data, () =>
        normalize(data, instrument),
      );
      return records.filter((r) => r.ts >= w.start && r.ts < w.end);
    };
    yield* orderedPages(timeWindows(from, to, limit * step), fetchWindow, {
      concurrency: this.pagesInFlight,
      signal,
    });
  }

  /** One-sided open interest in base units (and USD), periods 5m–1d, latest 30 days. */
  openInterest(params: IntervalHistoryParams): AsyncGenerator<OpenInterest[], void, undefined> {
    return this.#stats(params, '/futures/data/openInterestHist', raw.openInterestHist, (rows, instrument) =>
      binanceOpenInterest(rows, { instrument, interval: params.interval }),
    );
  }

  /**
   * Long/short ratio of all accounts (`global`, default), top traders by account (`topAccount`) or by
   * position (`topPosition`); periods 5m–1d, latest 30 days.
   */
  longShortRatio(
    params: IntervalHistoryParams & { kind?: LongShortKind },
  ): AsyncGenerator<LongShortRatio[], void, undefined> {
    const kind = params.kind ?? 'global';
    const path = LONG_SHORT_PATHS[kind];
    if (!path) throw new InvalidArgumentError(`Unknown long/short kind ${JSON.stringify(kind)}`);
    return this.#stats(params, path, raw.longShortRatios, (rows, instrument) =>
      binanceLongShortRatio(rows, { instrument, interval: params.interval, kind }),
    );
  }

  /** Taker buy and sell volume per period (5m–1d, latest 30 days). For 1m, use `candles` (`takerBuyVolume`). */
  takerVolume(params: IntervalHistoryParams): AsyncGenerator<TakerVolume[], void, undefined> {
    return this.#stats(params, '/futures/data/takerlongshortRatio', raw.takerVolumes, (rows, instrument) =>
      binanceTakerVolume(rows, { instrument, interval: params.interval }),
    );
  }

  /** Not served: Binance has no public REST history of market liquidations (use Coinalyze, or the WebSocket). */
  // biome-ignore lint/correctness/useYield: throws by design before yielding anything.
  async *liquidations(_params: IntervalHistoryParams): AsyncGenerator<Liquidation[], void, undefined> {
    throw new UnsupportedError(
      'Binance has no public REST history of liquidations; use CoinalyzeClient.liquidations',
    );
  }

  /**
   * The funding period from `/fapi/v1/fundingInfo`, which lists only the instruments whose cap,
   * floor or interval were adjusted; any other instrument funds every 8 h.
   */
  protected async readFundingPeriod(symbol: string, signal: AbortSignal | undefined): Promise<number> {
    const instrument = await this.instrument(symbol, signal);
    const at = this.now();
    if (!this.#fundingInfo || at - this.#fundingInfo.at >= 3_600_000 || at < this.#fundingInfo.at) {
      const { data } = await this.transport.get({
        path: '/fapi/v1/fundingInfo',
        bucket: 'funding',
        cost: 1,
        schema: raw.fundingInfo,
        signal,
      });
      this.#fundingInfo = { hours: new Map(data.map((r) => [r.symbol, r.fundingIntervalHours])), at };
    }
    const hours = this.#fundingInfo.hours.get(instrument.instrument);
    return hours === undefined ? DEFAULT_FUNDING_PERIOD_MS : hours * 3_600_000;
  }

  /** The live side: BinanceStreams with this client's egresses, registry and REST gap fill. */
  protected createStreams(context: StreamContext): BinanceStreams {
    return new BinanceStreams(context);
  }
}
