/**
 * A local WebSocket server (the `ws` package) with the faults the live layer must survive: refused
 * upgrades, dropped connections, a stall (open socket, nothing sent), and a minute ticker on a
 * scaled clock. Venue servers build on it and speak their protocol (reference §1.5, §2.4, §3.4).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { WsClock } from '../../clients/ws/clock.js';

/** One client connection as the server sees it. */
export class ServerConnection {
  readonly socket: WebSocket;
  readonly path: string;
  readonly topics = new Set<string>();
  /** Arrival times (clock ms) of incoming messages, for rate limits. */
  readonly received: number[] = [];
  #server: LocalWsServer;

  constructor(server: LocalWsServer, socket: WebSocket, path: string) {
    this.#server = server;
    this.socket = socket;
    this.path = path;
  }

  /** Sends a text frame unless the server is stalled. */
  send(text: string): void {
    if (this.#server.stalled || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(text);
  }
}

/** Counters of a server. */
export interface ServerStats {
  upgrades: number;
  refused: number;
  /** Largest number of topics one connection held. */
  maxTopicsPerConnection: number;
  /** Most connections open at once. */
  maxConnections: number;
  /** Messages the clients sent. */
  messages: number;
}

/** Options of a local server. */
export interface LocalWsServerOptions {
  readonly clock: WsClock;
  /** Paths that accept upgrades, e.g. `/market/ws`. */
  readonly paths: readonly string[];
  /** Handles one incoming text message. */
  onMessage(conn: ServerConnection, text: string): void;
  /** Called at every interval boundary of `tickMs` (clock ms), e.g. each minute. */
  onTick?(boundary: number): void;
  readonly tickMs?: number;
  /** Called for each connection as it opens. */
  onConnection?(conn: ServerConnection): void;
}

/** See the module doc. */
export class LocalWsServer {
  readonly stats: ServerStats = {
    upgrades: 0,
    refused: 0,
    maxTopicsPerConnection: 0,
    maxConnections: 0,
    messages: 0,
  };
  readonly connections = new Set<ServerConnection>();
  /** While true the server sends nothing (the sockets stay open). */
  stalled = false;
  #refuse = 0;
  #downUntil = 0;
  #http!: Server;
  #wss!: WebSocketServer;
  #timer: unknown;
  #lastTick = Number.NEGATIVE_INFINITY;
  #closed = false;
  url = '';
  readonly #o: LocalWsServerOptions;

  constructor(options: LocalWsServerOptions) {
    this.#o = options;
  }

  /** Listens on a free port of 127.0.0.1; resolves once it accepts connections. */
  async start(): Promise<this> {
    this.#wss = new WebSocketServer({ noServer: true });
    this.#http = createServer((_req, res) => {
      res.writeHead(404).end();
    });
    this.#http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#upgrade(req, socket, head),
    );
    await new Promise<void>((resolve) => this.#http.listen(0, '127.0.0.1', resolve));
    this.url = `ws://127.0.0.1:${(this.#http.address() as AddressInfo).port}`;
    if (this.#o.onTick && this.#o.tickMs) this.#schedule();
    return this;
  }

  #schedule(): void {
    const { clock } = this.#o;
    const step = this.#o.tickMs!;
    const now = clock.now();
    // Timers may fire a little early on a scaled clock: never tick the same boundary twice.
    const next = Math.max(Math.floor(now / step) * step + step, this.#lastTick + step);
    this.#timer = clock.setTimeout(
      () => {
        if (this.#closed) return;
        this.#lastTick = next;
        this.#o.onTick?.(next);
        this.#schedule();
      },
      next - now + 1,
    );
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!this.#o.paths.includes(path)) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (this.#refuse > 0 || this.#o.clock.now() < this.#downUntil) {
      if (this.#refuse > 0) this.#refuse--;
      this.stats.refused++;
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.stats.upgrades++;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new ServerConnection(this, ws, path);
      this.connections.add(conn);
      this.stats.maxConnections = Math.max(this.stats.maxConnections, this.connections.size);
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        this.stats.messages++;
        conn.received.push(this.#o.clock.now());
        this.#o.onMessage(conn, String(data));
        this.stats.maxTopicsPerConnection = Math.max(this.stats.maxTopicsPerConnection, conn.topics.size);
      });
      ws.on('close', () => this.connections.delete(conn));
      ws.on('error', () => undefined);
      this.#o.onConnection?.(conn);
    });
  }

  /** Refuses the next `n` upgrade attempts with HTTP 503. */
  refuseNext(n: number): void {
    this.#refuse = n;
  }

  /** Refuses every upgrade until clock time `until`. */
  downUntil(until: number): void {
    this.#downUntil = until;
  }

  /** Drops every connection without a closing handshake (a reset). */
  dropAll(): void {
    for (const c of this.connections) c.socket.terminate();
  }

  /** Topics subscribed on any connection. */
  topics(): Set<string> {
    const out = new Set<string>();
    for (const c of this.connections) for (const t of c.topics) out.add(t);
    return out;
  }

  /** Closes every connection and the server. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#o.clock.clearTimeout(this.#timer);
    for (const c of this.connections) c.socket.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }
}
