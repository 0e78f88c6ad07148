import { ValidationError } from '../../core/errors.js';
import type { Exchange } from '../../core/types.js';
import type { InstrumentInfo } from '../../normalize/symbols.js';
import type { Schema } from '../transport/index.js';
import { WsEgressPool } from './egress.js';
import { type RegistrySource, resolveSymbols } from './plan.js';
import { LiveStream, type LiveStreamOptions, type StreamPlan, shardTopics } from './stream.js';
import type { TopicSpec, WatchOptions, WsContext, WsProtocol } from './types.js';

/** Opens a stream with the client's egress options and the union of the client's and the call's signals. */
export function openStream<R>(
  venue: Exchange,
  context: WsContext,
  params: WatchOptions,
  plan: () => Promise<StreamPlan<unknown>>,
  processor: LiveStreamOptions<unknown, R>['processor'],
): LiveStream<R> {
  const signals = [params.signal, context.signal].filter((s): s is AbortSignal => s !== undefined);
  return new LiveStream<R>({
    ...params,
    signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
    venue,
    plan,
    processor,
    egress: new WsEgressPool({ proxies: context.proxies, direct: context.direct }),
    ownsEgress: true,
    logger: context.logger,
  });
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

/** Splits `items` into batches whose JSON-encoded length stays within `maxChars`. */
export function batchByLength<T>(items: readonly T[], maxChars: number): T[][] {
  const out: T[][] = [];
  let batch: T[] = [];
  let size = 2;
  for (const item of items) {
    const len = JSON.stringify(item).length;
    if (batch.length > 0 && size + 1 + len > maxChars) {
      out.push(batch);
      batch = [];
      size = 2;
    }
    size += (batch.length > 0 ? 1 : 0) + len;
    batch.push(item);
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/** Validates one frame at the boundary; a mismatch is a `ValidationError` naming the venue and channel. */
export function parseFrame<T>(venue: string, schema: Schema<T>, payload: unknown, endpoint: string): T {
  const result = schema.safeParse(payload);
  if (!result.success) throw new ValidationError({ venue, endpoint }, result.error.issues, payload);
  return result.data;
}
