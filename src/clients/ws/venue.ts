/** What the venue protocols (`binance/ws.ts`, `bybit/ws.ts`, `okx/ws.ts`) build their streams with. */
import { ValidationError } from '../../core/errors.js';
import type { Exchange } from '../../core/types.js';
import { EgressPool } from '../transport/egress.js';
import type { Schema } from '../transport/schema.js';
import type { StreamPlan } from './plan.js';
import { LiveStream, type LiveStreamOptions } from './stream.js';
import type { WatchOptions, WsContext } from './types.js';

export { symbolPlan } from './plan.js';

/**
 * Opens a stream on the client's egress pool (shared with its REST transport: a banned or failing
 * egress carries no new socket) and the union of the client's and the call's signals. Streams made
 * without a client get a pool of their own from `proxies` and `direct`, closed with the stream.
 */
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
    egress:
      context.egress ??
      new EgressPool({ venue, proxies: context.proxies, direct: context.direct, logger: context.logger }),
    ownsEgress: context.egress === undefined,
    logger: context.logger,
  });
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
