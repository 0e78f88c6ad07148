/**
 * Binance USDⓈ-M's part of `perpdata/testing`, listed by name: its simulator with its options, stats
 * and instrument table, and its stream server. Its `VenueSimulation` descriptor, `binanceSimulation`,
 * stays internal (`simulateVenues` reads it through `./simulations.generated.ts`).
 */
export {
  BINANCE_INSTRUMENTS,
  type BinanceSimOptions,
  type BinanceSimStats,
  binanceInstruments,
  createBinanceSimulator,
} from './binance.js';
export { BinanceWsServer, type BinanceWsServerOptions, type ServerInstrument } from './ws/binance.js';
