/**
 * `perpdata/normalize`: pure functions from a venue payload (REST rows or a live frame's data) to
 * canonical records, one per venue, kind and payload, and the symbol registry (canonical symbol <->
 * venue instrument). Each throws a `TypeError` on a field it cannot read; the clients validate the
 * payload first and turn that into a `ValidationError`. The byte-level page decoders, the numeric
 * helpers and venue clock parsing are internal.
 * @module perpdata/normalize
 */
export { type InstrumentInfo, SymbolRegistry } from './symbols.js';
/**
 * Each venue's normalisers and their types: the venue's own explicit export list
 * (`./<venue>.public.ts`), one generated line per venue of the registry (`scripts/venues.ts`).
 */
export * from './venues.generated.js';
