/**
 * Bybit v5 linear's part of `perpdata/testing`, listed by name: its simulator with its options, stats
 * and instrument table, and its stream server. Its `VenueSimulation` descriptor, `bybitSimulation`,
 * stays internal (`simulateVenues` reads it through `./simulations.generated.ts`).
 */
export {
  BYBIT_INSTRUMENTS,
  type BybitSimOptions,
  type BybitSimStats,
  bybitInstruments,
  createBybitSimulator,
} from './bybit.js';
export { BybitWsServer, type BybitWsServerOptions } from './ws/bybit.js';
