/**
 * The canonical layer every entry point shares (re-exported by the root): record types, data kinds and
 * venues, intervals and time helpers, the error classes, and URL/secret redaction.
 */
export {
  ClosedError,
  type ErrorCode,
  type ErrorMeta,
  HistoryRangeError,
  type HttpContext,
  HttpError,
  InvalidArgumentError,
  NetworkError,
  NoEgressError,
  PerpdataError,
  type PerpdataErrorOptions,
  RateLimitError,
  StorageError,
  UnknownSymbolError,
  UnsupportedError,
  ValidationError,
  WebSocketError,
} from './errors.js';
export {
  addInterval,
  assertInterval,
  ceilToInterval,
  countPeriods,
  floorToInterval,
  INTERVALS,
  type Interval,
  intervalMs,
  isAligned,
  isInterval,
} from './intervals.js';
export { redact, redactText, redactUrl } from './redact.js';
export { type TimeInput, type TimeRange, toEpochMs, toRange } from './time.js';
export {
  type AnyRecord,
  type BaseRecord,
  type Candle,
  DATA_KINDS,
  type DataKind,
  EXCHANGES,
  type Exchange,
  type FundingRate,
  type IndicatorValue,
  type Liquidation,
  type LongShortKind,
  type LongShortRatio,
  type OpenInterest,
  type PredictedFunding,
  type RecordMap,
  type RecordOf,
  type SeriesKey,
  SOURCES,
  type Source,
  type TakerVolume,
} from './types.js';
