/**
 * Backfill candles for one symbol and print a summary: count, first and last candle, gaps.
 *
 *   npx tsx examples/backfill.ts --simulate                 # a local simulated Binance, no network
 *   npx tsx examples/backfill.ts --symbol ETH --interval 5m --from 2024-06-01 --to 2024-06-08
 *
 * With `--simulate` the example first starts a local HTTP server built from perpdata/testing's Binance
 * simulator (a synthetic market with a venue-side outage in it, so the gap report has something to
 * show) and points the client at it. Without it, it talks to Binance USDⓈ-M.
 */
import { parseArgs } from 'node:util';
import { BinanceClient } from '../src/clients/index.js';
import { assertInterval, type Candle, intervalMs, toRange } from '../src/core/index.js';
import { findGaps } from '../src/derive/index.js';

const { values } = parseArgs({
  options: {
    simulate: { type: 'boolean', default: false },
    symbol: { type: 'string', default: 'BTC' },
    interval: { type: 'string', default: '1m' },
    from: { type: 'string' },
    to: { type: 'string' },
  },
});

const interval = values.interval;
assertInterval(interval);
const now = Date.now();
const day = 86_400_000;
const { from, to } = toRange(values.from ?? now - 3 * day, values.to ?? now);

let baseUrl: string | undefined;
let stopServer: (() => Promise<void>) | undefined;
if (values.simulate) {
  const { createBinanceSimulator, startLocalServer, SyntheticMarket } = await import(
    '../src/testing/index.js'
  );
  const outage = Math.floor((from + (to - from) / 2) / 3_600_000) * 3_600_000;
  const market = new SyntheticMarket({
    holes: [{ symbol: values.symbol, from: outage, to: outage + 25 * 60_000 }],
  });
  const server = await startLocalServer(createBinanceSimulator(market).handler);
  baseUrl = server.url;
  stopServer = () => server.close();
  console.log(`simulated Binance at ${server.url}`);
}

const binance = new BinanceClient(baseUrl ? { baseUrl } : {});
const started = performance.now();
const timestamps: number[] = [];
let first: Candle | undefined;
let last: Candle | undefined;
try {
  for await (const page of binance.candles({ symbol: values.symbol, interval, from, to })) {
    first ??= page[0];
    last = page.at(-1);
    for (const candle of page) timestamps.push(candle.ts);
  }
} finally {
  await binance.close();
  await stopServer?.();
}

const iso = (ts: number) => new Date(ts).toISOString().replace('.000Z', 'Z');
const show = (c: Candle | undefined) =>
  c ? `${iso(c.ts)} o=${c.open} h=${c.high} l=${c.low} c=${c.close} v=${c.volume}` : '—';
const seconds = (performance.now() - started) / 1000;
console.log(
  `${values.symbol} ${interval} candles in [${iso(from)}, ${iso(to)}): ${timestamps.length} in ${seconds.toFixed(2)} s`,
);
console.log(`first: ${show(first)}`);
console.log(`last:  ${show(last)}`);
// Gaps between the first and the last closed candle (the range may start before listing).
const gaps = first && last ? findGaps(timestamps, interval, first.ts, last.ts + intervalMs(interval)) : [];
console.log(
  gaps.length === 0
    ? 'gaps:  none'
    : `gaps:  ${gaps.map((g) => `[${iso(g.from)}, ${iso(g.to)})`).join(', ')}`,
);
