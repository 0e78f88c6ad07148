/**
 * What each venue client serves, in one typed table per venue: how (`rest`, `live`), the intervals,
 * how far back the venue keeps each kind (`earliest`) and the natural polling cadence. The clients
 * clamp ranges with these `earliest` functions, `history()` dispatches on them, the pipeline and the
 * README's venue × kind table read them: there is no second copy of a retention window.
 *
 * The builders (`intervalKind`, `fundingKind`, `predictedSnapshot`, `liveOnly`, `latestRows`) are
 * exported for a new venue's table, written in its own folder (not part of the public surface).
 */
import {
  addInterval,
  ceilToInterval,
  floorToInterval,
  INTERVALS,
  type Interval,
  intervalMs,
} from '../core/intervals.js';
import type { TimeInput } from '../core/time.js';
import { DATA_KINDS, type DataKind, type LongShortKind, type Source } from '../core/types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Kinds a venue can serve (everything but the derived `indicators`). */
export type HistoryKind = Exclude<DataKind, 'indicators'>;

/** Every `HistoryKind`, in `DATA_KINDS` order. */
export const HISTORY_KINDS: readonly HistoryKind[] = DATA_KINDS.filter(
  (k): k is HistoryKind => k !== 'indicators',
);

/** How one venue serves one kind. */
export interface KindCapability {
  /** `'history'`: paged history over [from, to); `'snapshot'`: only the current value (poll it); `'none'`: no REST. */
  readonly rest: 'history' | 'snapshot' | 'none';
  /** Streamed by this client's `watch*` methods. */
  readonly live: boolean;
  /** Intervals served; `[]` for kinds on the instrument's own period (funding, predictedFunding). */
  readonly intervals: readonly Interval[];
  /** The default interval the pipeline uses when the user names none (e.g. '1m' candles, '5m' open interest); undefined for funding. */
  readonly defaultInterval?: Interval;
  /** Ratio populations (`longShortRatio` only). */
  readonly ratioKinds?: readonly LongShortKind[];
  /** Oldest ts the venue keeps for this kind (listing time aside), given now; `Number.NEGATIVE_INFINITY` when it keeps everything since listing. */
  earliest(now: number, interval?: Interval): number;
  /** Natural polling cadence in ms for a poller (the interval's length for interval kinds; for funding the funding period, for snapshots e.g. 60 s). */
  pollMs(interval?: Interval): number;
}

/** What one client serves: every HistoryKind is listed (null = not served), so the compiler checks the table. */
export interface Capabilities {
  readonly source: Source;
  readonly kinds: { readonly [K in HistoryKind]: KindCapability | null };
}

/** Parameters of `history()`: one series. */
export interface SeriesParams {
  /** Canonical symbol, e.g. `'BTC'`, `'PEPE'`. */
  readonly symbol: string;
  readonly from: TimeInput;
  readonly to: TimeInput;
  /** Required for kinds with intervals. */
  readonly interval?: Interval;
  /** `longShortRatio` population. @default 'global' */
  readonly ratioKind?: LongShortKind;
  /** Cancels this iteration. */
  readonly signal?: AbortSignal;
}

/** The default funding period where a venue says nothing else: 8 h. */
export const DEFAULT_FUNDING_PERIOD_MS = 8 * HOUR;
/** Cadence at which a poller reads a current-value (`'snapshot'`) kind. */
export const SNAPSHOT_POLL_MS = MINUTE;

/** Binance `/futures/data/*` (open interest, ratios, taker volume) keep the latest 30 days. */
export const BINANCE_STATS_RETENTION_MS = 30 * DAY;
/** Periods of Binance's `/futures/data/*` statistics. */
export const BINANCE_STATS_PERIODS: readonly Interval[] = [
  '5m',
  '15m',
  '30m',
  '1h',
  '2h',
  '4h',
  '6h',
  '12h',
  '1d',
];
/** Rows the OKX rubik statistics keep per period: the latest 1,440. */
export const OKX_RUBIK_RETENTION_ROWS = 1440;
/** How far back OKX funding history reaches: about three months. */
export const OKX_FUNDING_RETENTION_MS = 90 * DAY;
/** Buckets Coinalyze keeps for intraday intervals (the venue keeps 1,500–2,000; the lower figure is assumed). */
export const COINALYZE_RETENTION_POINTS = 1500;
/** Bybit's account ratio starts on 2020-07-20 (reference §2, "Earliest data"). */
const BYBIT_ACCOUNT_RATIO_START = Date.UTC(2020, 6, 20);

/** Length of one period of `interval` (a 31-day month for `1M`). */
export function periodMs(interval: Interval): number {
  return interval === '1M' ? 31 * DAY : intervalMs(interval);
}

/** Keeps everything since listing. */
export const always = (): number => Number.NEGATIVE_INFINITY;

/** The oldest period of a venue that keeps the latest `rows` periods, with one period of margin for clocks. */
export function latestRows(rows: number) {
  return (now: number, interval: Interval = '5m'): number =>
    addInterval(floorToInterval(now, interval), interval, -(rows - 2));
}

/** Binance statistics: 30 days, one period of margin for clocks and the daily cut. */
function binanceStatsEarliest(now: number, interval: Interval = '5m'): number {
  return ceilToInterval(now - BINANCE_STATS_RETENTION_MS, interval) + periodMs(interval);
}

/** A capability on a grid of intervals. */
export function intervalKind(
  intervals: readonly Interval[],
  defaultInterval: Interval,
  extra: Partial<Pick<KindCapability, 'rest' | 'live' | 'ratioKinds' | 'earliest'>> = {},
): KindCapability {
  return {
    rest: extra.rest ?? 'history',
    live: extra.live ?? false,
    intervals,
    defaultInterval,
    ...(extra.ratioKinds ? { ratioKinds: extra.ratioKinds } : {}),
    earliest: extra.earliest ?? always,
    pollMs: (interval = defaultInterval) => periodMs(interval),
  };
}

/** Settled funding: the instrument's own period (`fundingPeriod()`); polled every default period. */
export function fundingKind(earliest: KindCapability['earliest'] = always): KindCapability {
  return { rest: 'history', live: false, intervals: [], earliest, pollMs: () => DEFAULT_FUNDING_PERIOD_MS };
}

/** The accruing rate as a current value (REST snapshot, and streamed). */
export const predictedSnapshot: KindCapability = {
  rest: 'snapshot',
  live: true,
  intervals: [],
  earliest: always,
  pollMs: () => SNAPSHOT_POLL_MS,
};

/** Only streamed (no REST at all); summed per period of `intervals`. */
export function liveOnly(intervals: readonly Interval[]): KindCapability {
  return {
    rest: 'none',
    live: true,
    intervals,
    defaultInterval: '1m',
    earliest: always,
    pollMs: (interval = '1m') => periodMs(interval),
  };
}

const ALL_INTERVALS: readonly Interval[] = INTERVALS;
/** Periods the live liquidation streams sum into (any fixed interval; 1m by default). */
export const LIVE_PERIODS: readonly Interval[] = ALL_INTERVALS.filter((i) => i !== '1M');

/** Binance USDⓈ-M. */
export const BINANCE_CAPABILITIES: Capabilities = {
  source: 'binance',
  kinds: {
    candles: intervalKind(ALL_INTERVALS, '1m', { live: true }),
    funding: fundingKind(),
    predictedFunding: predictedSnapshot,
    openInterest: intervalKind(BINANCE_STATS_PERIODS, '5m', { earliest: binanceStatsEarliest }),
    longShortRatio: intervalKind(BINANCE_STATS_PERIODS, '5m', {
      earliest: binanceStatsEarliest,
      ratioKinds: ['global', 'topAccount', 'topPosition'],
    }),
    takerVolume: intervalKind(BINANCE_STATS_PERIODS, '5m', { earliest: binanceStatsEarliest }),
    // No public REST history of market liquidations: `forceOrder` streams only.
    liquidations: liveOnly(LIVE_PERIODS),
  },
};

/** Bybit v5 linear, given its kline and statistics interval tables. */
export function bybitCapabilities(klines: readonly Interval[], stats: readonly Interval[]): Capabilities {
  return {
    source: 'bybit',
    kinds: {
      candles: intervalKind(klines, '1m', { live: true }),
      funding: fundingKind(),
      predictedFunding: predictedSnapshot,
      // Base units only: the history carries no price, so USD is not exactly derivable (left undefined).
      openInterest: intervalKind(stats, '5m', { live: true }),
      longShortRatio: intervalKind(stats, '5m', {
        ratioKinds: ['global'],
        earliest: () => BYBIT_ACCOUNT_RATIO_START,
      }),
      // No v5 REST endpoint for taker volume.
      takerVolume: null,
      liquidations: liveOnly(LIVE_PERIODS),
    },
  };
}

/** OKX v5 swaps, given its candle and rubik period tables. */
export function okxCapabilities(bars: readonly Interval[], rubik: readonly Interval[]): Capabilities {
  const rubikEarliest = latestRows(OKX_RUBIK_RETENTION_ROWS);
  return {
    source: 'okx',
    kinds: {
      candles: intervalKind(bars, '1m', { live: true }),
      funding: fundingKind((now) => now - OKX_FUNDING_RETENTION_MS),
      predictedFunding: predictedSnapshot,
      openInterest: intervalKind(rubik, '5m', { live: true, earliest: rubikEarliest }),
      // Top-trader ratios exist since 2024-03-22 (older ranges come back empty).
      longShortRatio: intervalKind(rubik, '5m', {
        earliest: rubikEarliest,
        ratioKinds: ['global', 'topAccount', 'topPosition'],
      }),
      takerVolume: intervalKind(rubik, '5m', { earliest: rubikEarliest }),
      liquidations: liveOnly(LIVE_PERIODS),
    },
  };
}

/**
 * Coinalyze for one underlying venue, given its interval table. Intraday intervals keep the latest
 * 1,500 buckets, `1d` everything. Funding history is read in buckets of `fundingBucket` (the longest
 * interval that divides the funding period), predicted funding in 1h buckets.
 */
export function coinalyzeCapabilities(
  intervals: readonly Interval[],
  options: { longShortRatio: boolean; fundingBucket: Interval; fundingPeriodMs: number },
): Capabilities {
  const keeps = (now: number, interval: Interval = '1h'): number =>
    interval === '1d' ? Number.NEGATIVE_INFINITY : latestRows(COINALYZE_RETENTION_POINTS)(now, interval);
  return {
    source: 'coinalyze',
    kinds: {
      candles: intervalKind(intervals, '1m', { earliest: keeps }),
      funding: {
        rest: 'history',
        live: false,
        intervals: [],
        earliest: (now) => keeps(now, options.fundingBucket),
        pollMs: () => options.fundingPeriodMs,
      },
      predictedFunding: {
        rest: 'history',
        live: false,
        intervals: [],
        earliest: (now) => keeps(now, '1h'),
        pollMs: () => HOUR,
      },
      openInterest: intervalKind(intervals, '5m', { earliest: keeps }),
      // Coinalyze has long/short data for Binance and Bybit instruments only.
      longShortRatio: options.longShortRatio
        ? intervalKind(intervals, '5m', { earliest: keeps, ratioKinds: ['global'] })
        : null,
      // Candles carry `takerBuyVolume`; there is no separate taker series.
      takerVolume: null,
      liquidations: intervalKind(intervals, '5m', { earliest: keeps }),
    },
  };
}
