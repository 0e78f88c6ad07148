/**
 * Child process: a local HTTP server in the Binance klines format. With `--cache` every kline page of
 * the benchmark range is generated before it listens, so serving costs the same for every client.
 * Prints `{"port":N}` on stdout once listening.
 */
import { createBinanceSimulator, SyntheticMarket, startLocalServer } from '../../src/testing/index.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const sim = createBinanceSimulator(new SyntheticMarket(), {
  weightLimit: Number(args.get('weight-limit') ?? 1e12),
  windowMs: Number(args.get('window-ms') ?? 60_000),
  bansAfter429s: 1e9,
});
const cache = new Map<string, { status: number; headers: [string, string][]; body: ArrayBuffer }>();
const server = await startLocalServer(async (request, clientId) => {
  const key = new URL(request.url).search;
  if (args.has('cache') && new URL(request.url).pathname === '/fapi/v1/klines') {
    const hit = cache.get(key);
    if (hit) return new Response(hit.body, { status: hit.status, headers: hit.headers });
    const response = await sim.handler(request, clientId);
    const body = await response.arrayBuffer();
    cache.set(key, { status: response.status, headers: [...response.headers.entries()], body });
    return new Response(body, { status: response.status, headers: response.headers });
  }
  return sim.handler(request, clientId);
});
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
process.on('message', () => {
  process.stdout.write(
    `${JSON.stringify({ stats: { requests: sim.stats.requests, status429: sim.stats.status429, windows: [...(sim.stats.windows.get('127.0.0.1') ?? new Map()).entries()] } })}\n`,
  );
});
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
