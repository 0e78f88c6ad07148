/**
 * `perpdata/derive`: pure derivations over canonical records (no I/O, no clock, no hidden state).
 * Each works on arrays you already have; RSI and the MT also come as incremental calculators for live use.
 * @module perpdata/derive
 */
export { type DistributeResult, distributeByVolume } from './distribute.js';
export { type ExpandAlignment, type ExpandOptions, expandTo1m, type PeriodRecord } from './expand.js';
export { findGaps } from './gaps.js';
export {
  createMarketAverage,
  MARKET_AVERAGE_KINDS,
  type MarketAverageCalculator,
  type MarketAverageCalculatorOptions,
  type MarketAverageKind,
  type MarketAverageOptions,
  MT_SYMBOL,
  marketAverage,
  type RecordsBySymbol,
  type SeriesBySymbol,
} from './market-average.js';
export {
  type CandleRsiCalculator,
  createCandleRsi,
  createRsi,
  RSI_DEFAULT_PERIOD,
  RSI_FLAT_VALUE,
  type RsiCalculator,
  type RsiState,
  rsi,
  rsiFromCandles,
  rsiName,
} from './rsi.js';
