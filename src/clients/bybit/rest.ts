import {
  HttpError,
  type PerpdataError,
  RateLimitError,
  UnknownSymbolError,
  UnsupportedError,
} from '../../core/errors.js';
import type { Interval } from '../../core/intervals.js';
import { assertInterval, ceilToInterval, floorToInterval, intervalMs } from '../../core/intervals.js';
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
  bybitCandles,
  bybitFunding,
  bybitInstruments,
  bybitLongShortRatio,
  bybitOpenInterest,
  bybitPredictedFunding,
  bybitServerTime,
  decodeBybitKlines,
} from '../../normalize/bybit.js';
import { normaliseAt } from '../../normalize/guard.js';
import type { InstrumentInfo } from '../../normalize/symbols.js';
import { LiveVenueClient, type StreamContext } from '../base.js';
import { bybitCapabilities, type Capabilities, DEFAULT_FUNDING_PERIOD_MS } from '../capabilities.js';
import { orderedPages, periodWindows, timeWindows } from '../pagination.js';
import { normalisedPages, type Schema, type VenueAdapter } from '../transport/index.js';
import type { ClientOptions, HistoryParams, IntervalHistoryParams } from '../types.js';
import {
  BYBIT_KLINE_INTERVALS,
  BYBIT_STATS_INTERVALS,
  bybitKlineInterval,
  bybitStatsInterval,
} from './intervals.js';
import * as raw from './schemas.js';
import { BybitStreams } from './ws.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Kline page size: the documented maximum of `/v5/market/kline` (reference §2.3). */
export const BYBIT_KLINE_PAGE = 1000;
/** Funding-history page size (the maximum, and the default). */
export const BYBIT_FUNDING_PAGE = 200;
/** Open-interest page size (the maximum; the default is 50). */
export const BYBIT_OPEN_INTEREST_PAGE = 200;
/** Account-ratio page size (the maximum; the default is 50). */
export const BYBIT_ACCOUNT_RATIO_PAGE = 500;
/** How long Bybit refuses an IP after HTTP 403 "access too frequent": at least ten minutes. */
export const BYBIT_BAN_MS = 10 * MINUTE;
/** Bybit's published IP budget: 600 requests per 5-second window. */
export const BYBIT_DEFAULT_RATE_LIMIT = { limit: 600, intervalMs: 5_000 } as const;

/** `retCode`s that are the venue's own transient failures (server timeout, server error). */
const TRANSIENT_CODES = new Set([10000, 10016]);

/** A parsed `/v5/market/kline` body. */
type KlineBody = Extract<ReturnType<typeof raw.kline.safeParse>, { success: true }>['data'];
const DECIMAL = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const DIGITS = /^\d+$/;

/** The kline row's start time as a number, or `undefined` when it breaks `raw.klineRow`'s rule. */
function millisOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  return typeof v === 'string' && DIGITS.test(v) ? Number(v) : undefined;
}

/**
 * Kline pages are the hot path of a backfill: rows are checked with the same rules as `raw.kline` by
 * a plain loop (start times become numbers, as zod's transform does), and only a page that fails goes
 * through zod, for its precise issues.
 */
const klinePage: Schema<KlineBody> = {
  safeParse(data) {
    const body = data as { retCode?: unknown; retMsg?: unknown; time?: unknown; result?: { list?: unknown } };
    const list = body?.result?.list;
    if (
      body?.retCode === 0 &&
      typeof body.retMsg === 'string' &&
      Number.isInteger(body.time) &&
      Array.isArray(list)
    ) {
      const starts: number[] = [];
      let ok = true;
      for (const r of list as unknown[][]) {
        const start = Array.isArray(r) && r.length >= 7 ? millisOf(r[0]) : undefined;
        if (start === undefined) {
          ok = false;
          break;
        }
        for (let i = 1; i < 7; i++) {
          const v = r[i];
          if (typeof v !== 'string' || !DECIMAL.test(v)) {
            ok = false;
            break;
          }
        }
        if (!ok) break;
        starts.push(start);
      }
      if (ok) {
        (list as unknown[][]).forEach((r, i) => {
          r[0] = starts[i];
        });
        return { success: true, data: data as KlineBody };
      }
    }
    return raw.kline.safeParse(data);
  },
};

const adapter: VenueAdapter = {
  venue: 'bybit',
  errorOf({ status, headers, body, endpoint, url, egress, now }): PerpdataError | undefined {
    const envelope = raw.envelopeError(body);
    const venueCode = envelope?.retCode;
    const context = { venue: 'bybit', endpoint, status, venueCode, egress };
    if (status === 403) {
      // "access too frequent": the IP is refused for at least ten minutes (reference §2.2).
      return new RateLimitError('IP banned by Bybit (HTTP 403 access too frequent)', {
        ...context,
        retryAt: now + BYBIT_BAN_MS,
        banned: true,
      });
    }
    const retryAfter = Number(headers.get('retry-after'));
    if (status === 429 || venueCode === 10006) {
      const retryAt = retryAfter > 0 ? now + retryAfter * 1000 : now + 1_000;
      return new RateLimitError(`Rate limited: ${envelope?.retMsg ?? `HTTP ${status}`}`, {
        ...context,
        retryAt,
      });
    }
    if (envelope) {
      if (envelope.retCode === 10001 && /not supported symbol/i.test(envelope.retMsg)) {
        return new UnknownSymbolError(url.searchParams.get('symbol') ?? '', context);
      }
      if (TRANSIENT_CODES.has(envelope.retCode)) {
        // Server-side failures inside HTTP 200: classified like a 503 so that they are retried.
        return new HttpError(`Bybit ${envelope.retCode}: ${envelope.retMsg}`, { ...context, status: 503 });
      }
      return new HttpError(`Bybit ${envelope.retCode}: ${envelope.retMsg}`, context);
    }
    if (status >= 200 && status < 300) return undefined;
    const text = typeof body === 'string' ? body.slice(0, 200) : `HTTP ${status}`;
    return new HttpError(text || `HTTP ${status}`, context);
  },
};

/**
 * Bybit v5 (category `linear`, USDT perpetuals): history over REST with pagination, the IP budget
 * and failover. Errors inside HTTP 200 (`retCode != 0`) become typed errors, never data.
 * @example
 * import { BybitClient } from 'perpdata';
 *
 * const bybit = new BybitClient();
 * for await (const page of bybit.candles({ symbol: 'PEPE', interval: '1h', from: '2024-05-01', to: '2024-05-02' })) {
 *   console.log(page.length, page[0]?.close); // price per one PEPE (the venue lists 1000PEPEUSDT)
 * }
 * await bybit.close();
 */
export class BybitClient extends LiveVenueClient {
  /** Venue name. */
  readonly venue = 'bybit' as const;
  protected readonly registryExchange = 'bybit' as const;
  /** What Bybit serves: no taker volume, liquidations live only, open interest in base units only. */
  readonly capabilities: Capabilities = bybitCapabilities(
    Object.keys(BYBIT_KLINE_INTERVALS) as Interval[],
    Object.keys(BYBIT_STATS_INTERVALS) as Interval[],
  );

  constructor(options: ClientOptions = {}) {
    super(options, {
      baseUrl: 'https://api.bybit.com',
      rateLimit: BYBIT_DEFAULT_RATE_LIMIT,
      adapter,
      // Requests per IP over a sliding window: a breach costs a ten-minute ban.
      buckets: (rateLimit) => ({ ip: { ...rateLimit, window: 'rolling' } }),
    });
  }

  #get<T>(
    path: string,
    query: Record<string, string | number | undefined>,
    schema: Schema<T>,
    signal?: AbortSignal,
  ) {
    return this.transport.get({
      path,
      query: { category: 'linear', ...query },
      bucket: 'ip',
      cost: 1,
      schema,
      signal,
    });
  }

  /** USDT linear perpetuals with their canonical mapping (`1000PEPEUSDT` → PEPE ×1000), every cursor page. */
  async instruments(options: { signal?: AbortSignal } = {}): Promise<InstrumentInfo[]> {
    const out: InstrumentInfo[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const { data } = await this.#get(
        '/v5/market/instruments-info',
        { limit: 1000, cursor },
        raw.instrumentsInfo,
        options.signal,
      );
      out.push(...bybitInstruments(data.result.list));
      cursor = data.result.nextPageCursor;
      if (!cursor) break;
    }
    return out;
  }

  /** The venue's clock, epoch ms. */
  override async serverTime(options: { signal?: AbortSignal } = {}): Promise<number> {
    const { data } = await this.transport.get({
      path: '/v5/market/time',
      bucket: 'ip',
      cost: 1,
      schema: raw.serverTime,
      signal: options.signal,
    });
    return normaliseAt({ venue: 'bybit', endpoint: '/v5/market/time' }, data, () =>
      bybitServerTime(data.result),
    );
  }

  /**
   * Closed candles in `[from, to)`, ascending, in pages. Windows of up to 1,000 periods are asked
   * with both (inclusive) bounds, `concurrency` at a time per egress, and yielded in order; should
   * the venue serve fewer rows than asked, the window is walked backwards with `end = oldest − 1`.
   * The forming candle (listed first by Bybit) is never returned.
   */
  async *candles(params: IntervalHistoryParams): AsyncGenerator<Candle[], void, undefined> {
    const { interval } = params;
    assertInterval(interval);
    const spelling = bybitKlineInterval(interval);
    const range = toRange(params.from, params.to);
    if (range.from === range.to) return; // [t, t): empty, no request
    const { signal } = params;
    const instrument = await this.instrument(params.symbol, signal);
    const step = interval === '1M' ? 31 * DAY : intervalMs(interval);
    const now = await this.venueNow(range.to, step, signal);
    const to = Math.min(range.to, floorToInterval(now, interval));
    const from = ceilToInterval(range.from, interval);
    if (from >= to) return;
    const ctx = { instrument, interval, now };
    const pages = normalisedPages(
      klinePage,
      (page) => bybitCandles(page.result.list, ctx),
      (body) => decodeBybitKlines(body, ctx),
    );
    const fetchWindow = async (w: { start: number; end: number }, s: AbortSignal): Promise<Candle[]> => {
      const out: Candle[] = [];
      let end = w.end - 1;
      while (end >= w.start) {
        const periods = interval === '1M' ? BYBIT_KLINE_PAGE : Math.ceil((end + 1 - w.start) / step);
        const { data } = await this.transport.get({
          path: '/v5/market/kline',
          query: {
            category: 'linear',
            symbol: instrument.instrument,
            interval: spelling,
            start: w.start,
            end,
            limit: Math.min(BYBIT_KLINE_PAGE, periods),
          },
          bucket: 'ip',
          cost: 1,
          ...pages,
          signal: s,
        });
        // Candles come ascending; the oldest in range moves the cursor.
        const inRange = data.filter((c) => c.ts >= w.start && c.ts <= end);
        if (inRange.length === 0) break;
        out.push(...inRange);
        const oldest = inRange[0]!.ts;
        if (oldest <= w.start) break;
        end = oldest - 1;
      }
      return out.sort((a, b) => a.ts - b.ts);
    };
    yield* orderedPages(periodWindows(from, to, interval, BYBIT_KLINE_PAGE), fetchWindow, {
      concurrency: this.pagesInFlight,
      signal,
    });
  }

  /**
   * Settled funding rates in `[from, to)`, ascending. Bybit refuses `startTime` alone, so every
   * window of 200 hours (funding is at most hourly: never more than one page) is asked with both bounds.
   */
  async *funding(params: HistoryParams): AsyncGenerator<FundingRate[], void, undefined> {
    const range = toRange(params.from, params.to);
    if (range.from === range.to) return; // [t, t): empty, no request
    const { signal } = params;
    const instrument = await this.instrument(params.symbol, signal);
    const to = Math.min(range.to, this.now() + MINUTE);
    if (range.from >= to) return;
    const fetchWindow = async (w: { start: number; end: number }, s: AbortSignal): Promise<FundingRate[]> => {
      const out: FundingRate[] = [];
      let end = w.end - 1;
      while (end >= w.start) {
        const { data } = await this.#get(
          '/v5/market/funding/history',
          { symbol: instrument.instrument, startTime: w.start, endTime: end, limit: BYBIT_FUNDING_PAGE },
          raw.fundingHistory,
          s,
        );
        const rows = data.result.list.filter(
          (r) => r.fundingRateTimestamp >= w.start && r.fundingRateTimestamp <= end,
        );
        out.push(
          ...normaliseAt({ venue: 'bybit', endpoint: '/v5/market/funding/history' }, data, () =>
            bybitFunding(rows, { instrument }),
          ),
        );
        if (data.result.list.length < BYBIT_FUNDING_PAGE || rows.length === 0) break;
        end = Math.min(...rows.map((r) => r.fundingRateTimestamp)) - 1;
      }
      return out.filter((r) => r.ts >= range.from && r.ts < to).sort((a, b) => a.ts - b.ts);
    };
    yield* orderedPages(timeWindows(range.from, to, BYBIT_FUNDING_PAGE * HOUR), fetchWindow, {
      concurrency: this.pagesInFlight,
      signal,
    });
  }

  /** The rate that settles at the next funding time (`/v5/market/tickers`), as one page with one record. */
  async *predictedFunding(params: {
    symbol: string;
    signal?: AbortSignal;
  }): AsyncGenerator<PredictedFunding[], void, undefined> {
    const { signal } = params;
    const instrument = await this.instrument(params.symbol, signal);
    const { data } = await this.#get(
      '/v5/market/tickers',
      { symbol: instrument.instrument },
      raw.tickers,
      signal,
    );
    const records = normaliseAt({ venue: 'bybit', endpoint: '/v5/market/tickers' }, data, () =>
      bybitPredictedFunding(data.result.list, { instrument, time: data.time }),
    );
    if (records.length > 0) yield records;
  }

  /** Cursor-paged statistics (open interest, account ratio): a `[start, end]` window, then `cursor` until `""`. */
  async *#stats<R extends { timestamp: number }, T extends { ts: number }>(
    params: IntervalHistoryParams,
    path: string,
    periodParam: 'intervalTime' | 'period',
    limit: number,
    schema: Schema<{ result: { list: R[]; nextPageCursor?: string | undefined } }>,
    normalize: (rows: R[], instrument: InstrumentInfo) => T[],
  ): AsyncGenerator<T[], void, undefined> {
    const { interval } = params;
    const spelling = bybitStatsInterval(interval);
    const range = toRange(params.from, params.to);
    if (range.from === range.to) return; // [t, t): empty, no request
    const { signal } = params;
    const instrument = await this.instrument(params.symbol, signal);
    const step = intervalMs(interval);
    const to = Math.min(range.to, floorToInterval(this.now(), interval));
    const from = ceilToInterval(range.from, interval);
    if (from >= to) return;
    const fetchWindow = async (w: { start: number; end: number }, s: AbortSignal): Promise<T[]> => {
      const rows: R[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 1000; page++) {
        const { data } = await this.#get(
          path,
          {
            symbol: instrument.instrument,
            [periodParam]: spelling,
            startTime: w.start,
            endTime: w.end - 1,
            limit,
            cursor,
          },
          schema,
          s,
        );
        rows.push(...data.result.list.filter((r) => r.timestamp >= w.start && r.timestamp < w.end));
        cursor = data.result.nextPageCursor;
        if (!cursor || data.result.list.length === 0) break;
      }
      return normaliseAt({ venue: 'bybit', endpoint: path }, rows, () => normalize(rows, instrument));
    };
    yield* orderedPages(timeWindows(from, to, limit * step), fetchWindow, {
      concurrency: this.pagesInFlight,
      signal,
    });
  }

  /**
   * One-sided open interest in base units (`singleOpenInterest`, or half of the two-sided
   * `openInterest` where rows lack it), periods 5m–1d, back to the listing. `openInterestUsd` is
   * absent: the history carries no price, and multiplying by a candle's price would be an estimate,
   * not the venue's figure (`/v5/market/tickers` has an exact `openInterestValue`, for now only).
   */
  openInterest(params: IntervalHistoryParams): AsyncGenerator<OpenInterest[], void, undefined> {
    return this.#stats(
      params,
      '/v5/market/open-interest',
      'intervalTime',
      BYBIT_OPEN_INTEREST_PAGE,
      raw.openInterest,
      (rows, instrument) => bybitOpenInterest(rows, { instrument, interval: params.interval }),
    );
  }

  /** Long/short ratio of all accounts (`account-ratio`), periods 5m–1d. Bybit has no top-trader ratios. */
  longShortRatio(
    params: IntervalHistoryParams & { kind?: LongShortKind },
  ): AsyncGenerator<LongShortRatio[], void, undefined> {
    const kind = params.kind ?? 'global';
    if (kind !== 'global') {
      return rejecting(`Bybit has no ${kind} long/short ratio (only all accounts: 'global')`);
    }
    return this.#stats(
      params,
      '/v5/market/account-ratio',
      'period',
      BYBIT_ACCOUNT_RATIO_PAGE,
      raw.accountRatio,
      (rows, instrument) => bybitLongShortRatio(rows, { instrument, interval: params.interval }),
    );
  }

  /** Not served: Bybit v5 has no REST endpoint for taker volume (Coinalyze candles carry `takerBuyVolume`). */
  takerVolume(_params: IntervalHistoryParams): AsyncGenerator<TakerVolume[], void, undefined> {
    return rejecting('Bybit has no REST taker volume; use CoinalyzeClient.candles (takerBuyVolume)');
  }

  /** Not served: Bybit has no REST history of liquidations (use Coinalyze, or `watchLiquidations`). */
  liquidations(_params: IntervalHistoryParams): AsyncGenerator<Liquidation[], void, undefined> {
    return rejecting('Bybit has no REST history of liquidations; use CoinalyzeClient.liquidations');
  }

  /** The funding period from `/v5/market/instruments-info` (`fundingInterval`, minutes); 8 h when absent. */
  protected async readFundingPeriod(symbol: string, signal: AbortSignal | undefined): Promise<number> {
    const instrument = await this.instrument(symbol, signal);
    const { data } = await this.#get(
      '/v5/market/instruments-info',
      { symbol: instrument.instrument },
      raw.instrumentsInfo,
      signal,
    );
    const row = data.result.list.find((r) => r.symbol === instrument.instrument);
    const minutes = row?.fundingInterval;
    return minutes !== undefined && minutes > 0 ? minutes * MINUTE : DEFAULT_FUNDING_PERIOD_MS;
  }

  /** The live side: BybitStreams with this client's egresses, registry and REST gap fill. */
  protected createStreams(context: StreamContext): BybitStreams {
    return new BybitStreams(context);
  }
}

/** An iteration whose first `next()` rejects with `UnsupportedError` (what every unserved method returns). */
// biome-ignore lint/correctness/useYield: rejects by design before yielding anything.
async function* rejecting<T>(message: string): AsyncGenerator<T, void, undefined> {
  throw new UnsupportedError(message);
}
