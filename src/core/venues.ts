/**
 * The venue registry: one line per venue, the only list of venues in the code. `EXCHANGES`,
 * `SOURCES`, `Exchange` and `Source` (`./types.ts`) derive from it, and so does everything that used
 * to spell the venues out: storage's source/exchange validation, the pipeline's `venueOf`,
 * `SIMULATED_VENUES` and the simulation's one table of venue descriptors (`SIMULATIONS`, generated,
 * and typed by venue in `src/testing/simulate.ts`, so the compiler names an entry a new venue still
 * lacks), the entry points' per-venue lines, the test suites that run over every venue, and the
 * README's venue × kind table (`test/clients/capabilities.test.ts`, columns in this order, headed by
 * `title`).
 *
 * Adding a venue: its files and one line here (ADDING_A_VENUE.md). This module imports no client and
 * no simulator; the per-venue lines of the entry points and of `SIMULATIONS` are generated from it
 * (`scripts/venues.ts` writes `src/{clients,normalize,testing}/venues.generated.ts` and
 * `src/testing/simulations.generated.ts`).
 */

/** What one venue is to perpdata. */
export interface VenueEntry {
  /**
   * `'exchange'`: it lists the instruments it serves (an `Exchange`, the `exchange` of its records);
   * `'aggregator'`: it serves data about another exchange's instruments (Coinalyze: `exchange` is the
   * client's underlying venue, `source` the aggregator).
   */
  readonly role: 'exchange' | 'aggregator';
  /** Its column heading in the README's venue × kind table. */
  readonly title: string;
  /** Whether its client streams (`watch*`) and `simulateVenues` starts a WebSocket server for it. */
  readonly live: boolean;
}

/** Every venue, in the order tables list them. Keys are the `source` values of records. */
export const VENUES = {
  binance: { role: 'exchange', title: 'Binance USDⓈ-M', live: true },
  bybit: { role: 'exchange', title: 'Bybit v5 linear', live: true },
  okx: { role: 'exchange', title: 'OKX v5 USDT swaps', live: true },
  coinalyze: { role: 'aggregator', title: 'Coinalyze v1 (per venue)', live: false },
} as const satisfies Readonly<Record<string, VenueEntry>>;

/** A key of `VENUES`. */
export type VenueId = keyof typeof VENUES;
/** The venues of `role`. */
export type VenueOfRole<R extends VenueEntry['role']> = {
  [K in VenueId]: (typeof VENUES)[K]['role'] extends R ? K : never;
}[VenueId];
/** The venues that stream (`live: true`). */
export type LiveVenueId = { [K in VenueId]: (typeof VENUES)[K]['live'] extends true ? K : never }[VenueId];

/** Every venue id, in registry order. */
export const VENUE_IDS = Object.keys(VENUES) as readonly VenueId[];

/** The ids of `role`, in registry order. */
export function venuesOfRole<R extends VenueEntry['role']>(role: R): readonly VenueOfRole<R>[] {
  return VENUE_IDS.filter((id): id is VenueOfRole<R> => VENUES[id].role === role);
}

/** Whether `id` is a venue that lists its own instruments (`'exchange'`). */
export function isExchangeVenue(id: string): id is VenueOfRole<'exchange'> {
  return Object.hasOwn(VENUES, id) && VENUES[id as VenueId].role === 'exchange';
}
