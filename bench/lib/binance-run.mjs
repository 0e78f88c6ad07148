/**
 * Child process: one measured backfill. `bare` is the client-side ceiling (undici `request` +
 * `JSON.parse`, no validation, no normalisation); `bare-fetch` is the same loop over Node's global
 * `fetch` with an undici dispatcher (the default engine's own cost); `client` and `client-undici` go
 * through `BinanceClient.candles` with `http: 'fetch'` and `http: 'undici'`.
 * Prints one JSON line: candles, seconds, CPU seconds, peak RSS.
 */
import { Agent, request } from 'undici';
// The built package, as users run it (tsx's own loader would add ~40 MB to every RSS figure).
import { BinanceClient } from '../../dist/index.js';

const [
  mode = 'client',
  concurrencyArg = '1',
  port = '0',
  candlesArg = '500000',
  limitArg = '',
  windowArg = '',
] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const total = Number(candlesArg);
const base = `http://127.0.0.1:${port}`;
const MIN = 60_000;
const FROM = Date.UTC(2020, 0, 1);
const TO = FROM + total * MIN;
const PAGE = 499;

let peak = 0;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 5);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let candles = 0;

if (mode === 'bare' || mode === 'bare-fetch') {
  const dispatcher = mode === 'bare-fetch' ? new Agent() : undefined;
  const starts = [];
  for (let s = FROM; s < TO; s += PAGE * MIN) starts.push(s);
  let next = 0;
  const worker = async () => {
    while (next < starts.length) {
      const start = starts[next++];
      const end = Math.min(TO, start + PAGE * MIN);
      const url = `${base}/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=${start}&endTime=${end - 1}&limit=${PAGE}`;
      const rows = dispatcher
        ? JSON.parse(await (await fetch(url, { dispatcher })).text())
        : JSON.parse(await (await request(url)).body.text());
      candles += rows.length;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await dispatcher?.close();
} else {
  const rateLimit = limitArg
    ? { limit: Number(limitArg), intervalMs: Number(windowArg) }
    : { limit: 1e12, intervalMs: MIN };
  const client = new BinanceClient({
    baseUrl: base,
    concurrency,
    rateLimit,
    now: () => TO + 3_600_000,
    http: mode === 'client-undici' ? 'undici' : 'fetch',
  });
  let pages = 0;
  const live = [];
  for await (const page of client.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: TO })) {
    candles += page.length;
    // With --expose-gc: the live heap every 200 pages, to show that memory does not grow with the range.
    if (globalThis.gc && ++pages % 200 === 0) {
      globalThis.gc();
      live.push(Math.round(process.memoryUsage().heapUsed / 2 ** 20));
    }
  }
  if (live.length > 0) process.stderr.write(`${JSON.stringify({ liveHeapMbEvery200Pages: live })}\n`);
  await client.close();
}
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage.rss());
process.stdout.write(
  `${JSON.stringify({ candles, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMb: peak / 2 ** 20 })}\n`,
);
