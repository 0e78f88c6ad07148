/**
 * `perpdata/normalize`: pure functions from a venue payload (REST rows or a live frame's data) to
 * canonical records, one per venue, kind and payload, and the symbol registry (canonical symbol <->
 * venue instrument). Each throws a `TypeError` on a field it cannot read; the clients validate the
 * payload first and turn that into a `ValidationError`. The byte-level page decoders, the numeric
 * helpers and venue clock parsing are internal.
 */
export {
  type BinanceContext,
  type BinanceWsKline,
  binanceCandles,
  binanceFunding,
  binanceInstruments,
  binanceLongShortRatio,
  binanceOpenInterest,
  binancePredictedFunding,
  binanceTakerVolume,
  binanceWsCandle,
  binanceWsFunding,
  binanceWsLiquidation,
} from './binance.js';
export {
  type BybitContext,
  type BybitTicker,
  type BybitWsKline,
  bybitCandles,
  bybitFunding,
  bybitInstruments,
  bybitLongShortRatio,
  bybitOpenInterest,
  bybitPredictedFunding,
  bybitTickerFunding,
  bybitTickerOpenInterest,
  bybitWsCandle,
  bybitWsLiquidation,
} from './bybit.js';
export {
  type CoinalyzeContext,
  coinalyzeCandles,
  coinalyzeCurrentOpenInterest,
  coinalyzeFunding,
  coinalyzeInstruments,
  coinalyzeLiquidations,
  coinalyzeLongShortRatio,
  coinalyzeOpenInterest,
  coinalyzePredictedFunding,
} from './coinalyze.js';
export {
  type OkxCandleTuple,
  type OkxContext,
  type OkxTakerUnit,
  okxCandles,
  okxCurrentFunding,
  okxFunding,
  okxInstruments,
  okxLongShortRatio,
  okxOpenInterest,
  okxPredictedFunding,
  okxTakerVolume,
  okxWsCandle,
  okxWsLiquidations,
  okxWsOpenInterest,
} from './okx.js';
export { type InstrumentInfo, SymbolRegistry } from './symbols.js';
