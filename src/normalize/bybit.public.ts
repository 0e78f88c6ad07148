/**
 * Bybit v5 linear's part of `perpdata/normalize`, listed by name: its payload → record functions and
 * their context and payload types. The byte-level kline decoder and server-time parsing stay internal
 * (`./bybit.ts`).
 */
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
