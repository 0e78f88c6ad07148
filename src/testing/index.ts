/**
 * `perpdata/testing`: simulated venues for your own tests and for the examples' `--simulate` mode. A
 * deterministic synthetic market served in each venue's REST format (as `fetch` handlers, on a local
 * socket or through MSW) and WebSocket format (local `ws` servers), with holes, the forming period,
 * rate limits with 429/418, injected faults and a clock that can run faster than real time.
 *
 * Needs the optional peer dependencies `msw` and `ws` (install them as dev dependencies). No other
 * entry point of perpdata loads this one.
 */
export {
  BINANCE_INSTRUMENTS,
  type BinanceSimOptions,
  type BinanceSimStats,
  binanceInstruments,
  createBinanceSimulator,
} from './binance.js';
export {
  BYBIT_INSTRUMENTS,
  type BybitSimOptions,
  type BybitSimStats,
  bybitInstruments,
  createBybitSimulator,
} from './bybit.js';
export {
  COINALYZE_MARKETS,
  type CoinalyzeSimMarket,
  type CoinalyzeSimOptions,
  type CoinalyzeSimStats,
  createCoinalyzeSimulator,
} from './coinalyze.js';
export {
  connectionReset,
  FixedWindowBudget,
  isConnectionReset,
  json,
  type LocalServer,
  mswHandlers,
  startLocalServer,
  type VenueHandler,
} from './http.js';
export {
  DEFAULT_ASSETS,
  type MarketOptions,
  type SyntheticAsset,
  type SyntheticCandle,
  type SyntheticHole,
  SyntheticMarket,
} from './market.js';
export {
  createOkxSimulator,
  OKX_INSTRUMENTS,
  type OkxSimOptions,
  type OkxSimStats,
  okxInstruments,
} from './okx.js';
export { deadPort, type LocalProxy, startProxy } from './proxy.js';
export {
  type FaultHandle,
  type FaultTarget,
  SIMULATED_VENUES,
  type SimulatedClientOptions,
  type SimulatedCoinalyzeOptions,
  type SimulatedEndpoints,
  type SimulatedExchange,
  type SimulatedVenue,
  type SimulateVenuesOptions,
  type Simulation,
  type SimulationBudgets,
  type SimulationClock,
  type SimulationFaults,
  type SimulationStats,
  simulateVenues,
  type VenueCounters,
} from './simulate.js';
export {
  LocalWsServer,
  type LocalWsServerOptions,
  ServerConnection,
  type ServerStats,
} from './ws/base.js';
export { BinanceWsServer, type BinanceWsServerOptions, type ServerInstrument } from './ws/binance.js';
export { BybitWsServer, type BybitWsServerOptions } from './ws/bybit.js';
export { type OkxServerInstrument, OkxWsServer, type OkxWsServerOptions } from './ws/okx.js';
