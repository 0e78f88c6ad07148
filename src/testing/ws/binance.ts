/**
 * Binance USDⓈ-M market streams as §1.5 describes them: `/market/ws` (raw) and `/market/stream`
 * (combined `{stream,data}`), `SUBSCRIBE`/`UNSUBSCRIBE`/`LIST_SUBSCRIPTIONS` answered with
 * `{"result":…,"id":…}`, at most 1,024 streams and 10 incoming messages per second per connection
 * (exceeding disconnects), server ping frames every 3 minutes, kline frames every 250 ms while open
 * and a final `x:true` frame, written with the `", "` separators inside `k` that the recorded frames
 * show; markPrice with the undocumented `ap`/`st`; forceOrder with `ps`/`st`.
 */
import type { WsClock } from '../../clients/ws/clock.js';
import type { SyntheticMarket } from '../market.js';
import { LocalWsServer, type ServerConnection } from './base.js';

const MINUTE = 60_000;

/** An instrument the server lists: venue id → canonical symbol and multiplier. */
export interface ServerInstrument {
  readonly symbol: string;
  readonly multiplier: number;
}

/** Options of the Binance server. */
export interface BinanceWsServerOptions {
  readonly clock: WsClock;
  readonly market: SyntheticMarket;
  readonly instruments: Readonly<Record<string, ServerInstrument>>;
  /** Open-candle updates per minute before the closing frame (the venue sends one every 250 ms). @default 1 */
  readonly openUpdates?: number;
}

const fmt = (n: number): string => String(n);

/** A local Binance market-stream server with fault switches. */
export class BinanceWsServer {
  readonly server: LocalWsServer;
  readonly #o: BinanceWsServerOptions;
  /** The next minute's closed candles are sent twice. */
  duplicateNext = false;
  /** The next minute's closed candles are held back and sent after the following minute's. */
  swapNext = false;
  /** A malformed frame precedes the next minute's candles. */
  malformedNext = false;
  /** Instruments whose candles never close (a halted market): only open-candle updates are sent. */
  readonly silent = new Set<string>();
  /** Closed candles pushed, per instrument. */
  readonly pushed = new Map<string, number>();
  #held: { conn: ServerConnection; text: string }[] = [];
  #pingTimer: unknown;

  constructor(options: BinanceWsServerOptions) {
    this.#o = options;
    this.server = new LocalWsServer({
      clock: options.clock,
      paths: ['/market/ws', '/market/stream'],
      tickMs: MINUTE,
      onTick: (boundary) => this.#minute(boundary),
      onMessage: (conn, text) => this.#message(conn, text),
    });
  }

  /** The `ws://127.0.0.1:<port>` URL to pass as the client's `wsUrl`. */
  get url(): string {
    return this.server.url;
  }

  /** Starts the server and its clock-driven feeds. */
  async start(): Promise<this> {
    await this.server.start();
    this.#ping();
    return this;
  }

  #ping(): void {
    // Server ping frames every 3 minutes; undici answers them with pongs.
    this.#pingTimer = this.#o.clock.setTimeout(() => {
      for (const c of this.server.connections) if (!this.server.stalled) c.socket.ping('binance');
      this.#ping();
    }, 3 * MINUTE);
  }

  #message(conn: ServerConnection, text: string): void {
    const now = this.#o.clock.now();
    const recent = conn.received.filter((t) => t > now - 1_000).length;
    if (recent > 10) {
      conn.socket.close(1008, 'Too many requests');
      return;
    }
    let msg: { method?: string; params?: string[]; id?: number | string | null };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      conn.send(
        JSON.stringify({
          error: { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' },
          id: null,
        }),
      );
      return;
    }
    const id = msg.id ?? null;
    switch (msg.method) {
      case 'SUBSCRIBE': {
        const params = msg.params ?? [];
        if (conn.topics.size + params.length > 1024) {
          conn.send(JSON.stringify({ error: { code: 2, msg: 'Invalid request: too many streams' }, id }));
          return;
        }
        for (const p of params) conn.topics.add(p);
        conn.send(JSON.stringify({ result: null, id }));
        return;
      }
      case 'UNSUBSCRIBE':
        for (const p of msg.params ?? []) conn.topics.delete(p);
        conn.send(JSON.stringify({ result: null, id }));
        return;
      case 'LIST_SUBSCRIPTIONS':
        conn.send(JSON.stringify({ result: [...conn.topics], id }));
        return;
      default:
        conn.send(
          JSON.stringify({ error: { code: 2, msg: `Invalid request: unknown variant ${msg.method}` }, id }),
        );
    }
  }

  #wrap(conn: ServerConnection, stream: string, payload: string): string {
    return conn.path === '/market/stream' ? `{"stream":"${stream}","data":${payload}}` : payload;
  }

  /** The kline frame of one candle, with the recorded `", "` separators inside `k`. */
  klineFrame(instrument: string, ts: number, closed: boolean, eventTime: number): string {
    const inst = this.#o.instruments[instrument]!;
    const c = this.#o.market.candle(inst.symbol, ts, MINUTE);
    const m = inst.multiplier;
    const part = closed ? 1 : 0.5;
    const k = [
      `"t":${ts}`,
      `"T":${ts + MINUTE - 1}`,
      `"s":"${instrument}"`,
      `"i":"1m"`,
      `"f":100`,
      `"L":200`,
      `"o":"${fmt(c.open * m)}"`,
      `"c":"${fmt(c.close * m)}"`,
      `"h":"${fmt(c.high * m)}"`,
      `"l":"${fmt(c.low * m)}"`,
      `"v":"${fmt((c.volume * part) / m)}"`,
      `"n":${c.trades}`,
      `"x":${closed}`,
      `"q":"${fmt(c.quoteVolume * part)}"`,
      `"V":"${fmt((c.takerBuyVolume * part) / m)}"`,
      `"Q":"${fmt(c.takerBuyVolume * part * c.close)}"`,
      `"B":"0"`,
    ].join(', ');
    return `{"e":"kline","E":${eventTime},"s":"${instrument}","k":{${k}}}`;
  }

  #minute(boundary: number): void {
    const ts = boundary - MINUTE;
    const held = this.#held;
    this.#held = [];
    const swap = this.swapNext;
    const dup = this.duplicateNext;
    const malformed = this.malformedNext;
    this.swapNext = false;
    this.duplicateNext = false;
    this.malformedNext = false;
    for (const conn of this.server.connections) {
      if (malformed) conn.send('{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":');
      for (const topic of conn.topics) {
        const match = /^(.+)@kline_1m$/.exec(topic);
        if (!match) continue;
        const instrument = match[1]!.toUpperCase();
        if (!this.#o.instruments[instrument]) continue;
        const text = this.#wrap(conn, topic, this.klineFrame(instrument, ts, true, boundary + 5));
        if (swap) {
          this.#held.push({ conn, text });
          continue;
        }
        if (this.server.stalled) continue;
        if (this.silent.has(instrument)) {
          conn.send(this.#wrap(conn, topic, this.klineFrame(instrument, boundary, false, boundary + 250)));
          continue;
        }
        conn.send(text);
        this.pushed.set(instrument, (this.pushed.get(instrument) ?? 0) + 1);
        if (dup) conn.send(text);
        // An update of the candle that just opened (not closed: the client must ignore it).
        for (let i = 0; i < (this.#o.openUpdates ?? 1); i++) {
          conn.send(
            this.#wrap(conn, topic, this.klineFrame(instrument, boundary, false, boundary + 250 * (i + 1))),
          );
        }
      }
    }
    for (const h of held) h.conn.send(h.text);
  }

  /** Pushes a markPrice event for every `@markPrice@1s` topic (call from a test). */
  pushMarkPrice(instrument: string, rate: number, nextFundingTime: number): void {
    const inst = this.#o.instruments[instrument]!;
    const now = this.#o.clock.now();
    const p = this.#o.market.markPrice(inst.symbol, Math.floor(now / MINUTE) * MINUTE) * inst.multiplier;
    const payload = `{"e":"markPriceUpdate","E":${now},"s":"${instrument}","p":"${fmt(p)}","ap":"${fmt(p)}","P":"${fmt(p)}","i":"${fmt(p)}","r":"${rate.toFixed(8)}","T":${nextFundingTime},"st":1}`;
    const stream = `${instrument.toLowerCase()}@markPrice@1s`;
    for (const conn of this.server.connections)
      if (conn.topics.has(stream)) conn.send(this.#wrap(conn, stream, payload));
  }

  /** Pushes a forceOrder event (order side `SELL` = a long was liquidated). */
  pushForceOrder(instrument: string, side: 'BUY' | 'SELL', qty: string, price: string, ts: number): void {
    const payload = `{"e":"forceOrder","E":${ts + 5},"o":{"s":"${instrument}","S":"${side}","o":"LIMIT","f":"IOC","q":"${qty}","p":"${price}","ap":"${price}","X":"FILLED","l":"${qty}","z":"${qty}","T":${ts},"ps":"${instrument}","st":1}}`;
    for (const conn of this.server.connections) {
      for (const stream of [`${instrument.toLowerCase()}@forceOrder`, '!forceOrder@arr']) {
        if (conn.topics.has(stream)) conn.send(this.#wrap(conn, stream, payload));
      }
    }
  }

  /** Stops the feeds, closes every connection and the server. */
  async close(): Promise<void> {
    this.#o.clock.clearTimeout(this.#pingTimer);
    await this.server.close();
  }
}
