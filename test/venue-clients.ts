/**
 * The tests' one venue → client lookup, read from `perpdata/clients`' export list: a venue's client
 * is the exported `<Venue>Client` (the name ADDING_A_VENUE.md gives it), so a suite that runs over
 * every venue of the registry needs no table of clients. `test/docs/adding-a-venue.test.ts` checks
 * that every venue of the registry has one.
 */
import { VenueClient } from '../src/clients/base.js';
import * as clients from '../src/clients/index.js';
import type { Exchange } from '../src/core/types.js';
import { VENUES, type VenueId, type VenueOfRole } from '../src/core/venues.js';
import type { Simulation } from '../src/testing/index.js';

/** The class name of a venue's client: `okx` → `OkxClient`. */
export const clientName = (venue: string): string => `${venue[0]!.toUpperCase()}${venue.slice(1)}Client`;

/** A venue's client class, as the shared suites construct it. */
export type ClientClass = new (options: object) => VenueClient;

/** The client class of `venue`: `<Venue>Client` of `perpdata/clients`. */
export function clientClass(venue: VenueId): ClientClass {
  const name = clientName(venue);
  const value = (clients as Record<string, unknown>)[name];
  if (typeof value !== 'function' || !(value.prototype instanceof VenueClient))
    throw new Error(`perpdata/clients exports no ${name} (the client of the registry's ${venue})`);
  return value as ClientClass;
}

/**
 * A client of `venue` on `sim`: the simulation's client options (an aggregator's over `exchange`,
 * default `'binance'`), then `extra` (budgets, retries).
 */
export function simulatedClient(
  sim: Simulation,
  venue: VenueId,
  extra: object = {},
  exchange?: Exchange,
): VenueClient {
  const options =
    VENUES[venue].role === 'aggregator'
      ? sim.clientOptions(venue as VenueOfRole<'aggregator'>, exchange)
      : sim.clientOptions(venue as VenueOfRole<'exchange'>);
  return new (clientClass(venue))({ ...options, ...extra });
}
