/**
 * Classes users receive but never construct, exported as type aliases. `export type { SomeClass }`
 * is not enough: the bundled `.d.ts` re-exports the class declaration itself, so `new SomeClass(…)`
 * and `x instanceof SomeClass` would compile against a name the JavaScript entry does not export. An
 * alias is only a type, in the source and in the emitted `.d.ts`.
 */
import type { VenueClient as VenueClientClass } from './base.js';
import type { ClientOptions } from './types.js';
import type { LiveStream as LiveStreamClass } from './ws/stream.js';

/**
 * A live stream of records, as `watchCandles`, `watchFunding`, `watchOpenInterest` and
 * `watchLiquidations` return it: an `AsyncIterable` (one consumer) with lifecycle events through
 * `on(event, listener)`; breaking out of `for await`, `close()` or the signal closes its sockets.
 * @example
 * import { BinanceClient, type Candle, type LiveStream } from 'perpdata';
 *
 * const binance = new BinanceClient();
 * const stream: LiveStream<Candle> = binance.watchCandles({ symbols: ['BTC'], interval: '1m' });
 * stream.on('reconnected', (e) => console.log(e.gaps));
 * for await (const candle of stream) console.log(candle.close);
 */
export type LiveStream<R> = LiveStreamClass<R>;

/**
 * Any venue client (`BinanceClient`, `BybitClient`, `OkxClient`, `CoinalyzeClient`): `capabilities`,
 * `serves`, `history`, `snapshot`, `fundingPeriod`, `instruments`, `registry`, `close`. What `Sync` takes in `clients`.
 */
export type VenueClient<O extends ClientOptions = ClientOptions> = VenueClientClass<O>;
