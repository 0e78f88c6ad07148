/**
 * What one venue contributes to `simulateVenues`: a `VenueSimulation` descriptor, exported by the
 * venue's own `src/testing/<venue>.ts` (`binanceSimulation`, …) and listed in `SIMULATIONS`, the one
 * shared table of the simulation, generated from the registry (`src/testing/simulations.generated.ts`,
 * checked against it in `src/testing/simulate.ts`). Everything venue-specific the
 * simulation does (make the HTTP simulator, lift its rate limits, answer a 5xx or a ban in the venue's
 * shape, start its stream server) comes from here.
 */
import type { WsClock } from '../clients/ws/clock.js';
import type { VenueId } from '../core/venues.js';
import type { VenueHandler } from './http.js';
import type { SyntheticMarket } from './market.js';

/** What `simulateVenues` hands every simulator it makes. */
export interface SimulatorContext {
  /** The simulation's clock: the market's present. */
  readonly now: () => number;
  /** The clock of rate budgets and bans: the real one, as the clients' budgets run on it. */
  readonly budgetNow: () => number;
  /** The API key the simulation hands out, for a venue that wants one (Coinalyze). */
  readonly apiKey: string;
}

/** A stream server of the simulation: started, listening on `url`, closed at the end. */
export interface SimulatedWsServer {
  readonly url: string;
  start(): Promise<unknown>;
  close(): Promise<void>;
}

/** One venue's part of the simulation (see the module comment). */
export interface VenueSimulation {
  /** The registry key (`src/core/venues.ts`). */
  readonly venue: VenueId;
  /** Its HTTP simulator over `market`, with the caller's own `options` (budgets, retention) and the simulation's clocks. */
  create(
    market: SyntheticMarket,
    options: never,
    context: SimulatorContext,
  ): { readonly handler: VenueHandler };
  /** Simulator options that lift every rate limit it enforces (`simulateVenues({ unlimited: true })`). */
  readonly unlimited: object;
  /** A 5xx body in the venue's own error shape, for the fault layer. */
  serverError(status: number): Response;
  /** Its answer to a banned client (`faults.ban`), for a venue that bans IPs: `until` and `now` are epoch ms. */
  readonly banned?: ((clientId: string, until: number, now: number) => Response) | undefined;
  /** Its static instrument table (exchanges): the assets listed by name, whatever the market holds. */
  readonly instruments?: Readonly<Record<string, { readonly symbol: string }>> | undefined;
  /** Its stream server over `market` (live venues, `VENUES[venue].live`). */
  readonly server?: ((clock: WsClock, market: SyntheticMarket) => SimulatedWsServer) | undefined;
}

/** `descriptor`, typed as it is written (its options, simulator and server types kept) and checked as a `VenueSimulation`. */
export function venueSimulation<const D extends VenueSimulation>(descriptor: D): D {
  return descriptor;
}

/** Options every simulator takes from the simulation rather than from its caller. */
type SetBySimulation = 'now' | 'budgetNow' | 'intercept';

/**
 * A descriptor's `create` for a simulator whose options take the simulation's clocks (`now`,
 * `budgetNow`): the caller's options, then the clocks. `intercept` stays the fault layer's.
 */
export function withClocks<O extends { now?: () => number; budgetNow?: () => number }, S>(
  create: (market: SyntheticMarket, options: O) => S,
): (market: SyntheticMarket, options: Omit<O, SetBySimulation>, context: SimulatorContext) => S {
  return (market, options, { now, budgetNow }) => create(market, { ...options, now, budgetNow } as O);
}

/** The entries of an instrument table whose asset the market lists. */
export function listed<T extends { symbol: string }>(
  market: SyntheticMarket,
  table: Record<string, T>,
): Record<string, T> {
  return Object.fromEntries(Object.entries(table).filter(([, i]) => market.asset(i.symbol)));
}
