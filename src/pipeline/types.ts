import type { VenueClient } from '../clients/base.js';
import type { HistoryKind } from '../clients/capabilities.js';
import type { Logger } from '../clients/types.js';
import type { WsClock } from '../clients/ws/clock.js';
import type { Interval } from '../core/intervals.js';
import type { TimeInput } from '../core/time.js';
import type { DataKind, SeriesKey } from '../core/types.js';
import type { StorageAdapter } from '../storage/adapter.js';

/** Derived series `Sync` computes from what it stored. */
export interface DeriveOptions {
  /** RSI periods computed on every stored candle series (stored as `indicators`, `rsi14`). @default [] */
  readonly rsi?: readonly number[];
  /**
   * The MT token per venue (`marketAverage`) over the configured symbols, stored as symbol `'MT'`:
   * candles, funding and open interest where the inputs exist, plus its RSI for every `rsi` period.
   * @default false
   */
  readonly marketAverage?: boolean;
  /** Kinds whose 5m (or longer) rows are expanded to `1m` rows (`expandTo1m`). @default [] */
  readonly expandTo1m?: readonly ('openInterest' | 'longShortRatio')[];
  /**
   * Where an expanded bucket's value lands: `'close'` (the minutes after the bucket closes, what a live
   * system could have known) or `'start'` (the minutes inside the bucket, the seeds' layout, which looks
   * ahead). @default 'close'
   */
  readonly expandAlign?: 'close' | 'start';
  /** Binance 5m taker volume distributed over the 1m candles by volume, stored as `takerVolume` `1m`. @default false */
  readonly takerTo1m?: boolean;
}

/** Options of `new Sync()`. */
export interface SyncOptions {
  /** Where rows, the coverage ledger, status and errors go. */
  readonly storage: StorageAdapter;
  /** Venue clients; each series goes to the client that serves it. */
  readonly clients: readonly VenueClient[];
  /** Canonical base assets, e.g. `['BTC', 'ETH', 'PEPE']`. */
  readonly symbols: readonly string[];
  /** Kinds to keep. @default every kind each client serves with history */
  readonly kinds?: readonly HistoryKind[];
  /** Intervals per kind. @default each venue's default interval of the kind (1m candles, 5m statistics) */
  readonly intervals?: Partial<Readonly<Record<HistoryKind, readonly Interval[]>>>;
  /** Start of the history; clamped to listing and to what the venue keeps. */
  readonly from: TimeInput;
  /** End of the history. @default now (only closed periods are stored) */
  readonly to?: TimeInput;
  /** Derived series. @default none */
  readonly derive?: DeriveOptions;
  /** Stops the run: what was fetched is flushed and the ledger stays consistent. */
  readonly signal?: AbortSignal;
  /** Receives progress and failures as log lines. */
  readonly logger?: Logger;
  /** Clock deciding which periods are closed; pass the clients' `now` when they have one. @default Date.now */
  readonly now?: () => number;
  /**
   * Clock and timers of `live()`: when pollers wake, and the streams' clock (tests and the simulated
   * venues run minutes in seconds). Its `now()` is the default of `now`. @default the system clock
   */
  readonly clock?: WsClock;
  /** Job name in status and error rows. @default 'backfill' */
  readonly job?: string;
  /** Series of one venue fetched at the same time. @default 4 */
  readonly seriesConcurrency?: number;
  /** Rows per table and venue that trigger a write. @default 5000 */
  readonly batchRows?: number;
  /** Longest time a fetched row waits before it is written, ms. @default 1000 */
  readonly batchDelayMs?: number;
}

/** One series of a `Sync`: what identifies it, and the kind it holds. */
export interface SeriesRef {
  /** `'binance:candles:BTC:1m'`-style id, unique within the run. */
  readonly id: string;
  readonly kind: DataKind;
  readonly key: SeriesKey;
}

/** How a series ended. */
/**
 * How a series ended: `skipped` is a derived series whose inputs are incomplete this run (an MT member
 * failed); it is computed by the next run that stores them.
 */
export type SeriesOutcome = 'done' | 'error' | 'unlisted' | 'unsupported' | 'skipped' | 'aborted';

/** What `backfill()` did for one series. */
export interface SeriesReport extends SeriesRef {
  readonly outcome: SeriesOutcome;
  /** Computed from stored series (RSI, MT, expansions) rather than fetched from a venue. */
  readonly derived: boolean;
  /** Rows that were new or changed. */
  readonly rowsWritten: number;
  /** Rows fetched (or derived) and handed to storage. */
  readonly rowsFetched: number;
  /** Requests' worth of work: spans fetched this run (0 when the ledger said it was complete). */
  readonly spansFetched: number;
  /** The range the series should cover. */
  readonly from: number;
  readonly to: number;
  /** Empty intervals recorded this run, with reasons. */
  readonly gaps: readonly { readonly from: number; readonly to: number; readonly reason: string }[];
  /** Why it failed, for `error`, `unlisted` and `unsupported`. */
  readonly error?: Error;
  /** Wall time spent on the series, ms. */
  readonly elapsedMs: number;
}

/** What `backfill()` resolves to. */
export interface BackfillReport {
  readonly series: readonly SeriesReport[];
  /** Rows written over every series. */
  readonly rowsWritten: number;
  /** Whether anything was already stored when the run began (a resumed run). */
  readonly resumed: boolean;
  readonly aborted: boolean;
  readonly elapsedMs: number;
}

/** Events of a `Sync` and their payloads. */
export interface SyncEvents {
  /** A series advanced: `done` of `total` ms of its range, rows fetched so far. */
  progress: {
    readonly series: SeriesRef;
    readonly done: number;
    readonly total: number;
    readonly rows: number;
  };
  /** An `empty` interval was recorded: the venue has no data there. */
  gap: { readonly series: SeriesRef; readonly from: number; readonly to: number; readonly reason: string };
  /** A write (or a derived step) failed and is tried again. */
  retry: {
    readonly what: string;
    readonly attempt: number;
    readonly delayMs: number;
    readonly error: unknown;
  };
  /** A venue banned an egress; work goes on over the others or waits. */
  banned: { readonly venue: string; readonly message: string };
  /** Something the caller may want to know: a range clamped to what the venue keeps, a skipped series. */
  warning: { readonly series?: SeriesRef; readonly code: string; readonly message: string };
  /** A series failed; the others go on. */
  error: { readonly series?: SeriesRef; readonly error: Error };
  /** A series finished (any outcome). */
  seriesDone: { readonly report: SeriesReport };
  /** Live: a stream's connection is back after a drop (its missed periods are caught up over REST). */
  reconnected: {
    readonly venue: string;
    /** Which stream, e.g. `'binance 1m candles'`. */
    readonly stream: string;
    readonly attempt: number;
    readonly downtimeMs: number;
  };
  /** Live: a streamed topic missed its cadence (no closed period in time); the stream replaces its connection. */
  stalled: {
    readonly venue: string;
    readonly stream: string;
    readonly symbol?: string | undefined;
    readonly silentMs: number;
  };
}
