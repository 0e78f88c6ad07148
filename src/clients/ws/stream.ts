import { type PerpdataError, UnknownSymbolError, WebSocketError } from '../../core/errors.js';
import type { Logger } from '../types.js';
import { clockSleep, systemClock, type WsClock } from './clock.js';
import { ManagedConnection } from './connection.js';
import type { WsEgressPool } from './egress.js';
import { TypedEmitter } from './emitter.js';
import { BoundedQueue } from './queue.js';
import type { GapWindow, StreamEvents, TopicSpec, WatchOptions, WsProtocol } from './types.js';

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
  readonly egress: WsEgressPool;
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
 * const stream = binance.watchCandles({ symbols: ['BTC', 'ETH'], interval: '1m' });
 * stream.on('reconnected', (e) => console.log('back after', e.downtimeMs, 'ms', e.gaps));
 * for await (const candle of stream) console.log(candle.symbol, candle.ts, candle.close);
 */
export class LiveStream<R> implements AsyncIterable<R>, AsyncDisposable {
  readonly #events: TypedEmitter<StreamEvents>;
  readonly #queue: BoundedQueue<R>;
  readonly #stop = new AbortController();
  readonly #start: () => Promise<void>;
  readonly #connections: ManagedConnection<unknown>[] = [];
  #processor: Processor<unknown> | undefined;
  #started: Promise<void> | undefined;
  #iterating = false;
  #closing: Promise<void> | undefined;
  #dropped = 0;

  constructor(options: LiveStreamOptions<unknown, R>) {
    const logger = options.logger;
    this.#events = new TypedEmitter((error) =>
      logger?.warn?.('ws event listener threw', { error: String(error) }),
    );
    this.#queue = new BoundedQueue(options.bufferSize ?? 10_000);
    const clock = options.clock ?? systemClock;
    const signals = [options.signal].filter((s): s is AbortSignal => s !== undefined);
    for (const s of signals) {
      if (s.aborted) void this.close('aborted');
      else s.addEventListener('abort', () => void this.close('aborted'), { once: true });
    }
    this.#start = async () => {
      const plan = await options.plan();
      if (this.#stop.signal.aborted) return;
      for (const e of plan.errors ?? []) this.#events.emit('error', e);
      const ctx: ProcessorContext<R> = {
        push: (record) => {
          if (this.#queue.push(record)) return true;
          if (!this.#queue.ended) {
            this.#dropped++;
            this.#events.emit('overflow', { dropped: this.#dropped, capacity: this.#queue.capacity });
          }
          return false;
        },
        events: this.#events,
        clock,
        signal: this.#stop.signal,
      };
      const processor = options.processor(ctx);
      this.#processor = processor;
      const events = this.#events;
      for (const [index, c] of plan.connections.entries()) {
        if (c.topics.length === 0) continue;
        const topicOf = new Map(c.topics.map((t) => [t.id, t]));
        const conn: ManagedConnection<unknown> = new ManagedConnection<unknown>({
          index,
          protocol: c.protocol,
          topics: c.topics,
          clock,
          backoff: options.backoff ?? {},
          stallGraceMs: options.stallGraceMs,
          maxLifetimeMs: options.maxLifetimeMs,
          dispatcher: () => options.egress.take(),
          logger,
          hooks: {
            data: (records, topic, topicId) => processor.data(records, topic ?? topicOf.get(topicId)),
            open: (info) => {
              if (info.first) {
                events.emit('connected', { connection: index, url: info.url, topics: info.topics });
                return;
              }
              const gaps = processor.reconnected?.(conn.topics, clock.now()) ?? [];
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
              events.emit('error', {
                error:
                  unknownSymbol && symbol !== undefined
                    ? new UnknownSymbolError(
                        symbol,
                        { venue: options.venue, endpoint: `websocket ${topicId}` },
                        { cause: error },
                      )
                    : error,
                topic: topicId,
                symbol,
              });
            },
            malformed: (error) => events.emit('error', { error }),
          },
        });
        this.#connections.push(conn);
        const spacing = (c.protocol.connectSpacingMs ?? 0) * (this.#connections.length - 1);
        if (spacing === 0) conn.start();
        else
          void clockSleep(clock, spacing, this.#stop.signal).then(
            () => this.#stop.signal.aborted || conn.start(),
          );
      }
      if (this.#connections.length === 0) {
        this.#events.emit('error', {
          error: new WebSocketError('Nothing to subscribe: every topic was refused', {
            venue: options.venue,
          }),
        });
      }
    };
    this.#closeEgress = options.ownsEgress ? () => options.egress.close() : async () => undefined;
  }

  readonly #closeEgress: () => Promise<void>;

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
          : new WebSocketError('Stream could not start', { venue: 'ws' }, { cause });
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
    if (this.#iterating) throw new WebSocketError('A live stream has one consumer', { venue: 'ws' });
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

/** Splits topics into shards of at most `size` (one connection each). */
export function shardTopics<T>(topics: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  const n = Math.max(1, Math.floor(size));
  for (let i = 0; i < topics.length; i += n) out.push(topics.slice(i, i + n));
  return out;
}
