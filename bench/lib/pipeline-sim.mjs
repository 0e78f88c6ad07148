/**
 * Child process: the Binance, Bybit and OKX simulators of `simulateVenues` (built package) over
 * `--symbols` (BTC, ETH and synthetic assets beyond the static instrument tables), with every rate
 * budget lifted and a fixed clock (`--now`). With `--cache 1` every answer to a GET is kept by URL, so
 * after a warm-up pass serving costs the same for every contender (the market is not recomputed).
 * Prints `{"urls":{venue:baseUrl}}` once listening; any IPC message prints requests per venue and the
 * process's CPU seconds so far.
 */
import { DEFAULT_ASSETS, simulateVenues, startLocalServer } from '../../dist/testing/index.js';

const args = new Map();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const now = Number(args.get('now'));
const symbols = (args.get('symbols') ?? 'BTC').split(',');
const cache = args.get('cache') === '1';
const listedAt = Date.UTC(2019, 0, 1);
const assets = symbols.map(
  (symbol, i) =>
    DEFAULT_ASSETS.find((a) => a.symbol === symbol) ?? { symbol, basePrice: 10 + 7 * i, listedAt },
);
const UNLIMITED = 1e12;
const OKX_PATHS = [
  '/api/v5/market/history-candles',
  '/api/v5/market/candles',
  '/api/v5/public/instruments',
  '/api/v5/public/time',
];
const sim = await simulateVenues({
  now: () => now,
  ws: false,
  assets,
  budgets: {
    binance: { weightLimit: UNLIMITED, bansAfter429s: UNLIMITED },
    bybit: { requestLimit: UNLIMITED },
    okx: { rateLimits: Object.fromEntries(OKX_PATHS.map((p) => [p, UNLIMITED])) },
  },
});
const urls = {};
const servers = [];
for (const venue of ['binance', 'bybit', 'okx']) {
  const handler = sim.handlers[venue];
  const kept = new Map();
  const server = await startLocalServer(async (request, clientId) => {
    if (!cache || request.method !== 'GET') return handler(request, clientId);
    const key = request.url.slice(request.url.indexOf('/', 8));
    const hit = kept.get(key);
    if (hit) return new Response(hit.body, { status: hit.status, headers: hit.headers });
    const response = await handler(request, clientId);
    const body = await response.arrayBuffer();
    const entry = { status: response.status, headers: [...response.headers.entries()], body };
    if (response.ok) kept.set(key, entry);
    return new Response(body, { status: entry.status, headers: entry.headers });
  });
  servers.push(server);
  urls[venue] = server.url;
}
process.stdout.write(`${JSON.stringify({ urls })}\n`);
process.on('message', () => {
  const stats = Object.fromEntries(['binance', 'bybit', 'okx'].map((v) => [v, sim.stats[v].requests]));
  const { user, system } = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ stats, cpuSeconds: (user + system) / 1e6 })}\n`);
});
process.on('SIGTERM', () => {
  void Promise.all(servers.map((s) => s.close()))
    .then(() => sim.close())
    .then(() => process.exit(0));
});
