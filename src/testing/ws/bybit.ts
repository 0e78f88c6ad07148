/**
 * Bybit v5 public linear stream as §2.4 describes it: `/v5/public/linear`; `subscribe` acked with
 * `{"success":true,"ret_msg":"","conn_id":…,"req_id":…,"op":"subscribe"}` and refused as the recorded
 * testnet frame (`success:false`, `error:handler not found,topic:…`); `{"op":"ping"}` answered with
 * `ret_msg:"pong"` and `op:"ping"`; idle connections (no client message for 60 s) cut; klines pushed
 * as snapshots with `confirm`; tickers as a snapshot then deltas; `allLiquidation` batches.
 */
import type { WsClock } from '../../clients/ws/clock.js';
import type { SyntheticMarket } from '../market.js';
import { LocalWsServer, type ServerConnection } from './base.js';
import type { ServerInstrument } from './binance.js';

const MINUTE = 60_000;

/** Options of the Bybit server. */
export interface BybitWsServerOptions {
  readonly clock: WsClock;
  readonly market: SyntheticMarket;
  readonly instruments: Readonly<Record<string, ServerInstrument>>;
  /** Client silence after which the server cuts a connection. @default 60000 */
  readonly idleCutMs?: number;
}

/** A local Bybit public-linear server with fault switches. */
export class BybitWsServer {
  readonly server: LocalWsServer;
  readonly #o: BybitWsServerOptions;
  /** Pings received. */
  pings = 0;
  /** Connections cut for silence. */
  idleCuts = 0;
  duplicateNext = false;
  #checkTimer: unknown;

  constructor(options: BybitWsServerOptions) {
    this.#o = options;
    this.server = new LocalWsServer({
      clock: options.clock,
      paths: ['/v5/public/linear'],
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
    this.#check();
    return this;
  }

  #check(): void {
    const idle = this.#o.idleCutMs ?? 60_000;
    this.#checkTimer = this.#o.clock.setTimeout(() => {
      const now = this.#o.clock.now();
      for (const c of this.server.connections) {
        const last = c.received.at(-1) ?? (c as ServerConnection & { openedAt?: number }).openedAt ?? now;
        if (now - last > idle) {
          this.idleCuts++;
          c.socket.close(1000, 'idle');
        }
      }
      this.#check();
    }, 5_000);
  }

  #valid(topic: string): boolean {
    const [kind, a, b] = topic.split('.');
    if (kind === 'kline') return a === '1' && b !== undefined && b in this.#o.instruments;
    if (kind === 'tickers' || kind === 'allLiquidation')
      return a !== undefined && a in this.#o.instruments && b === undefined;
    return false;
  }

  #message(conn: ServerConnection, text: string): void {
    const msg = JSON.parse(text) as { req_id?: string; op?: string; args?: string[] };
    const reqId = msg.req_id ?? '';
    if (msg.op === 'ping') {
      this.pings++;
      conn.send(JSON.stringify({ success: true, ret_msg: 'pong', conn_id: 'c1', req_id: reqId, op: 'ping' }));
      return;
    }
    if (msg.op === 'subscribe') {
      const args = msg.args ?? [];
      if (JSON.stringify(args).length > 21_000) {
        conn.send(
          JSON.stringify({
            success: false,
            ret_msg: 'args too long',
            conn_id: 'c1',
            req_id: reqId,
            op: 'subscribe',
          }),
        );
        return;
      }
      const bad = args.filter((t) => !this.#valid(t));
      for (const t of args) if (this.#valid(t)) conn.topics.add(t);
      for (const t of bad) {
        conn.send(
          JSON.stringify({
            success: false,
            ret_msg: `error:handler not found,topic:${t}`,
            conn_id: 'c1',
            req_id: reqId,
            op: 'subscribe',
          }),
        );
      }
      if (bad.length === 0)
        conn.send(
          JSON.stringify({ success: true, ret_msg: '', conn_id: 'c1', req_id: reqId, op: 'subscribe' }),
        );
      for (const t of args)
        if (t.startsWith('tickers.') && this.#valid(t)) this.#tickerSnapshot(conn, t.slice(8));
    }
  }

  #tickerSnapshot(conn: ServerConnection, instrument: string): void {
    const inst = this.#o.instruments[instrument]!;
    const now = this.#o.clock.now();
    const oi = this.#o.market.openInterest(inst.symbol, 0) / inst.multiplier;
    const data = {
      symbol: instrument,
      tickDirection: 'ZeroPlusTick',
      markPrice: String(this.#o.market.markPrice(inst.symbol, 0) * inst.multiplier),
      openInterest: String(oi * 2),
      openInterestValue: '1000000.00',
      fundingIntervalHour: '8',
      nextFundingTime: String(Date.UTC(2024, 5, 1, 8)),
      fundingRate: '0.0001',
      preOpenPrice: '',
    };
    conn.send(JSON.stringify({ topic: `tickers.${instrument}`, type: 'snapshot', data, cs: 1, ts: now }));
  }

  /** Pushes a tickers delta carrying only `fields`. */
  pushTickerDelta(instrument: string, fields: Record<string, string>): void {
    const now = this.#o.clock.now();
    const text = JSON.stringify({
      topic: `tickers.${instrument}`,
      type: 'delta',
      data: { symbol: instrument, ...fields },
      cs: 2,
      ts: now,
    });
    for (const c of this.server.connections) if (c.topics.has(`tickers.${instrument}`)) c.send(text);
  }

  /** Pushes one `allLiquidation` batch (`S: "Buy"` = a long was liquidated). */
  pushLiquidations(instrument: string, rows: { S: 'Buy' | 'Sell'; v: string; p: string; T: number }[]): void {
    const text = JSON.stringify({
      topic: `allLiquidation.${instrument}`,
      type: 'snapshot',
      ts: this.#o.clock.now(),
      data: rows.map((r) => ({ T: r.T, s: instrument, S: r.S, v: r.v, p: r.p })),
    });
    for (const c of this.server.connections) if (c.topics.has(`allLiquidation.${instrument}`)) c.send(text);
  }

  #row(instrument: string, ts: number, closed: boolean, at: number): Record<string, unknown> {
    const inst = this.#o.instruments[instrument]!;
    const c = this.#o.market.candle(inst.symbol, ts, MINUTE);
    const m = inst.multiplier;
    return {
      start: ts,
      end: ts + MINUTE - 1,
      interval: '1',
      open: String(c.open * m),
      close: String(c.close * m),
      high: String(c.high * m),
      low: String(c.low * m),
      volume: String(c.volume / m),
      turnover: String(c.quoteVolume),
      confirm: closed,
      timestamp: at,
    };
  }

  #minute(boundary: number): void {
    const dup = this.duplicateNext;
    this.duplicateNext = false;
    for (const conn of this.server.connections) {
      for (const topic of conn.topics) {
        if (!topic.startsWith('kline.1.')) continue;
        const instrument = topic.slice(8);
        const closed = JSON.stringify({
          topic,
          data: [this.#row(instrument, boundary - MINUTE, true, boundary + 3)],
          ts: boundary + 3,
          type: 'snapshot',
        });
        conn.send(closed);
        if (dup) conn.send(closed);
        conn.send(
          JSON.stringify({
            topic,
            data: [this.#row(instrument, boundary, false, boundary + 900)],
            ts: boundary + 900,
            type: 'snapshot',
          }),
        );
      }
    }
  }

  /** Stops the feeds, closes every connection and the server. */
  async close(): Promise<void> {
    this.#o.clock.clearTimeout(this.#checkTimer);
    await this.server.close();
  }
}
