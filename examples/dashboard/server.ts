/**
 * The dashboard's HTTP server (node:http, no framework): a JSON API over any `PostgresStorage`
 * database and the one static page that reads it.
 *
 *   GET /health                  database up, which tables exist, schema version
 *   GET /api/series[?kind=K]     every series: rows, first and last ts, ledger intervals, holes, lag
 *   GET /api/data/:kind?exchange=&symbol=&interval=&variant=&source=&from=&to=&cursor=&limit=&order=
 *                                one page of one series (keyset pagination: `next.cursor` goes on)
 *   GET /api/status[?job=&limit=]  status rows (most recently updated first), counts, recent errors
 *   GET /                        the page (index.html, app.js, style.css, the chart library)
 *
 * Only GET and HEAD; parameters are checked with zod (params.ts): a bad one is a 400 naming it.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import {
  BadRequest,
  parseDataRequest,
  parseNoParams,
  parseSeriesRequest,
  parseStatusRequest,
} from './params.js';
import { DashboardQueries, type Queryable, type SeriesSummary } from './queries.js';

export interface DashboardOptions {
  /** The database: a `pg.Pool` / `pg.Client` (ideally as the read-only role of the README) or PGlite. */
  readonly db: Queryable;
  /** Schema of the tables. @default 'public' */
  readonly schema?: string;
  /** Table prefix, as given to `PostgresStorage`. @default 'perp_' */
  readonly tablePrefix?: string;
  /** The clock lag is measured against (the simulated clock with `--simulate`). @default Date.now */
  readonly now?: () => number;
  /** How long `/api/series` reuses its last answer (it counts every table's rows). @default 2000 */
  readonly seriesCacheMs?: number;
  /** Shown by `/health` and the page's status box, e.g. `{ mode: 'simulated' }`. */
  readonly info?: Readonly<Record<string, string | number | boolean>>;
}

/** A running dashboard. */
export interface Dashboard {
  readonly server: Server;
  /** `http://host:port/` */
  readonly url: string;
  close(): Promise<void>;
}

const HERE = import.meta.dirname;

/** The static files, by path: file and content type. Nothing outside this map is served. */
const STATIC: Readonly<Record<string, { file: () => string; type: string }>> = {
  '/': { file: () => join(HERE, 'public', 'index.html'), type: 'text/html; charset=utf-8' },
  '/index.html': { file: () => join(HERE, 'public', 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: () => join(HERE, 'public', 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: () => join(HERE, 'public', 'style.css'), type: 'text/css; charset=utf-8' },
  // The chart library's standalone ES module, straight from node_modules (no build step).
  '/vendor/lightweight-charts.mjs': {
    file: () =>
      join(
        dirname(createRequire(import.meta.url).resolve('lightweight-charts/package.json')),
        'dist',
        'lightweight-charts.standalone.production.mjs',
      ),
    type: 'text/javascript; charset=utf-8',
  },
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function send(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(head ? undefined : text);
}

/** The request handler of a dashboard over `options.db` (what `startDashboard` serves). */
export function dashboardHandler(
  options: DashboardOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const queries = new DashboardQueries(
    options.db,
    options.schema ?? 'public',
    options.tablePrefix ?? 'perp_',
  );
  const now = options.now ?? Date.now;
  const cacheMs = options.seriesCacheMs ?? 2_000;
  const info = options.info ?? {};
  let cached: { at: number; now: number; series: SeriesSummary[] } | undefined;
  let pending: Promise<{ now: number; series: SeriesSummary[] }> | undefined;
  const files = new Map<string, Buffer>();

  /** Every series, from the cache when it is fresh; concurrent requests share one read. */
  async function allSeries(): Promise<{ now: number; series: SeriesSummary[] }> {
    if (cached && Date.now() - cached.at < cacheMs) return cached;
    pending ??= (async () => {
      try {
        const t = now();
        const series = await queries.series(t);
        cached = { at: Date.now(), now: t, series };
        return cached;
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  }

  async function api(path: string, params: URLSearchParams): Promise<{ status: number; body: unknown }> {
    if (path === '/health') {
      parseNoParams(params);
      try {
        const { tables, version } = await queries.health();
        const missing = Object.entries(tables)
          .filter(([, present]) => !present)
          .map(([name]) => name);
        return {
          status: 200,
          body: {
            ok: missing.length === 0,
            database: 'up',
            schema: queries.schema,
            tablePrefix: queries.prefix,
            schemaVersion: version,
            tables,
            ...(missing.length > 0
              ? { message: `missing tables in schema ${queries.schema}: ${missing.join(', ')}` }
              : {}),
            now: now(),
            ...info,
          },
        };
      } catch (error) {
        return {
          status: 503,
          body: { ok: false, database: 'down', message: (error as Error).message, now: now(), ...info },
        };
      }
    }
    if (path === '/api/series') {
      const { kind } = parseSeriesRequest(params);
      const { now: at, series } = await allSeries();
      return {
        status: 200,
        body: { now: at, series: kind ? series.filter((s) => s.kind === kind) : series },
      };
    }
    if (path === '/api/status') {
      const { job, limit } = parseStatusRequest(params);
      const [{ rows, jobs, counts }, errors] = await Promise.all([
        queries.status(job, limit),
        queries.errors(job, limit),
      ]);
      return {
        status: 200,
        body: {
          now: now(),
          ...info,
          schema: queries.schema,
          counts,
          jobs,
          status: rows,
          errors,
        },
      };
    }
    const data = /^\/api\/data\/([^/]+)$/.exec(path);
    if (data) {
      const r = parseDataRequest(decodeURIComponent(data[1] as string), params);
      const page = await queries.page(r.id, r);
      const last = page.rows.at(-1)?.ts as number | undefined;
      const next = page.more && last !== undefined ? { cursor: last } : null;
      let nextUrl: string | null = null;
      if (next) {
        const q = new URLSearchParams(params);
        q.set('cursor', String(next.cursor));
        nextUrl = `${path}?${q}`;
      }
      return {
        status: 200,
        body: {
          kind: r.id.kind,
          series: r.id,
          from: r.from,
          to: r.to,
          cursor: r.cursor ?? null,
          order: r.order,
          limit: r.limit,
          total: page.total,
          rows: page.rows,
          next,
          nextUrl,
        },
      };
    }
    return { status: 404, body: { error: 'not found', message: `no route ${path}` } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, { error: 'method not allowed', message: 'only GET and HEAD' }, false);
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    } catch {
      send(res, 400, { error: 'bad request', message: 'malformed URL', issues: [] }, head);
      return;
    }
    const path = url.pathname;
    const file = STATIC[path];
    if (file) {
      let body = files.get(path);
      if (!body) {
        try {
          body = await readFile(file.file());
        } catch (error) {
          send(res, 500, { error: 'not available', message: (error as Error).message }, head);
          return;
        }
        files.set(path, body);
      }
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': file.type,
        'content-length': body.length,
        'cache-control': 'no-cache',
        ...(file.type.startsWith('text/html') ? { 'content-security-policy': PAGE_CSP } : {}),
      });
      res.end(head ? undefined : body);
      return;
    }
    if (path !== '/health' && !path.startsWith('/api/')) {
      send(res, 404, { error: 'not found', message: `no page ${path}` }, head);
      return;
    }
    try {
      const { status, body } = await api(path, url.searchParams);
      send(res, status, body, head);
    } catch (error) {
      if (error instanceof BadRequest) {
        send(res, 400, { error: 'bad request', message: error.message, issues: error.issues }, head);
        return;
      }
      if (error instanceof URIError) {
        send(res, 400, { error: 'bad request', message: 'malformed path', issues: [] }, head);
        return;
      }
      send(res, 500, { error: 'database error', message: (error as Error).message }, head);
    }
  }

  return (req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) send(res, 500, { error: 'internal error', message: String(error) }, false);
      else res.destroy();
    });
  };
}

/** Serves a dashboard on `host:port` (port 0: any free one) and resolves once it listens. */
export async function startDashboard(
  options: DashboardOptions & { readonly port?: number; readonly host?: string },
): Promise<Dashboard> {
  const server = createServer(dashboardHandler(options));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    server,
    url: `http://${shown}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
