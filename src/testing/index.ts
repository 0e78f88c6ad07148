/**
 * `perpdata/testing`: simulated venues for your own tests and for the examples' `--simulate` mode. A
 * deterministic synthetic market served in each venue's REST format (as `fetch` handlers, on a local
 * socket or through MSW) and WebSocket format (local `ws` servers), with holes, the forming period,
 * rate limits with 429/418, injected faults and a clock that can run faster than real time.
 *
 * Needs the optional peer dependencies `msw` and `ws` (install them as dev dependencies). No other
 * entry point of perpdata loads this one.
 * @module perpdata/testing
 */
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
/**
 * Each venue's simulator (options, stats, instrument table) and stream server: the venue's own
 * explicit export list (`./<venue>.public.ts`), one generated line per venue of the registry
 * (`scripts/venues.ts`). The `VenueSimulation` descriptors stay internal.
 */
export * from './venues.generated.js';
export {
  LocalWsServer,
  type LocalWsServerOptions,
  ServerConnection,
  type ServerStats,
} from './ws/base.js';
