/**
 * The live layer shared by every venue: one base that owns the socket lifecycle (connect, paced
 * subscribe batches, heartbeat, per-topic stall detection, jittered exponential reconnect, proactive
 * replacement, resubscription), a bounded buffer behind an `AsyncIterable`, a typed lifecycle emitter
 * and REST gap fill for candles. Venue protocols live in `binance/ws.ts`, `bybit/ws.ts`, `okx/ws.ts`.
 */
export { type BackoffOptions, backoffDelay } from '../transport/backoff.js';
export { scaledClock, systemClock, type WsClock } from './clock.js';
export { type Listener, TypedEmitter } from './emitter.js';
export type { RegistrySource } from './plan.js';
export { type StreamPlan, shardTopics } from './plan.js';
export {
  CandleSequencer,
  type CandleSequencerOptions,
  type FetchClosed,
  FundingChanges,
  LiquidationBuckets,
  type LiquidationEvent,
  OpenInterestSampler,
} from './processors.js';
export { LiveStream, type Processor, type ProcessorContext } from './stream.js';
export type {
  GapWindow,
  ReconnectReason,
  SendLimit,
  StreamEvents,
  TopicSpec,
  WatchCandlesParams,
  WatchLiquidationsParams,
  WatchOpenInterestParams,
  WatchOptions,
  WatchSymbolsParams,
  WsContext,
  WsFrame,
  WsProtocol,
  WsRequest,
} from './types.js';
