/**
 * Live candles at scale: a local Binance-protocol server (its own process, so the CPU figures are the
 * client's) pushes the closed 1m candles of 1,000 symbols at once every simulated minute (plus one
 * open-candle update each), and `BinanceStreams.candles` consumes them through the full stack (undici
 * WebSocket, zod, sequencer, bounded buffer). Prints push → consumer delay (p50/p99 over every candle),
 * client CPU per 1,000 candles, and RSS after 1 and after 30 simulated minutes.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BinanceStreams } from '../src/clients/binance/ws.js';
import type { WsClock } from '../src/clients/ws/clock.js';
import type { Candle } from '../src/core/types.js';
import { SymbolRegistry } from '../src/normalize/symbols.js';

const SYMBOLS = 1_000;
const MINUTES = 30;
const MINUTE = 60_000;
/** One simulated minute lasts this many real ms. */
const REAL_MINUTE_MS = 400;
const SPEED = MINUTE / REAL_MINUTE_MS;
const EPOCH = Date.UTC(2024, 5, 1, 0, 0, 50);

const here = dirname(fileURLToPath(import.meta.url));
const nowAbs = (): number => performance.timeOrigin + performance.now();

/** A full garbage collection, so RSS and heap figures are not GC timing noise. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** A scaled clock both processes agree on: clock time = EPOCH + (real − realStart) × SPEED. */
function sharedClock(realStart: number): WsClock {
  return {
    now: () => Math.floor(EPOCH + (nowAbs() - realStart) * SPEED),
    setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms / SPEED)),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };
}

const instrumentsOf = () =>
  Array.from({ length: SYMBOLS }, (_, i) => ({
    symbol: `C${i}`,
    instrument: `C${i}USDT`,
    basePrice: 10 + i,
  }));

/** Child process: the server. Reports each minute's push start (absolute ms) over IPC. */
async function serve(realStart: number): Promise<void> {
  const { BinanceWsServer, SyntheticMarket } = await import('../src/testing/index.js');
  const list = instrumentsOf();
  const market = new SyntheticMarket({
    assets: list.map((a) => ({ symbol: a.symbol, basePrice: a.basePrice, listedAt: 0 })),
  });
  const clock = sharedClock(realStart);
  const tickClock: WsClock = {
    ...clock,
    setTimeout: (fn, ms) =>
      clock.setTimeout(() => {
        const boundary = Math.round(clock.now() / MINUTE) * MINUTE;
        const start = nowAbs();
        fn();
        process.send?.({ pushAt: start, ts: boundary - MINUTE, roundMs: nowAbs() - start });
      }, ms),
  };
  const server = await new BinanceWsServer({
    clock: tickClock,
    market,
    instruments: Object.fromEntries(list.map((a) => [a.instrument, { symbol: a.symbol, multiplier: 1 }])),
  }).start();
  process.send?.({ url: server.url });
  process.on('message', async () => {
    await server.close();
    process.exit(0);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export default async function (): Promise<void> {
  const realStart = nowAbs();
  const tsx = join(here, '..', 'node_modules', '.bin', 'tsx');
  const child = spawn(tsx, [fileURLToPath(import.meta.url)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, PERPDATA_WS_BENCH_SERVER: String(realStart) },
  });
  const pushAt = new Map<number, number>();
  const serverRoundMs: number[] = [];
  const url = await new Promise<string>((resolve) => {
    child.on('message', (m: { url?: string; pushAt?: number; ts?: number; roundMs?: number }) => {
      if (m.url) resolve(m.url);
      if (m.roundMs !== undefined) serverRoundMs.push(m.roundMs);
      // The ticker fires once per boundary; the first push of a minute is what the delay counts from.
      if (m.pushAt !== undefined && m.ts !== undefined && !pushAt.has(m.ts)) pushAt.set(m.ts, m.pushAt);
    });
  });

  const list = instrumentsOf();
  const streams = new BinanceStreams({
    wsUrl: url,
    registry: new SymbolRegistry(
      list.map((a) => ({
        exchange: 'binance',
        instrument: a.instrument,
        symbol: a.symbol,
        quote: 'USDT',
        multiplier: 1,
      })),
    ),
  });
  const clock = sharedClock(realStart);
  const stream = streams.candles({
    symbols: list.map((a) => a.symbol),
    interval: '1m',
    clock,
    stallGraceMs: 20_000,
    backoff: { initialMs: 1_000, maxMs: 5_000, stableMs: 5 * MINUTE },
  });
  let reconnects = 0;
  stream.on('reconnecting', () => reconnects++);

  const delays: number[] = [];
  const perMinute = new Map<number, number>();
  const rss: Record<number, number> = {};
  const heap: Record<number, number> = {};
  let candles = 0;
  let completed = 0;
  let cpuStart: NodeJS.CpuUsage | undefined;
  let cpuCandles = 0;
  for await (const c of stream as AsyncIterable<Candle>) {
    const at = nowAbs();
    candles++;
    const start = pushAt.get(c.ts);
    if (start !== undefined) delays.push(at - start);
    if (cpuStart) cpuCandles++;
    const n = (perMinute.get(c.ts) ?? 0) + 1;
    perMinute.set(c.ts, n);
    if (n < SYMBOLS) continue;
    perMinute.delete(c.ts);
    // Minutes are counted as they complete (the first, partly subscribed minute does not count).
    const minute = ++completed;
    if (minute === 1 || minute === 10 || minute === MINUTES) {
      collectGarbage();
      rss[minute] = process.memoryUsage().rss;
      heap[minute] = process.memoryUsage().heapUsed;
    }
    // CPU is counted from the end of minute 1 (after start-up and JIT warm-up) to the end of the run.
    if (minute === 1) cpuStart = process.cpuUsage();
    if (minute >= MINUTES) break;
  }
  const cpu = process.cpuUsage(cpuStart);
  child.send('stop');
  await new Promise((resolve) => child.once('exit', resolve));

  delays.sort((a, b) => a - b);
  serverRoundMs.sort((a, b) => a - b);
  const mb = (n: number | undefined) => (n === undefined ? '?' : (n / 1_048_576).toFixed(1));
  const cpuMsPer1000 = ((cpu.user + cpu.system) / 1000 / cpuCandles) * 1000;
  console.log(
    `symbols ${SYMBOLS}, simulated minutes ${MINUTES} (1 minute = ${REAL_MINUTE_MS} ms real), candles ${candles}, reconnects ${reconnects}`,
  );
  console.table([
    {
      'push→consumer p50 (ms)': percentile(delays, 50).toFixed(2),
      'p99 (ms)': percentile(delays, 99).toFixed(2),
      'server send of 1,000 (ms, p50)': percentile(serverRoundMs, 50).toFixed(1),
      'client CPU / 1,000 candles (ms)': cpuMsPer1000.toFixed(1),
      'RSS @1 / @10 / @30 min (MB)': `${mb(rss[1])} / ${mb(rss[10])} / ${mb(rss[MINUTES])}`,
      'heap @1 / @10 / @30 (MB)': `${mb(heap[1])} / ${mb(heap[10])} / ${mb(heap[MINUTES])}`,
    },
  ]);
}

if (process.env.PERPDATA_WS_BENCH_SERVER) void serve(Number(process.env.PERPDATA_WS_BENCH_SERVER));
