/**
 * Coinalyze v1's part of `perpdata/testing`, listed by name: its simulator with its options, stats
 * and market table (REST only: no stream server). Its `VenueSimulation` descriptor,
 * `coinalyzeSimulation`, stays internal (`simulateVenues` reads it through
 * `./simulations.generated.ts`).
 */
export {
  COINALYZE_MARKETS,
  type CoinalyzeSimMarket,
  type CoinalyzeSimOptions,
  type CoinalyzeSimStats,
  createCoinalyzeSimulator,
} from './coinalyze.js';
