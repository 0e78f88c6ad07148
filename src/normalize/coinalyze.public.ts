/**
 * Coinalyze v1's part of `perpdata/normalize`, listed by name: its payload → record functions and
 * their context type. The exchange codes and the history helper stay internal (`./coinalyze.ts`).
 */
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
