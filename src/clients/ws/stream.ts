import { UnknownSymbolError, WebSocketError } from '../../core/errors.js';
import type { EgressPool } from '../transport/egress.js';
import { sleep } from '../transport/sleep.js';
import type { Logger } from '../types.js';
import { systemClock, type WsClock } from './clock.js';
import { type ConnectionHooks, ManagedConnection } from './connection.js';
import { TypedEmitter } from './emitter.js';
import type { StreamPlan } from './plan.js';
import { BoundedQueue } from './queue.js';
import type { GapWindow, StreamEvents, TopicSpec, WatchOptions } from './types.js';

/** Planning moved to `plan.ts`; re-exported for the venue modules that import it from here. */
export { type StreamPlan, shardTopics } from './plan.js';

/** What a stream gives the processor that turns decoded records into yielded ones. */
export interface ProcessorContext<T> {
  /** Queues a record for the consumer; `false` when the buffer is full (the record is dropped and reported). */
  push(record: T): boolean;
  readonly events: TypedEmitter<StreamEvents>;
  readonly clock: WsClock;
  /** Aborted when the stream closes. */
  readonly signal: AbortSignal;
}

/** Turns decoded records into the records a stream yields (dedupe, sequencing, gap fill, aggregation). */
export interface Processor<T> {
  data(records: readonly T[], topic: TopicSpec | undefined): void;
  /** A connection came back with these topics; answers the gap windows it left. */
  reconnected?(topics: readonly TopicSpec[], now: number): GapWindow[];
  close?(): void;
}

/** Options of `LiveStream`. */
export interface LiveStreamOptions<T, R> extends WatchOptions {
  readonly venue: string;
  readonly plan: () => Promise<StreamPlan<T>>;
  readonly processor: (ctx: ProcessorContext<R>) => Processor<T>;
  /** Where sockets go out: the client's egress pool, shared with its REST transport. */
  readonly egress: EgressPool;
  /** Close the egress pool with the stream (when the stream owns it). */
  readonly ownsEgress?: boolean | undefined;
  readonly logger?: Logger | undefined;
}

/**
 * A live stream of records: an `AsyncIterable` (one consumer) that also reports its lifecycle through
 * `on(event, listener)`. Sockets open on first iteration; breaking out of `for await`, `close()` or
 * the signal closes every socket and timer. A consumer slower than the feed fills a bounded buffer,
 * after which records are dropped and `overflow` is reported (candle streams heal the hole over REST).
 * @example
 * import { BinanceClient } from 'perpdata';
 *
 * const binance = new BinanceClient();
 * const stream = binance.watchCandles({ symbols: ['BTC', 'ETH'], interval: '1m' });
 * stream.on('reconnected', (e) => console.log('back after', e.downtimeMs, 'ms', e.gaps));
 * for await (const candle of stream) console.log(candle.symbol, candle.ts, candle.close);
 */
export class LiveStream<R> implements AsyncIterable<R>, AsyncDisposable {
  readonly #events: TypedEmitter<StreamEvents>;
  readonly #queue: BoundedQueue<R>;
  readonly #stop = new AbortController();
  readonly #o: LiveStreamOptions<unknown, R>;
  readonly #venue: string;
  readonly #clock: WsClock;
  readonly #connections: ManagedConnection<unknown>[] = [];
  #processor: Processor<unknown> | undefined;
  #started: Promise<void> | undefined;
  #iterating = false;
  #closing: Promise<void> | undefined;
  #dropped = 0;

  constructor(options: LiveStreamOptions<unknown, R>) {
    this.#o = options;
    this.#venue = options.venue;
    this.#clock = options.clock ?? systemClock;
    this.#events = new TypedEmitter((error) =>
      options.logger?.warn?.('ws event listener threw', { error: String(error) }),
    );
    this.#queue = new BoundedQueue(options.bufferSize ?? 10_000);
    const signal = options.signal;
    if (signal?.aborted) void this.close('aborted');
    else signal?.addEventListener('abort', () => void this.close('aborted'), { once: true });
  }

  /** Plans the stream, makes its processor and starts one managed connection per planned shard. */
  async #start(): Promise<void> {
    const plan = await this.#o.plan();
    if (this.#stop.signal.aborted) return;
    for (const e of plan.errors ?? []) this.#events.emit('error', e);
    const processor = this.#o.processor(this.#processorContext());
    this.#processor = processor;
    for (const [index, c] of plan.connections.entries()) {
      if (c.topics.length === 0) continue;
      const conn: ManagedConnection<unknown> = new ManagedConnection<unknown>({
        index,
        protocol: c.protocol,
        topics: c.topics,
        clock: this.#clock,
        backoff: this.#o.backoff ?? {},
        stallGraceMs: this.#o.stallGraceMs,
        maxLifetimeMs: this.#o.maxLifetimeMs,
        egress: () => this.#o.egress.forSocket(),
        logger: this.#o.logger,
        hooks: this.#hooks(index, c.topics, processor, () => conn.topics),
      });
      this.#connections.push(conn);
      // Shards open `connectSpacingMs` apart (OKX: 3 new connections a second per IP).
      const spacing = (c.protocol.connectSpacingMs ?? 0) * (this.#connections.length - 1);
      if (spacing === 0) conn.start();
      else
        void sleep(spacing, this.#stop.signal, this.#clock).then(
          () => conn.start(),
          () => undefined,
        );
    }
    if (this.#connections.length === 0) {
      this.#events.emit('error', {
        error: new WebSocketError('Nothing to subscribe: every topic was refused', { venue: this.#venue }),
      });
    }
  }

  /** What the processor sees: a bounded push (overflow reported), the events, the clock, the stop signal. */
  #processorContext(): ProcessorContext<R> {
    return {
      push: (record) => {
        if (this.#queue.push(record)) return true;
        if (!this.#queue.ended) {
          this.#dropped++;
          this.#events.emit('overflow', { dropped: this.#dropped, capacity: this.#queue.capacity });
        }
        return false;
      },
      events: this.#events,
      clock: this.#clock,
      signal: this.#stop.signal,
    };
  }

  /** How connection `index` reports to the stream: data to the processor, its lifecycle as events. */
  #hooks(
    index: number,
    planned: readonly TopicSpec[],
    processor: Processor<unknown>,
    current: () => readonly TopicSpec[],
  ): ConnectionHooks<unknown> {
    const events = this.#events;
    const topicOf = new Map(planned.map((t) => [t.id, t]));
    return {
      data: (records, topic, topicId) => processor.data(records, topic ?? topicOf.get(topicId)),
      open: (info) => {
        if (info.first) {
          events.emit('connected', { connection: index, url: info.url, topics: info.topics });
          return;
        }
        const gaps = processor.reconnected?.(current(), this.#clock.now()) ?? [];
        events.emit('reconnected', {
          connection: index,
          attempt: info.attempt,
          downtimeMs: info.downtimeMs,
          gaps,
        });
      },
      reconnecting: (info) => events.emit('reconnecting', { connection: index, ...info }),
      stalled: (topic, silentMs) =>
        events.emit('stalled', { connection: index, topic: topic.id, symbol: topic.symbol, silentMs }),
      refused: (topicId, error, unknownSymbol) => {
        const symbol = topicOf.get(topicId)?.symbol;
        // The venue's own channel name is the endpoint of a refused subscription.
        const unknown =
          unknownSymbol && symbol !== undefined
            ? new UnknownSymbolError(symbol, { venue: this.#venue, endpoint: topicId }, { cause: error })
            : undefined;
        events.emit('error', { error: unknown ?? error, topic: topicId, symbol });
      },
      malformed: (error) => events.emit('error', { error }),
    };
  }

  async #closeEgress(): Promise<void> {
    if (this.#o.ownsEgress) await this.#o.egress.close();
  }

  /** Adds a lifecycle listener; returns a function that removes it. */
  on<K extends keyof StreamEvents>(event: K, listener: (payload: StreamEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Removes a lifecycle listener. */
  off<K extends keyof StreamEvents>(event: K, listener: (payload: StreamEvents[K]) => void): void {
    this.#events.off(event, listener);
  }

  /** Opens the sockets without iterating (they also open on the first `next()`). */
  start(): Promise<void> {
    this.#started ??= this.#start().catch((cause: unknown) => {
      const error =
        cause instanceof WebSocketError
          ? cause
          : new WebSocketError('Stream could not start', { venue: this.#venue }, { cause });
      this.#queue.end(cause ?? error);
      void this.close('failed');
    });
    return this.#started;
  }

  /** Records waiting for the consumer. */
  get buffered(): number {
    return this.#queue.size;
  }

  /** Closes every socket and timer; the iteration ends after the records already buffered. */
  close(reason = 'closed'): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      this.#processor?.close?.();
      this.#queue.end();
      await this.#started?.catch(() => undefined);
      await Promise.all(this.#connections.map((c) => c.close()));
      await this.#closeEgress();
      this.#events.emit('closed', { reason });
      this.#events.clear();
    })();
    return this.#closing;
  }

  [Symbol.asyncIterator](): AsyncIterator<R, undefined> {
    if (this.#iterating) throw new WebSocketError('A live stream has one consumer', { venue: this.#venue });
    this.#iterating = true;
    void this.start();
    return {
      next: () => this.#queue.next(),
      return: async () => {
        await this.close('consumer stopped');
        return { value: undefined, done: true };
      },
      throw: async (error?: unknown) => {
        await this.close('consumer failed');
        throw error;
      },
    };
  }

  /** `await using stream = client.watchCandles(…)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
