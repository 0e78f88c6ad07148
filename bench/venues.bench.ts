/**
 * Backfill throughput per venue: candles/s through `BybitClient`, `OkxClient` and `CoinalyzeClient`
 * against an unthrottled local server in that venue's format, beside the bare-loop ceiling (undici
 * `request` + `JSON.parse`, no validation, no normalisation) over the very same URLs and payloads.
 *
 * The server runs in a child process (this file, started again with `PERPDATA_BENCH_SERVE=<venue>`),
 * so serving does not share the measured event loop; every page is generated once during a warm-up
 * run and then served from a cache, so neither contender pays for generating it. Both contenders run
 * in this process, interleaved, with the same number of requests in flight; each figure is the best
 * of three runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

const here = dirname(fileURLToPath(import.meta.url));
const MIN = 60_000;
const TO = Date.UTC(2024, 4, 1);
const NOW = TO + 3_600_000;
const CONCURRENCY = 4;
const KEY = 'bench-key';
type Venue = 'bybit' | 'okx' | 'coinalyze';
/** Paths whose pages the bare loop replays. */
const DATA_PATH: Record<Venue, string> = {
  bybit: '/v5/market/kline',
  okx: '/api/v5/market/history-candles',
  coinalyze: '/v1/ohlcv-history',
};

// ---------------------------------------------------------------- child: the local venue server
async function serve(venue: Venue): Promise<void> {
  const {
    createBybitSimulator,
    createCoinalyzeSimulator,
    createOkxSimulator,
    startLocalServer,
    SyntheticMarket,
  } = await import('../src/testing/index.js');
  const market = new SyntheticMarket();
  const now = () => NOW;
  let handler: (request: Request, clientId: string) => Response | Promise<Response>;
  if (venue === 'bybit') {
    handler = createBybitSimulator(market, { now, requestLimit: 1e12 }).handler;
  } else if (venue === 'okx') {
    const paths = ['/api/v5/market/history-candles', '/api/v5/public/instruments', '/api/v5/public/time'];
    handler = createOkxSimulator(market, {
      now,
      rateLimits: Object.fromEntries(paths.map((p) => [p, 1e12])),
    }).handler;
  } else {
    handler = createCoinalyzeSimulator(market, { now, apiKeys: [KEY], callLimit: 1e12 }).handler;
  }
  const cache = new Map<string, { status: number; headers: [string, string][]; body: ArrayBuffer }>();
  const urls: string[] = [];
  const server = await startLocalServer(async (req, clientId) => {
    const url = new URL(req.url);
    if (url.pathname !== DATA_PATH[venue]) return handler(req, clientId);
    const key = url.pathname + url.search;
    urls.push(key);
    const hit = cache.get(key);
    if (hit) return new Response(hit.body, { status: hit.status, headers: hit.headers });
    const response = await handler(req, clientId);
    const body = await response.arrayBuffer();
    cache.set(key, { status: response.status, headers: [...response.headers.entries()], body });
    return new Response(body, { status: response.status, headers: response.headers });
  });
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
  process.on('message', (message) => {
    if (message === 'urls') process.send?.({ urls: urls.splice(0) });
  });
  process.on('SIGTERM', () => {
    void server.close().then(() => process.exit(0));
  });
}

// ---------------------------------------------------------------- parent: the measurement
interface Child {
  port: number;
  child: ChildProcess;
  urls(): Promise<string[]>;
}

async function startServer(venue: Venue): Promise<Child> {
  const tsx = join(here, '..', 'node_modules', '.bin', 'tsx');
  const child = spawn(tsx, [fileURLToPath(import.meta.url)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, PERPDATA_BENCH_SERVE: venue },
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split('\n')[0];
      if (buffer.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`${venue} server exited with ${code}`)));
  });
  const urls = () =>
    new Promise<string[]>((resolve) => {
      child.once('message', (m) => resolve((m as { urls: string[] }).urls));
      child.send('urls');
    });
  return { port, child, urls };
}

/** One backfill through the venue's client; returns the number of candles. */
async function throughClient(venue: Venue, base: string): Promise<number> {
  const lifted = { limit: 1e12, intervalMs: MIN };
  let candles = 0;
  if (venue === 'bybit') {
    const { BybitClient } = await import('../src/clients/bybit/rest.js');
    const client = new BybitClient({
      baseUrl: base,
      now: () => NOW,
      rateLimit: lifted,
      concurrency: CONCURRENCY,
    });
    for await (const page of client.candles({
      symbol: 'BTC',
      interval: '1m',
      from: TO - 300_000 * MIN,
      to: TO,
    }))
      candles += page.length;
    await client.close();
  } else if (venue === 'okx') {
    const { OkxClient } = await import('../src/clients/okx/rest.js');
    const client = new OkxClient({
      baseUrl: base,
      now: () => NOW,
      rateLimit: lifted,
      concurrency: CONCURRENCY,
    });
    for await (const page of client.candles({
      symbol: 'BTC',
      interval: '1m',
      from: TO - 150_000 * MIN,
      to: TO,
    }))
      candles += page.length;
    await client.close();
  } else {
    // Intraday history holds ~1,500 buckets, so a Coinalyze backfill is wide (many symbols), not deep.
    const { CoinalyzeClient } = await import('../src/clients/coinalyze/rest.js');
    const client = new CoinalyzeClient({
      apiKey: KEY,
      baseUrl: `${base}/v1`,
      now: () => NOW,
      rateLimit: lifted,
      concurrency: CONCURRENCY,
    });
    const exchanges = ['binance', 'bybit', 'okx'] as const;
    const runs = Array.from({ length: 20 }, (_, i) => exchanges[i % 3]!);
    let next = 0;
    const worker = async () => {
      while (next < runs.length) {
        const exchange = runs[next++]!;
        const pages = client.candlesMany({
          symbols: ['BTC', 'ETH', 'PEPE', 'SHIB'],
          exchange,
          interval: '1m',
          from: NOW - 1500 * MIN,
          to: NOW,
        });
        for await (const page of pages) candles += page.length;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await client.close();
  }
  return candles;
}

/** The same URLs with undici `request` + `JSON.parse`, `CONCURRENCY` in flight; returns rows seen. */
async function bare(venue: Venue, base: string, urls: string[]): Promise<number> {
  let rows = 0;
  let next = 0;
  const headers = venue === 'coinalyze' ? { api_key: KEY } : {};
  const worker = async () => {
    while (next < urls.length) {
      const { body } = await request(`${base}${urls[next++]!}`, { headers });
      const parsed = JSON.parse(await body.text()) as unknown;
      if (venue === 'bybit') rows += (parsed as { result: { list: unknown[] } }).result.list.length;
      else if (venue === 'okx') rows += (parsed as { data: unknown[] }).data.length;
      else for (const s of parsed as { history: unknown[] }[]) rows += s.history.length;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return rows;
}

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function time<T>(task: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await task();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

export default async function (): Promise<void> {
  console.log(
    `1m candle backfill through each client vs the bare loop over the same URLs (local unthrottled server in a child process, ${CONCURRENCY} in flight)`,
  );
  console.log('venue       requests   candles    client candles/s   bare candles/s   ratio client/bare');
  for (const venue of ['bybit', 'okx', 'coinalyze'] as const) {
    const server = await startServer(venue);
    const base = `http://127.0.0.1:${server.port}`;
    try {
      await throughClient(venue, base); // warm-up: fills the server's cache, JIT
      const urls = await server.urls();
      await bare(venue, base, urls); // warm-up of the bare path
      await server.urls();
      // Interleaved runs, best of three each: the figures are ceilings, not averages over a noisy machine.
      let b = { value: 0, seconds: Number.POSITIVE_INFINITY };
      let c = { value: 0, seconds: Number.POSITIVE_INFINITY };
      for (let round = 0; round < 3; round++) {
        const br = await time(() => bare(venue, base, urls));
        const cr = await time(() => throughClient(venue, base));
        await server.urls();
        if (br.seconds < b.seconds) b = br;
        if (cr.seconds < c.seconds) c = cr;
      }
      const clientRate = c.value / c.seconds;
      const bareRate = b.value / b.seconds;
      console.log(
        `${venue.padEnd(10)} ${fmt(urls.length).padStart(9)} ${fmt(c.value).padStart(9)} ${fmt(clientRate).padStart(18)} ${fmt(bareRate).padStart(16)} ${fmt(clientRate / bareRate, 2).padStart(19)}` +
          (c.value === b.value ? '' : `   (bare saw ${fmt(b.value)} rows)`),
      );
    } finally {
      server.child.kill('SIGTERM');
    }
  }
}

const role = process.env.PERPDATA_BENCH_SERVE;
if (role === 'bybit' || role === 'okx' || role === 'coinalyze') await serve(role);
