/**
 * Binance USDⓈ-M's part of `perpdata/normalize`, listed by name: its payload → record functions and
 * their context and payload types. The byte-level kline decoder and funding-time snapping stay
 * internal (`./binance.ts`).
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
