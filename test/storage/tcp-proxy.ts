/**
 * A TCP proxy between a pg pool and the server, for making the database "go away" inside a test: stop it
 * (the server seems down, live connections die), start it again on the same port, or cut one connection
 * right around its COMMIT.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** What to do with the next COMMIT a client sends. */
export type CommitTrap =
  /** Drop the connection without forwarding COMMIT: the server rolls back. */
  | 'drop-before'
  /** Forward COMMIT, swallow the server's answer and drop the connection: committed, client never hears. */
  | 'drop-after'
  /** As `drop-after`, then stop the whole proxy: the outcome cannot be checked. */
  | 'stop-after';

/** Simple-query message of `COMMIT` as pg sends it: `Q`, length, text, NUL. */
const COMMIT = Buffer.from('COMMIT\u0000');

export class TcpProxy {
  readonly #target: { host: string; port: number };
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #trap: CommitTrap | undefined;
  /** Port the proxy listens on (stays the same across stop/start). */
  port = 0;
  /** How many traps fired. */
  sprung = 0;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  /** Arms a trap for the next COMMIT on any connection. */
  trapNextCommit(trap: CommitTrap): void {
    this.#trap = trap;
  }

  /** Listens on 127.0.0.1 (a random port the first time, the same port afterwards). */
  async start(): Promise<number> {
    const server = createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    const address = server.address();
    if (address && typeof address === 'object') this.port = address.port;
    return this.port;
  }

  /** Stops listening and destroys every live connection, as a server going down would. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    const upstream = tcpConnect(this.#target.port, this.#target.host);
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    let swallowNextAnswer: CommitTrap | undefined;
    client.on('data', (chunk: Buffer) => {
      const trap = this.#trap;
      if (trap && chunk.includes(COMMIT)) {
        this.#trap = undefined;
        this.sprung++;
        if (trap === 'drop-before') {
          drop();
          return;
        }
        swallowNextAnswer = trap;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (swallowNextAnswer) {
        const trap = swallowNextAnswer;
        swallowNextAnswer = undefined;
        drop();
        if (trap === 'stop-after') void this.stop();
        return;
      }
      client.write(chunk);
    });
  }
}
