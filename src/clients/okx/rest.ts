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
import { normaliseAt } from '../../normalize/guard.js';
import {
  decodeOkxCandles,
  okxCandles,
  okxFunding,
  okxInstruments,
  okxLongShortRatio,
  okxOpenInterest,
  okxPredictedFunding,
  okxServerTime,
  okxTakerVolume,
} from '../../normalize/okx.js';
import type { InstrumentInfo } from '../../normalize/symbols.js';
import { LiveVenueClient, type StreamContext } from '../base.js';
import {
  type Capabilities,
  DEFAULT_FUNDING_PERIOD_MS,
  OKX_RUBIK_RETENTION_ROWS,
  okxCapabilities,
} from '../capabilities.js';
import { orderedPages, periodWindows, timeWindows } from '../pagination.js';
import {
  normalisedPages,
  type Schema,
  type TransportRequest,
  type VenueAdapter,
} from '../transport/index.js';
import type { ClientOptions, HistoryParams, IntervalHistoryParams, RateLimit } from '../types.js';
import { OKX_BARS, OKX_RUBIK_PERIODS, okxBar, okxRubikPeriod } from './intervals.js';
import * as raw from './schemas.js';
import { OkxStreams } from './ws.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const WINDOW = 2_000;

/** History-candle page size (the maximum; older doc copies say 100, which the pagination tolerates). */
export const OKX_CANDLE_PAGE = 300;
/** Funding-history page size (the maximum). */
export const OKX_FUNDING_PAGE = 400;
/** Rubik statistics page size (the maximum). */
export const OKX_RUBIK_PAGE = 100;

const RUBIK = '/api/v5/rubik/stat/contracts';
const LONG_SHORT_PATHS: Record<LongShortKind, string> = {
  global: `${RUBIK}/long-short-account-ratio-contract`,
  topAccount: `${RUBIK}/long-short-account-ratio-contract-top-trader`,
  topPosition: `${RUBIK}/long-short-position-ratio-contract-top-trader`,
};

/**
 * OKX's published budgets per endpoint (requests per 2 s, reference §3.3). Those the venue keys on
 * IP + instId are counted per instrument on each egress, so symbols do not queue behind each other.
 */
export const OKX_RATE_LIMITS: Readonly<Record<string, RateLimit>> = {
  '/api/v5/market/history-candles': { limit: 20, intervalMs: WINDOW },
  '/api/v5/public/funding-rate': { limit: 10, intervalMs: WINDOW },
  '/api/v5/public/funding-rate-history': { limit: 10, intervalMs: WINDOW },
  [`${RUBIK}/open-interest-history`]: { limit: 10, intervalMs: WINDOW },
  [LONG_SHORT_PATHS.global]: { limit: 5, intervalMs: WINDOW },
  [LONG_SHORT_PATHS.topAccount]: { limit: 5, intervalMs: WINDOW },
  [LONG_SHORT_PATHS.topPosition]: { limit: 5, intervalMs: WINDOW },
  '/api/v5/rubik/stat/taker-volume-contract': { limit: 5, intervalMs: WINDOW },
  '/api/v5/public/instruments': { limit: 20, intervalMs: WINDOW },
  '/api/v5/public/time': { limit: 10, intervalMs: WINDOW },
};

/** Endpoints whose budget OKX counts per IP and instrument (§3.3): each instrument has its own. */
const PER_INSTRUMENT: ReadonlySet<string> = new Set([
  '/api/v5/public/funding-rate',
  '/api/v5/public/funding-rate-history',
  `${RUBIK}/open-interest-history`,
  LONG_SHORT_PATHS.global,
  LONG_SHORT_PATHS.topAccount,
  LONG_SHORT_PATHS.topPosition,
  '/api/v5/rubik/stat/taker-volume-contract',
]);

/** `code`s that are the venue's own transient failures (system busy, service unavailable, system error). */
const TRANSIENT_CODES = new Set(['50013', '50001', '50026']);

/** A parsed candles body. */
type CandlesBody = Extract<ReturnType<typeof raw.candles.safeParse>, { success: true }>['data'];
const DECIMAL = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const DIGITS = /^\d+$/;

/** The row's time as a number, or `undefined` when it breaks `raw.candleRow`'s rule. */
function millisOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  return typeof v === 'string' && DIGITS.test(v) ? Number(v) : undefined;
}

function isCandleRow(r: unknown[]): boolean {
  for (let i = 1; i < 6; i++) {
    const v = r[i];
    if (typeof v !== 'string' || !DECIMAL.test(v)) return false;
  }
  for (let i = 6; i < 8; i++) {
    const v = r[i];
    if (typeof v !== 'string' || (v !== '' && !DECIMAL.test(v))) return false;
  }
  return r[8] === '0' || r[8] === '1';
}

/**
 * Candle pages are the hot path of a backfill: rows are checked with the same rules as `raw.candles`
 * by a plain loop (times become numbers, as zod's transform does), and only a page that fails goes
 * through zod, for its precise issues.
 */
const candlePage: Schema<CandlesBody> = {
  safeParse(data) {
    const body = data as { code?: unknown; msg?: unknown; data?: unknown };
    const rows = body?.data;
    if (body?.code === '0' && typeof body.msg === 'string' && Array.isArray(rows)) {
      const times: number[] = [];
      for (const r of rows as unknown[][]) {
        const ts = Array.isArray(r) && r.length >= 9 ? millisOf(r[0]) : undefined;
        if (ts === undefined || !isCandleRow(r)) return raw.candles.safeParse(data);
        times.push(ts);
      }
      (rows as unknown[][]).forEach((r, i) => {
        r[0] = times[i];
      });
      return { success: true, data: data as CandlesBody };
    }
    return raw.candles.safeParse(data);
  },
};

const adapter: VenueAdapter = {
  venue: 'okx',
  errorOf({ status, body, endpoint, url, egress, now }): PerpdataError | undefined {
    const envelope = raw.envelopeError(body);
    const venueCode = envelope?.code;
    const context = { venue: 'okx', endpoint, status, venueCode, egress };
    if (venueCode === '50011' || status === 429) {
      // No Retry-After: the budget is counted in 2 s windows, so back off one window.
      return new RateLimitError(`Rate limited: ${envelope?.msg ?? `HTTP ${status}`}`, {
        ...context,
        retryAt: now + WINDOW,
      });
    }
    if (envelope) {
      if (envelope.code === '51001')
        return new UnknownSymbolError(url.searchParams.get('instId') ?? '', context);
      if (TRANSIENT_CODES.has(envelope.code)) {
        // Server-side failures, often inside HTTP 200: classified like a 503 so that they are retried.
        return new HttpError(`OKX ${envelope.code}: ${envelope.msg}`, { ...context, status: 503 });
      }
      return new HttpError(`OKX ${envelope.code}: ${envelope.msg}`, context);
    }
    if (status >= 200 && status < 300) return undefined;
    return new HttpError(typeof body === 'string' && body ? body.slice(0, 200) : `HTTP ${status}`, context);
  },
};

/** Options of `OkxClient`: the common ones, plus per-endpoint budgets. */
export interface OkxClientOptions extends ClientOptions {
  /**
   * Budgets per endpoint path, replacing those of `OKX_RATE_LIMITS`. The common `rateLimit`, when
   * given, replaces every endpoint's budget at once (mocks, benchmarks). @default OKX_RATE_LIMITS
   */
  readonly rateLimits?: Readonly<Record<string, RateLimit>>;
}

/**
 * OKX v5 USDT swaps: history over REST with per-endpoint budgets, pagination and failover. Contract
 * counts become base units with the instrument's `ctVal`; errors inside HTTP 200 (`code !== "0"`)
 * become typed errors, never data.
 * @example
 * import { OkxClient } from 'perpdata';
 *
 * const okx = new OkxClient();
 * for await (const page of okx.candles({ symbol: 'BTC', interval: '1m', from: '2024-01-01', to: '2024-01-02' })) {
 *   console.log(page.length, page[0]?.volume); // BTC, not contracts
 * }
 * await okx.close();
 */
export class OkxClient extends LiveVenueClient<OkxClientOptions> {
  /** Venue name. */
  readonly venue = 'okx' as const;
  protected readonly registryExchange = 'okx' as const;
  /** What OKX serves: funding about three months deep, rubik statistics the latest 1,440 rows, liquidations live only. */
  readonly capabilities: Capabilities = okxCapabilities(
    Object.keys(OKX_BARS) as Interval[],
    Object.keys(OKX_RUBIK_PERIODS) as Interval[],
  );

  constructor(options: OkxClientOptions = {}) {
    super(options, {
      baseUrl: 'https://www.okx.com',
      rateLimit: OKX_RATE_LIMITS['/api/v5/market/history-candles']!,
      adapter,
      // One bucket per endpoint, named by its path; a sliding window, since the venue's is unknown.
      buckets: () => {
        const limits: Record<string, RateLimit> = { ...OKX_RATE_LIMITS, ...options.rateLimits };
        if (options.rateLimit) for (const path of Object.keys(limits)) limits[path] = options.rateLimit;
        for (const [path, limit] of Object.entries(limits)) {
          if (!(limit.limit > 0) || !(limit.intervalMs > 0)) {
            throw new InvalidArgumentError(`rateLimit of ${path} needs a positive limit and intervalMs`);
          }
        }
        return Object.fromEntries(
          Object.entries(limits).map(([path, limit]) => [path, { ...limit, window: 'rolling' as const }]),
        );
      },
    });
  }

  #get<T>(
    path: string,
    query: Record<string, string | number | undefined>,
    schema: Schema<T> | Pick<TransportRequest<T>, 'schema' | 'decode'>,
    signal?: AbortSignal,
  ) {
    const scope = PER_INSTRUMENT.has(path) ? String(query.instId) : undefined;
    const read = 'safeParse' in schema ? { schema } : schema;
    return this.transport.get({ path, query, bucket: path, scope, cost: 1, ...read, signal });
  }

  /** Live USDT-settled linear swaps with `contractSize` = `ctVal × ctMult` (base units per contract). */
  async instruments(options: { signal?: AbortSignal } = {}): Promise<InstrumentInfo[]> {
    const { data } = await this.#get(
      '/api/v5/public/instruments',
      { instType: 'SWAP' },
      raw.instruments,
      options.signal,
    );
    return okxInstruments(data.data);
  }

  /** The venue's clock, epoch ms. */
  override async serverTime(options: { signal?: AbortSignal } = {}): Promise<number> {
    const { data } = await this.#get('/api/v5/public/time', {}, raw.serverTime, options.signal);
    return normaliseAt({ venue: 'okx', endpoint: '/api/v5/public/time' }, data, () =>
      okxServerTime(data.data),
    );
  }

  #clamp(from: number, earliest: number, endpoint: string, to: number, what: string): number {
    return this.clampToRetention(from, earliest, to, endpoint, what);
  }

  /**
   * Pages of a newest-first list inside `[w.start, w.end)` with exclusive cursors: both sides bounded
   * (`lower` = start − 1, `upper` = end), then walked backwards with `upper` = the oldest row's time
   * for as long as rows keep coming (a short page is not taken as the end of data).
   */
  async #window<R>(
    path: string,
    query: Record<string, string | number>,
    names: { lower: string; upper: string },
    w: { start: number; end: number },
    schema: Schema<{ data: R[] }> | Pick<TransportRequest<{ data: R[] }>, 'schema' | 'decode'>,
    tsOf: (row: R) => number,
    signal: AbortSignal,
  ): Promise<R[]> {
    const out: R[] = [];
    let upper = w.end;
    while (upper > w.start) {
      const { data } = await this.#get(
        path,
        { ...query, [names.lower]: w.start - 1, [names.upper]: upper },
        schema,
        signal,
      );
      const rows = data.data.filter((r) => tsOf(r) >= w.start && tsOf(r) < upper);
      if (rows.length === 0) break;
      out.push(...rows);
      upper = Math.min(...rows.map(tsOf));
    }
    return out;
  }

  /**
   * Closed candles in `[from, to)` from `history-candles`, ascending, in pages of 300 fetched
   * `concurrency` at a time per egress. `confirm` decides closed-ness: the forming candle is never returned.
   */
  async *candles(params: IntervalHistoryParams): AsyncGenerator<Candle[], void, undefined> {
    const { interval } = params;
    assertInterval(interval);
    const bar = okxBar(interval);
    const range = toRange(params.from, params.to);
    if (range.from === range.to) return; // [t, t): empty, no request
    const { signal } = params;
    const instrument = await this.instrument(params.symbol, signal);
    // Up to the forming candle's slot: `confirm` tells whether the venue has closed it.
    const to = Math.min(range.to, addInterval(floorToInterval(this.now(), interval), interval, 1));
    const from = ceilToInterval(range.from, interval);
    if (from >= to) return;
    const ctx = { instrument, interval };
    // Pages become closed candles at the boundary (from bytes when plain); `#window` walks them by `ts`.
    const pages = normalisedPages(
      candlePage,
      (page) => ({ data: okxCandles(page.data, ctx) }),
      (body) => {
        const candles = decodeOkxCandles(body, ctx);
        return candles && { data: candles };
      },
    );
    const fetchWindow = async (w: { start: number; end: number }, s: AbortSignal): Promise<Candle[]> => {
      const candles = await this.#window(
        '/api/v5/market/history-candles',
        { instId: instrument.instrument, bar, limit: OKX_CANDLE_PAGE },
        { lower: 'before', upper: 'after' },
        w,
        pages,
        (c) => c.ts,
        s,
      );
      return candles.sort((a, b) => a.ts - b.ts);
    };
    yield* orderedPages(periodWindows(from, to, interval, OKX_CANDLE_PAGE), fetchWindow, {
      concurrency: this.pagesInFlight,
      signal,
    });
  }

  /**
   * Settled funding in `[from, to)`, ascending: the realized rate (what was charged), else the
   * predicted one. OKX keeps about three months; older ranges are clamped with a warning or throw
   * `HistoryRangeError` (`outOfRange`).
   */
  async *funding(params: HistoryParams): AsyncGenerator<FundingRate[], void, undefined> {
    const range = toRange(params.from, params.to);
    if (range.from === range.to) return; // [t, t): empty, no request
    const { signal } = params;
    const instrument = await this.instrument(params.symbol, signal);
    const now = this.now();
    const path = '/api/v5/public/funding-rate-history';
    const to = Math.min(range.to, now + MINUTE);
    const earliest = this.capabilities.kinds.funding!.earliest(now);
    const from = this.#clamp(range.from, earliest, path, to, 'about three months');
    if (from >= to) return;
    const fetchWindow = async (w: { start: number; end: number }, s: AbortSignal): Promise<FundingRate[]> => {
      const rows = await this.#window(
        path,
        { instId: instrument.instrument, limit: OKX_FUNDING_PAGE },
        { lower: 'before', upper: 'after' },
        w,
        raw.fundingHistory,
        (r) => r.fundingTime,
        s,
      );
      return normaliseAt({ venue: 'okx', endpoint: path }, rows, () => okxFunding(rows, { instrument }));
    };
    // Funding is at most hourly, so a window of 400 hours fits one page.
    yield* orderedPages(timeWindows(from, to, OKX_FUNDING_PAGE * HOUR), fetchWindow, {
      concurrency: this.pagesInFlight,
      signal,
    });
  }

  /** The current period's rate and when it settles (`/public/funding-rate`), as one page with one record. */
  async *predictedFunding(params: {
    symbol: string;
    signal?: AbortSignal;
  }): AsyncGenerator<PredictedFunding[], void, undefined> {
    const { signal } = params;
    const instrument = await this.instrument(params.symbol, signal);
    const { data } = await this.#get(
      '/api/v5/public/funding-rate',
      { instId: instrument.instrument },
      raw.fundingRate,
      signal,
    );
    const records = normaliseAt({ venue: 'okx', endpoint: '/api/v5/public/funding-rate' }, data, () =>
      okxPredictedFunding(data.data, { instrument }),
    );
    if (records.length > 0) yield records;
  }

  /** Shared pagination of the rubik statistics (latest 1,440 rows per period, 100 a page, periods 5m and up). */
  async *#rubik<R extends readonly [number, ...unknown[]], T>(
    params: IntervalHistoryParams,
    path: string,
    schema: Schema<{ data: R[] }>,
    normalize: (rows: R[], instrument: InstrumentInfo, now: number) => T[],
    extra: Record<string, string> = {},
  ): AsyncGenerator<T[], void, undefined> {
    const { interval } = params;
    const period = okxRubikPeriod(interval);
    const range = toRange(params.from, params.to);
    if (range.from === range.to) return; // [t, t): empty, no request
    const { signal } = params;
    const instrument = await this.instrument(params.symbol, signal);
    const now = this.now();
    const current = floorToInterval(now, interval);
    const to = Math.min(range.to, current);
    // The oldest row still kept, with one period of margin for clocks.
    const earliest = this.capabilities.kinds.openInterest!.earliest(now, interval);
    const from = ceilToInterval(
      this.#clamp(range.from, earliest, path, to, `the latest ${OKX_RUBIK_RETENTION_ROWS} rows per period`),
      interval,
    );
    if (from >= to) return;
    const fetchWindow = async (w: { start: number; end: number }, s: AbortSignal): Promise<T[]> => {
      const rows = await this.#window(
        path,
        { instId: instrument.instrument, period, limit: OKX_RUBIK_PAGE, ...extra },
        { lower: 'begin', upper: 'end' },
        w,
        schema,
        (r) => r[0],
        s,
      );
      return normaliseAt({ venue: 'okx', endpoint: path }, rows, () => normalize(rows, instrument, now));
    };
    yield* orderedPages(periodWindows(from, to, interval, OKX_RUBIK_PAGE), fetchWindow, {
      concurrency: this.pagesInFlight,
      signal,
    });
  }

  /** Open interest in base units (`oiCcy`, or contracts × `ctVal`) and USD, periods 5m and up, latest 1,440 rows. */
  openInterest(params: IntervalHistoryParams): AsyncGenerator<OpenInterest[], void, undefined> {
    return this.#rubik(
      params,
      `${RUBIK}/open-interest-history`,
      raw.openInterestHistory,
      (rows, instrument) => okxOpenInterest(rows, { instrument, interval: params.interval }),
    );
  }

  /**
   * Long/short ratio of all accounts (`global`, default), top traders by account (`topAccount`) or
   * by position (`topPosition`, both since 2024-03-22); periods 5m and up, latest 1,440 rows. OKX
   * reports the ratio only, no shares.
   */
  longShortRatio(
    params: IntervalHistoryParams & { kind?: LongShortKind },
  ): AsyncGenerator<LongShortRatio[], void, undefined> {
    const kind = params.kind ?? 'global';
    const path = LONG_SHORT_PATHS[kind];
    if (!path) throw new InvalidArgumentError(`Unknown long/short kind ${JSON.stringify(kind)}`);
    return this.#rubik(params, path, raw.longShortRatio, (rows, instrument) =>
      okxLongShortRatio(rows, { instrument, interval: params.interval, kind }),
    );
  }

  /** Taker buy and sell volume in base units per closed period (rows are `[ts, sell, buy]`: sell first). */
  takerVolume(params: IntervalHistoryParams): AsyncGenerator<TakerVolume[], void, undefined> {
    return this.#rubik(
      params,
      '/api/v5/rubik/stat/taker-volume-contract',
      raw.takerVolume,
      (rows, instrument, now) =>
        okxTakerVolume(rows, { instrument, interval: params.interval, unit: 'coin', now }),
      { unit: '0' },
    );
  }

  /** Not served: OKX documents no REST history of liquidations (use Coinalyze, or `watchLiquidations`). */
  // biome-ignore lint/correctness/useYield: rejects by design before yielding anything.
  async *liquidations(_params: IntervalHistoryParams): AsyncGenerator<Liquidation[], void, undefined> {
    throw new UnsupportedError('OKX has no REST history of liquidations; use CoinalyzeClient.liquidations');
  }

  /** The funding period as `nextFundingTime − fundingTime` of `/public/funding-rate`; 8 h when the venue leaves it out. */
  protected async readFundingPeriod(symbol: string, signal: AbortSignal | undefined): Promise<number> {
    const instrument = await this.instrument(symbol, signal);
    const { data } = await this.#get(
      '/api/v5/public/funding-rate',
      { instId: instrument.instrument },
      raw.fundingRate,
      signal,
    );
    const row = data.data[0];
    const next = row?.nextFundingTime;
    const period = row && typeof next === 'number' ? next - row.fundingTime : 0;
    return period > 0 ? period : DEFAULT_FUNDING_PERIOD_MS;
  }

  /** The live side: OkxStreams with this client's egresses, registry and REST gap fill. */
  protected createStreams(context: StreamContext): OkxStreams {
    return new OkxStreams(context);
  }
}
