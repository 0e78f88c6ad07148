/**
 * Planning a stream: from canonical symbols, through the symbol registry, to the connections it
 * opens (`StreamPlan`), each with its protocol and its shard of the topics.
 */
import { PerpdataError, UnknownSymbolError } from '../../core/errors.js';
import type { Exchange } from '../../core/types.js';
import type { InstrumentInfo, SymbolRegistry } from '../../normalize/symbols.js';
import type { TopicSpec, WsProtocol } from './types.js';

/** The connections a stream opens: each with its protocol and its share of the topics. */
export interface StreamPlan<T> {
  readonly connections: readonly {
    readonly protocol: WsProtocol<T>;
    readonly topics: readonly TopicSpec[];
  }[];
  /** Problems found while planning (e.g. unknown symbols), reported as `error` events. */
  readonly errors?: readonly {
    error: PerpdataError;
    symbol?: string | undefined;
    topic?: string | undefined;
  }[];
}

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
            : new UnknownSymbolError(symbol, { venue, endpoint: 'symbol registry' }, { cause: error }),
      });
    }
  }
  return { instruments, errors };
}

/** Splits topics into shards of at most `size` (one connection each). */
export function shardTopics<T>(topics: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  const n = Math.max(1, Math.floor(size));
  for (let i = 0; i < topics.length; i += n) out.push(topics.slice(i, i + n));
  return out;
}

/** Resolves symbols, builds one topic per instrument and shards them over connections of one protocol. */
export function symbolPlan<T>(
  venue: Exchange,
  registry: RegistrySource,
  symbols: readonly string[],
  topicOf: (i: InstrumentInfo) => TopicSpec,
  protocolOf: (byInstrument: Map<string, InstrumentInfo>) => WsProtocol<T>,
  perConnection: number,
): () => Promise<StreamPlan<T>> {
  return async () => {
    const { instruments, errors } = await resolveSymbols(venue, symbols, registry);
    const byInstrument = new Map(instruments.map((i) => [i.instrument, i]));
    const protocol = protocolOf(byInstrument);
    return {
      connections: shardTopics(instruments.map(topicOf), perConnection).map((topics) => ({
        protocol,
        topics,
      })),
      errors: errors.map((e) => ({ ...e, topic: e.symbol })),
    };
  };
}
