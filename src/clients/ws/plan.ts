import { PerpdataError, UnknownSymbolError } from '../../core/errors.js';
import type { Exchange } from '../../core/types.js';
import type { InstrumentInfo, SymbolRegistry } from '../../normalize/symbols.js';

/** A registry, or a function that loads one (a client's `registry()`). */
export type RegistrySource = SymbolRegistry | (() => Promise<SymbolRegistry>);

/** Loads the registry of a source. */
export function loadRegistry(source: RegistrySource): Promise<SymbolRegistry> {
  return typeof source === 'function' ? source() : Promise.resolve(source);
}

/**
 * Maps canonical symbols to instruments; unknown ones become typed errors for their topic, so the
 * others still stream.
 */
export async function resolveSymbols(
  venue: Exchange,
  symbols: readonly string[],
  source: RegistrySource,
): Promise<{ instruments: InstrumentInfo[]; errors: { error: PerpdataError; symbol: string }[] }> {
  const registry = await loadRegistry(source);
  const instruments: InstrumentInfo[] = [];
  const errors: { error: PerpdataError; symbol: string }[] = [];
  const seen = new Set<string>();
  for (const symbol of symbols) {
    const key = symbol.toUpperCase();
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      instruments.push(registry.toInstrument(venue, symbol));
    } catch (error) {
      errors.push({
        symbol,
        error:
          error instanceof PerpdataError
            ? error
            : new UnknownSymbolError(symbol, { venue, endpoint: 'websocket' }, { cause: error }),
      });
    }
  }
  return { instruments, errors };
}
