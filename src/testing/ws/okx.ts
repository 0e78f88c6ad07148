/**
 * OKX v5 WebSocket as §3.4 and the recorded frames describe it: candles only on `/ws/v5/business`
 * (a candle channel on `/ws/v5/public` is refused with the recorded `60018` error), other channels on
 * `/ws/v5/public`; `subscribe` acked per argument (`{"id","event":"subscribe","arg","connId"}`);
 * unknown instruments refused with `60018 … doesn't exist`; text `ping` answered with text `pong`;
 * a connection without traffic for 30 s is dropped; `notice` before a service upgrade; candle rows of
 * nine strings with `confirm` `"0"`/`"1"`; `liquidation-orders` by `instType`.
 */
import type { WsClock } from '../../clients/ws/clock.js';
import type { SyntheticMarket } from '../market.js';
import { LocalWsServer, type ServerConnection } from './base.js';

const MINUTE = 60_000;

/** An OKX instrument the server lists. */
export interface OkxServerInstrument {
  readonly symbol: string;
  /** `ctVal`: base units per contract. */
  readonly ctVal: number;
}

/** Options of the OKX server. */
export interface OkxWsServerOptions {
  readonly clock: WsClock;
  readonly market: SyntheticMarket;
  readonly instruments: Readonly<Record<string, OkxServerInstrument>>;
}

interface Arg {
  channel: string;
  instId?: string;
  instType?: string;
}

/** A local OKX server with fault switches. */
export class OkxWsServer {
  readonly server: LocalWsServer;
  readonly #o: OkxWsServerOptions;
  pings = 0;
  idleCuts = 0;
  readonly #lastTraffic = new Map<ServerConnection, number>();
  #checkTimer: unknown;

  constructor(options: OkxWsServerOptions) {
    this.#o = options;
    this.server = new LocalWsServer({
      clock: options.clock,
      paths: ['/ws/v5/business', '/ws/v5/public'],
      tickMs: MINUTE,
      onTick: (boundary) => this.#minute(boundary),
      onMessage: (conn, text) => this.#message(conn, text),
      onConnection: (conn) => this.#lastTraffic.set(conn, options.clock.now()),
    });
  }

  /** The `ws://127.0.0.1:<port>` URL to pass as the client's `wsUrl`. */
  get url(): string {
    return this.server.url;
  }

  /** Starts the server and its clock-driven feeds. */
  async start(): Promise<this> {
    await this.server.start();
    this.#check();
    return this;
  }

  #send(conn: ServerConnection, text: string): void {
    if (this.server.stalled) return;
    this.#lastTraffic.set(conn, this.#o.clock.now());
    conn.send(text);
  }

  #check(): void {
    this.#checkTimer = this.#o.clock.setTimeout(() => {
      const now = this.#o.clock.now();
      // A hung server (stalled) does not police its clients either.
      for (const c of this.server.stalled ? [] : this.server.connections) {
        if (now - (this.#lastTraffic.get(c) ?? now) > 30_000) {
          this.idleCuts++;
          c.socket.close(1000, 'idle');
        }
      }
      this.#check();
    }, 5_000);
  }

  #message(conn: ServerConnection, text: string): void {
    this.#lastTraffic.set(conn, this.#o.clock.now());
    if (text === 'ping') {
      this.pings++;
      this.#send(conn, 'pong');
      return;
    }
    const msg = JSON.parse(text) as { id?: string; op?: string; args?: Arg[] };
    if (msg.op !== 'subscribe') return;
    const id = msg.id;
    for (const arg of msg.args ?? []) {
      const isCandle = arg.channel.startsWith('candle');
      const known =
        arg.channel === 'liquidation-orders'
          ? arg.instType === 'SWAP'
          : arg.instId !== undefined && arg.instId in this.#o.instruments;
      const rightPath = isCandle === (conn.path === '/ws/v5/business');
      if (!known || !rightPath) {
        this.#send(
          conn,
          JSON.stringify({
            ...(id === undefined ? {} : { id }),
            event: 'error',
            msg: `Subscribe failed, wrong URL or channel:${arg.channel},instId:${arg.instId ?? ''} doesn't exist. Please use the correct URL, channel and parameters referring to API document.`,
            code: '60018',
            connId: 'e1f69f02',
          }),
        );
        continue;
      }
      conn.topics.add(`${arg.channel}:${arg.instId ?? arg.instType}`);
      this.#send(
        conn,
        JSON.stringify({ ...(id === undefined ? {} : { id }), event: 'subscribe', arg, connId: 'a4d3ae55' }),
      );
    }
  }

  #row(instId: string, ts: number, confirm: '0' | '1'): string[] {
    const inst = this.#o.instruments[instId]!;
    const c = this.#o.market.candle(inst.symbol, ts, MINUTE);
    return [
      String(ts),
      String(c.open),
      String(c.high),
      String(c.low),
      String(c.close),
      String(c.volume / inst.ctVal),
      String(c.volume),
      String(c.quoteVolume),
      confirm,
    ];
  }

  #minute(boundary: number): void {
    for (const conn of this.server.connections) {
      for (const topic of conn.topics) {
        if (!topic.startsWith('candle1m:')) continue;
        const instId = topic.slice(9);
        const arg = { channel: 'candle1m', instId };
        this.#send(conn, JSON.stringify({ arg, data: [this.#row(instId, boundary - MINUTE, '1')] }));
        this.#send(conn, JSON.stringify({ arg, data: [this.#row(instId, boundary, '0')] }));
      }
    }
  }

  /** Sends the service-upgrade notice to every connection and cuts them `afterMs` later. */
  notice(afterMs = 60_000): void {
    for (const c of this.server.connections) {
      this.#send(
        c,
        JSON.stringify({
          event: 'notice',
          code: '64008',
          msg: 'The connection will soon be closed for a service upgrade. Please reconnect.',
          connId: 'a4d3ae55',
        }),
      );
    }
    const conns = [...this.server.connections];
    this.#o.clock.setTimeout(() => {
      for (const c of conns) c.socket.terminate();
    }, afterMs);
  }

  /** Pushes a `funding-rate` row. */
  pushFunding(instId: string, rate: string, fundingTime: number): void {
    const now = this.#o.clock.now();
    const arg = { channel: 'funding-rate', instId };
    const data = [
      {
        formulaType: 'withRate',
        fundingRate: rate,
        fundingTime: String(fundingTime),
        instId,
        instType: 'SWAP',
        method: 'current_period',
        nextFundingRate: '',
        nextFundingTime: String(fundingTime + 8 * 3_600_000),
        ts: String(now),
      },
    ];
    for (const c of this.server.connections)
      if (c.topics.has(`funding-rate:${instId}`)) this.#send(c, JSON.stringify({ arg, data }));
  }

  /** Pushes an `open-interest` row (`oi` contracts, `oiCcy` base). */
  pushOpenInterest(instId: string, oiCcy: number, ts: number): void {
    const inst = this.#o.instruments[instId]!;
    const arg = { channel: 'open-interest', instId };
    const data = [
      {
        instId,
        instType: 'SWAP',
        oi: String(oiCcy / inst.ctVal),
        oiCcy: String(oiCcy),
        oiUsd: String(oiCcy * 100),
        ts: String(ts),
      },
    ];
    for (const c of this.server.connections)
      if (c.topics.has(`open-interest:${instId}`)) this.#send(c, JSON.stringify({ arg, data }));
  }

  /** Pushes a `liquidation-orders` row (`sz` in contracts). */
  pushLiquidation(instId: string, side: 'buy' | 'sell', sz: string, bkPx: string, ts: number): void {
    const arg = { channel: 'liquidation-orders', instType: 'SWAP' };
    const data = [
      {
        details: [
          {
            bkLoss: '0',
            bkPx,
            ccy: '',
            posSide: side === 'sell' ? 'long' : 'short',
            side,
            sz,
            ts: String(ts),
          },
        ],
        instFamily: instId.replace(/-SWAP$/, ''),
        instId,
        instType: 'SWAP',
        uly: instId.replace(/-SWAP$/, ''),
      },
    ];
    for (const c of this.server.connections)
      if (c.topics.has('liquidation-orders:SWAP')) this.#send(c, JSON.stringify({ arg, data }));
  }

  /** Stops the feeds, closes every connection and the server. */
  async close(): Promise<void> {
    this.#o.clock.clearTimeout(this.#checkTimer);
    await this.server.close();
  }
}
