/**
 * OKX v5 swaps' part of `perpdata/testing`, listed by name: its simulator with its options, stats and
 * instrument table, and its stream server. Its `VenueSimulation` descriptor, `okxSimulation`, stays
 * internal (`simulateVenues` reads it through `./simulations.generated.ts`).
 */
export {
  createOkxSimulator,
  OKX_INSTRUMENTS,
  type OkxSimOptions,
  type OkxSimStats,
  okxInstruments,
} from './okx.js';
export { type OkxServerInstrument, OkxWsServer, type OkxWsServerOptions } from './ws/okx.js';
