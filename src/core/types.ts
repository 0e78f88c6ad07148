import type { Interval } from './intervals.js';
import { VENUE_IDS, type VenueId, type VenueOfRole, venuesOfRole } from './venues.js';

/** Venues whose instruments perpdata maps (`exchange` of a record): the `'exchange'` entries of `VENUES`. */
export const EXCHANGES: readonly Exchange[] = venuesOfRole('exchange');
/** A venue that lists the instrument a record describes. */
export type Exchange = VenueOfRole<'exchange'>;

/** Who served the data (`source` of a record): a venue itself, or Coinalyze for a venue's instrument; every key of `VENUES`. */
export const SOURCES: readonly Source[] = VENUE_IDS;
/** Who served a record. */
export type Source = VenueId;

/** Every kind of record perpdata fetches, stores or derives. */
export const DATA_KINDS = [
  'candles',
  'funding',
  'predictedFunding',
  'openInterest',
  'longShortRatio',
  'takerVolume',
  'liquidations',
  'indicators',
] as const;
/** One kind of record; `RecordOf<K>` names its type. */
export type DataKind = (typeof DATA_KINDS)[number];

/** Fields every canonical record carries. */
export interface BaseRecord {
  /** Who served the data. */
  readonly source: Source;
  /** The venue of the instrument (differs from `source` for Coinalyze). */
  readonly exchange: Exchange;
  /** Canonical base asset, e.g. `'BTC'`, `'PEPE'`; `'MT'` for the cross-symbol market token. */
  readonly symbol: string;
  /** Epoch milliseconds UTC: the start of the period the record describes. */
  readonly ts: number;
}

/** A closed OHLCV candle. Prices per one unit of the base asset, volumes in base units. */
export interface Candle extends BaseRecord {
  readonly interval: Interval;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  /** Traded volume in base-asset units (not contracts, not bundles of 1000). */
  readonly volume: number;
  /** Traded volume in quote currency (USDT). */
  readonly quoteVolume?: number | undefined;
  /** Number of trades, where the venue reports it. */
  readonly trades?: number | undefined;
  /** Volume of taker buys in base units; taker sells = `volume - takerBuyVolume`. */
  readonly takerBuyVolume?: number | undefined;
}

/** A settled funding rate. `ts` is the funding time, floored to the funding grid. */
export interface FundingRate extends BaseRecord {
  /** Rate as a fraction per funding period (0.0001 = 0.01 %). */
  readonly rate: number;
  /** Mark price at settlement, where the venue reports it. */
  readonly markPrice?: number | undefined;
}

/** The currently accruing (predicted) funding rate. `ts` is when it was observed. */
export interface PredictedFunding extends BaseRecord {
  /** Rate as a fraction per funding period. */
  readonly rate: number;
  /** When this rate will settle. */
  readonly nextFundingTime?: number | undefined;
}

/** Open interest of one side (longs = shorts), in base units. */
export interface OpenInterest extends BaseRecord {
  readonly interval: Interval;
  /** One-sided open interest in base-asset units (Bybit's two-sided figure is halved). */
  readonly openInterest: number;
  /** The same in USD (USDT), where the venue reports it. */
  readonly openInterestUsd?: number | undefined;
}

/** Population a long/short ratio is computed over. */
export type LongShortKind = 'global' | 'topAccount' | 'topPosition';

/** Long/short ratio of accounts or positions. */
export interface LongShortRatio extends BaseRecord {
  readonly interval: Interval;
  /** `global`: all accounts; `topAccount`: top traders counted by account; `topPosition`: top traders by position size. */
  readonly kind: LongShortKind;
  /** Longs divided by shorts. */
  readonly ratio: number;
  /** Share of longs as a fraction 0..1. */
  readonly longShare?: number | undefined;
  /** Share of shorts as a fraction 0..1. */
  readonly shortShare?: number | undefined;
}

/** Taker buy and sell volume over one period, in base units. */
export interface TakerVolume extends BaseRecord {
  readonly interval: Interval;
  readonly buyVolume: number;
  readonly sellVolume: number;
}

/** Liquidated notional over one period, in USD. */
export interface Liquidation extends BaseRecord {
  readonly interval: Interval;
  /** USD value of **long** positions liquidated (forced sells). */
  readonly longUsd: number;
  /** USD value of **short** positions liquidated (forced buys). */
  readonly shortUsd: number;
}

/** One value of a derived indicator. */
export interface IndicatorValue extends BaseRecord {
  readonly interval: Interval;
  /** Indicator name including its parameters, e.g. `'rsi14'`. */
  readonly name: string;
  readonly value: number;
}

/** Maps each `DataKind` to its record type. */
export interface RecordMap {
  candles: Candle;
  funding: FundingRate;
  predictedFunding: PredictedFunding;
  openInterest: OpenInterest;
  longShortRatio: LongShortRatio;
  takerVolume: TakerVolume;
  liquidations: Liquidation;
  indicators: IndicatorValue;
}

/** The record type of a data kind. */
export type RecordOf<K extends DataKind> = RecordMap[K];

/** Any canonical record. */
export type AnyRecord = RecordMap[DataKind];

/** Identifies one stored series: everything but `ts` that makes a row unique. */
export interface SeriesKey {
  readonly source: Source;
  readonly exchange: Exchange;
  readonly symbol: string;
  /** For kinds with an interval. */
  readonly interval?: Interval | undefined;
  /** For `longShortRatio` the ratio kind; for `indicators` the indicator name. */
  readonly kind?: string | undefined;
}
