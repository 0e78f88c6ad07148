/**
 * The public part of the live layer: the stream's events and the options and parameters of `watch*`
 * (the stream type itself, `LiveStream`, is a type alias in `../type-exports.ts`). The lifecycle base
 * (`connection.ts`, `session.ts`), planning and sharding (`plan.ts`), processors, the emitter, clocks
 * and the venue protocols (`binance/ws.ts`, `bybit/ws.ts`, `okx/ws.ts`) are internal: import them from
 * their own files inside the package.
 */
export type { BackoffOptions } from '../transport/backoff.js';
export type { WsClock } from './clock.js';
export type {
  GapWindow,
  ReconnectReason,
  StreamEvents,
  WatchCandlesParams,
  WatchLiquidationsParams,
  WatchOpenInterestParams,
  WatchOptions,
  WatchSymbolsParams,
} from './types.js';
