/**
 * Venue simulators are plain `(request, clientId) => Response` functions so the same code serves MSW
 * (tests that intercept `fetch`) and a real local HTTP server (tests and benchmarks where the socket
 * matters: proxies, resets, rate limits per egress, the example's `--simulate` mode).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HttpHandler, http } from 'msw';

/** Answers one request; `clientId` identifies the egress the request came from (its source address). */
export type VenueHandler = (request: Request, clientId: string) => Response | Promise<Response>;

/** JSON response helper with optional headers. */
export function json(
  body: unknown,
  init: { status?: number; headers?: Record<string, string> } = {},
): Response {
  return new Response(JSON.stringify(body), {
    status: init.status ?? 200,
    headers: { 'content-type': 'application/json', ...init.headers },
  });
}

const RESETS = new WeakSet<Response>();

/**
 * A response that answers nothing: `startLocalServer` destroys the socket instead (a connection
 * reset), and `mswHandlers` turns it into a network error.
 */
export function connectionReset(): Response {
  const response = new Response(null, { status: 599 });
  RESETS.add(response);
  return response;
}

/** Whether `response` came from `connectionReset()`. */
export function isConnectionReset(response: Response): boolean {
  return RESETS.has(response);
}

/** MSW handlers that route every request under `baseUrl` to `handler` (client id `'direct'`). */
export function mswHandlers(baseUrl: string, handler: VenueHandler): HttpHandler[] {
  const root = baseUrl.replace(/\/$/, '');
  return [
    http.all(`${root}/*`, async ({ request }) => {
      const response = await handler(request, 'direct');
      return isConnectionReset(response) ? Response.error() : response;
    }),
  ];
}

/** A venue handler served on a real local socket (see `startLocalServer`). */
export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  server: Server;
  /** Closes the server and its open connections. */
  close(): Promise<void>;
}

/**
 * Serves `handler` on a real local socket. The client id is the remote address, so requests arriving
 * through proxies bound to different loopback addresses (127.0.0.2, 127.0.0.3) count as different egresses.
 */
export async function startLocalServer(
  handler: VenueHandler,
  options: { port?: number } = {},
): Promise<LocalServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      try {
        const url = `http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`;
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
        const response = await handler(
          new Request(url, { method: req.method ?? 'GET', headers }),
          req.socket.remoteAddress ?? '',
        );
        if (isConnectionReset(response)) {
          req.socket.destroy();
          return;
        }
        const body = Buffer.from(await response.arrayBuffer());
        const out: Record<string, string> = { 'content-length': String(body.length) };
        response.headers.forEach((value, key) => {
          out[key] = value;
        });
        res.writeHead(response.status, out);
        res.end(body);
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      }
    })();
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Integer query parameter or `undefined`; `NaN` for a malformed one. */
export function intParam(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  return /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
}

/**
 * A fixed-window budget per client, like Binance's weight per UTC minute: `spend` answers how much of
 * the window is used after the request, or `undefined` when the request does not fit.
 */
export class FixedWindowBudget {
  readonly #used = new Map<string, { window: number; used: number }>();
  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** The current window's start for `now`. */
  windowOf(now: number): number {
    return Math.floor(now / this.windowMs) * this.windowMs;
  }

  /** What `clientId` has spent in the window of `now`. */
  used(clientId: string, now: number): number {
    const entry = this.#used.get(clientId);
    return entry && entry.window === this.windowOf(now) ? entry.used : 0;
  }

  /** Spends `cost` of `clientId`'s window at `now`: the window's total after it, or `undefined` when it does not fit. */
  spend(clientId: string, cost: number, now: number): number | undefined {
    const window = this.windowOf(now);
    const entry = this.#used.get(clientId);
    const used = entry && entry.window === window ? entry.used : 0;
    if (used + cost > this.limit) return undefined;
    this.#used.set(clientId, { window, used: used + cost });
    return used + cost;
  }
}
