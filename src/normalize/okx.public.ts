/**
 * OKX v5 swaps' part of `perpdata/normalize`, listed by name: its payload → record functions and
 * their context and payload types. The byte-level candle decoder and server-time parsing stay
 * internal (`./okx.ts`).
 */
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
