/**
 * Derivations on a million elements, in this process: each line is the median of several runs after a
 * warm-up, with the time per element. The `technicalindicators` line is the dev-only reference RSI on
 * the same closes, for scale.
 */
import { availableParallelism, loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { rsi as referenceRsi } from 'technicalindicators';
import type { Candle, FundingRate, OpenInterest, TakerVolume } from '../src/core/types.js';
import {
  createRsi,
  distributeByVolume,
  expandTo1m,
  findGaps,
  marketAverage,
  rsi,
  rsiFromCandles,
} from '../src/derive/index.js';

const T0 = Date.UTC(2024, 0, 1);
const MINUTE = 60_000;
const N = 1_000_000;
const SYMBOLS = 100;
const STEPS = 10_000;

/** Deterministic PRNG (mulberry32) so every run measures the same data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function walk(n: number, seed: number, start = 100): Float64Array {
  const rand = prng(seed);
  const out = new Float64Array(n);
  let price = start;
  for (let i = 0; i < n; i++) {
    price *= 1 + (rand() - 0.5) * 0.004;
    out[i] = price;
  }
  return out;
}

function candles(symbol: string, n: number, seed: number, start = 100): Candle[] {
  const closes = walk(n, seed, start);
  const rand = prng(seed + 1);
  const out: Candle[] = new Array<Candle>(n);
  for (let i = 0; i < n; i++) {
    const close = closes[i] as number;
    const volume = 1 + rand() * 100;
    out[i] = {
      source: 'binance',
      exchange: 'binance',
      symbol,
      ts: T0 + i * MINUTE,
      interval: '1m',
      open: close * 0.999,
      high: close * 1.002,
      low: close * 0.997,
      close,
      volume,
      quoteVolume: volume * close,
    };
  }
  return out;
}

interface Line {
  name: string;
  elements: number;
  unit: string;
  /** Median wall time. */
  ms: number;
  /** Median CPU time of the process (all its threads, so GC helpers count). */
  cpuMs: number;
}

interface Timing {
  ms: number;
  cpuMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

setFlagsFromString('--expose-gc');
/** A full collection between runs, so no run pays for the garbage of the one before. */
const collect = runInNewContext('gc') as () => void;

/** Size of a result, so that it is used and nothing is optimised away. */
function sizeOf(result: unknown): number {
  if (Array.isArray(result)) return result.length;
  if (result !== null && typeof result === 'object' && 'volumes' in result) {
    return (result.volumes as unknown[]).length;
  }
  return typeof result === 'number' ? 1 : 0;
}

/** Median wall and CPU time of `runs` calls after one warm-up call, with a full GC before each. */
function time(runs: number, body: () => unknown): Timing {
  let sink = sizeOf(body());
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    collect();
    const startCpu = process.cpuUsage();
    const start = performance.now();
    const result = body();
    wall.push(performance.now() - start);
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / 1000);
    sink += sizeOf(result);
  }
  if (sink < 0) console.log(sink);
  return { ms: median(wall), cpuMs: median(cpu) };
}

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export default async function (): Promise<void> {
  const lines: Line[] = [];
  const add = (name: string, elements: number, unit: string, t: Timing) =>
    lines.push({ name, elements, unit, ...t });

  // RSI over 1,000,000 closes: batch, incremental, from candles, and the reference implementation.
  const closes = walk(N, 1);
  const closeArray = Array.from(closes);
  add(
    'rsi(closes, 14)',
    N,
    'close',
    time(7, () => rsi(closes, 14)),
  );
  add(
    'createRsi(14).next() per close',
    N,
    'close',
    time(7, () => {
      const live = createRsi(14);
      let last: number | undefined;
      for (let i = 0; i < closes.length; i++) last = live.next(closes[i] as number);
      return last;
    }),
  );
  const btc = candles('BTC', N, 2);
  add(
    'rsiFromCandles(candles, 14)',
    N,
    'candle',
    time(5, () => rsiFromCandles(btc, 14)),
  );
  add(
    'reference: technicalindicators RSI',
    N,
    'close',
    time(3, () => referenceRsi({ period: 14, values: closeArray })),
  );

  // Distribution of 200,000 5m taker buckets over 1,000,000 1m candles.
  const rand = prng(3);
  const takers: TakerVolume[] = [];
  for (let k = 0; k < N / 5; k++) {
    takers.push({
      source: 'binance',
      exchange: 'binance',
      symbol: 'BTC',
      ts: T0 + k * 5 * MINUTE,
      interval: '5m',
      buyVolume: rand() * 500,
      sellVolume: rand() * 500,
    });
  }
  add(
    'distributeByVolume(5m taker, 1m candles)',
    N,
    'candle',
    time(5, () => distributeByVolume(takers, btc)),
  );

  // Expansion of 200,000 5m open-interest rows into 1,000,000 1m rows.
  const oi: OpenInterest[] = takers.map((t, k) => ({
    source: 'binance',
    exchange: 'binance',
    symbol: 'BTC',
    ts: t.ts,
    interval: '5m',
    openInterest: 1000 + k,
  }));
  add(
    "expandTo1m(5m OI, align 'close')",
    N,
    'output row',
    time(5, () => expandTo1m(oi, { align: 'close' })),
  );

  // Gap finding over 1,000,000 timestamps with 1 % missing, sorted and shuffled.
  const stamps = new Float64Array(N);
  let m = 0;
  const holes = prng(4);
  for (let i = 0; i < N; i++) if (holes() >= 0.01) stamps[m++] = T0 + i * MINUTE;
  const present = stamps.slice(0, m);
  const shuffled = present.slice();
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(holes() * (i + 1));
    const tmp = shuffled[i] as number;
    shuffled[i] = shuffled[j] as number;
    shuffled[j] = tmp;
  }
  const end = T0 + N * MINUTE;
  add(
    'findGaps (sorted input)',
    m,
    'timestamp',
    time(5, () => findGaps(present, '1m', T0, end)),
  );
  add(
    'findGaps (shuffled input)',
    m,
    'timestamp',
    time(5, () => findGaps(shuffled, '1m', T0, end)),
  );

  // MT over 100 symbols x 10,000 timestamps; every 10th symbol lists half-way through.
  const bySymbol: Record<string, Candle[]> = {};
  const fundingBySymbol: Record<string, FundingRate[]> = {};
  for (let s = 0; s < SYMBOLS; s++) {
    const symbol = `S${s}`;
    const series = candles(symbol, STEPS, 100 + s, 10 ** ((s % 9) - 4));
    bySymbol[symbol] = s % 10 === 9 ? series.slice(STEPS / 2) : series;
    fundingBySymbol[symbol] = series.map((c, i) => ({
      source: 'binance',
      exchange: 'binance',
      symbol,
      ts: c.ts,
      rate: ((i % 7) - 3) * 1e-5,
    }));
  }
  const cells = SYMBOLS * STEPS;
  add(
    'marketAverage candles (100 x 10,000)',
    cells,
    'member value',
    time(5, () => marketAverage(bySymbol, { kind: 'candles', minShare: 0 })),
  );
  add(
    'marketAverage funding (100 x 10,000)',
    cells,
    'member value',
    time(5, () => marketAverage(fundingBySymbol, { kind: 'funding' })),
  );

  console.log(`Node ${process.version}, ${availableParallelism()} CPUs, load ${loadavg()[0]?.toFixed(1)}`);
  console.log(
    'Median of 3-7 runs after a warm-up, full GC before each run; CPU = process CPU time (all threads).',
  );
  const width = Math.max(...lines.map((l) => l.name.length));
  console.log(
    `${'derivation'.padEnd(width)}   ${'elements'.padStart(9)}   ${'wall ms'.padStart(8)}   ${'ns/elem'.padStart(7)}   ${'CPU ms'.padStart(8)}   CPU ns/element`,
  );
  for (const line of lines) {
    const ns = (line.ms * 1e6) / line.elements;
    const cpuNs = (line.cpuMs * 1e6) / line.elements;
    console.log(
      `${line.name.padEnd(width)}   ${fmt(line.elements).padStart(9)}   ${fmt(line.ms, 1).padStart(8)}   ${fmt(ns, 1).padStart(7)}   ${fmt(line.cpuMs, 1).padStart(8)}   ${fmt(cpuNs, 1).padStart(7)} per ${line.unit}`,
    );
  }
}
