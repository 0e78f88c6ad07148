/**
 * A minimal HTTP CONNECT proxy on a real local socket. Each proxy can bind its outgoing connections
 * to its own loopback address (127.0.0.2, 127.0.0.3, …) so the venue simulator sees a different client
 * per egress, as a real venue sees different IPs.
 */

import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A running local CONNECT proxy. */
export interface LocalProxy {
  /** `http://127.0.0.1:<port>` (with credentials when the proxy requires them). */
  url: string;
  port: number;
  /** CONNECT tunnels opened so far. */
  tunnels: number;
  /** Closes the proxy and every tunnel through it. */
  close(): Promise<void>;
}

/** Starts a CONNECT proxy on 127.0.0.1 (optionally with Basic auth, optionally binding its egress to `localAddress`). */
// Long by design: a CONNECT proxy is one socket handler (auth, connect, pipe, teardown) whose steps share the two sockets.
export async function startProxy(
  options: { localAddress?: string; auth?: { user: string; pass: string } } = {},
): Promise<LocalProxy> {
  const sockets = new Set<Socket>();
  const state = { tunnels: 0 };
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const [method, target] = (lines[0] ?? '').split(' ');
      const rest = head.subarray(end + 4);
      if (options.auth) {
        const expected = `Basic ${Buffer.from(`${options.auth.user}:${options.auth.pass}`).toString('base64')}`;
        const given = lines
          .find((l) => l.toLowerCase().startsWith('proxy-authorization:'))
          ?.slice(20)
          .trim();
        if (given !== expected) {
          client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n');
          return;
        }
      }
      if (method !== 'CONNECT' || !target) {
        client.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
        return;
      }
      const [host, port] = target.split(':');
      const upstream = connect({
        host: host ?? '127.0.0.1',
        port: Number(port),
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      });
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      upstream.on('connect', () => {
        state.tunnels++;
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (rest.length > 0) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      client.on('close', () => upstream.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const credentials = options.auth ? `${options.auth.user}:${options.auth.pass}@` : '';
  return {
    url: `http://${credentials}127.0.0.1:${port}`,
    port,
    get tunnels() {
      return state.tunnels;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on which nothing listens (a dead proxy): bound, then released. */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
