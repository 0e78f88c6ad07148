/**
 * Binance backfill throughput: `BinanceClient.candles` against the bare-loop ceiling (undici `request`
 * + `JSON.parse`) on the same local server, side by side, each run in its own process so CPU and peak
 * RSS are its own. Then the budget use of a rate-limited backfill (240 weight per 6 s windows).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = join(here, '..', 'node_modules', '.bin', 'tsx');
const run = promisify(execFile);

interface Result {
  candles: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
}

async function startServer(
  args: string[],
): Promise<{ port: number; child: ChildProcess; next: () => Promise<string> }> {
  const child = spawn(tsx, [join(here, 'lib', 'binance-server.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let i = buffer.indexOf('\n');
    while (i >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
      i = buffer.indexOf('\n');
    }
  });
  const next = () =>
    new Promise<string>((resolve) => (lines.length > 0 ? resolve(lines.shift()!) : waiters.push(resolve)));
  const { port } = JSON.parse(await next()) as { port: number };
  return { port, child, next };
}

async function measure(
  mode: RangeMode,
  concurrency: number,
  port: number,
  candles: number,
  extra: string[] = [],
  nodeFlags: string[] = [],
): Promise<Result & { stdout: string }> {
  const { stdout } = await run(
    process.execPath,
    [
      ...nodeFlags,
      join(here, 'lib', 'binance-run.mjs'),
      mode,
      String(concurrency),
      String(port),
      String(candles),
      ...extra,
    ],
    {
      maxBuffer: 1 << 20,
    },
  );
  return { ...(JSON.parse(stdout.trim().split('\n').at(-1)!) as Result), stdout };
}

/**
 * What each request leaves for the old generation: the growth of the heap across young-generation
 * collections (V8's `--trace-gc` lines), summed and divided by the requests made. This is the garbage
 * that outlived a young collection and waits for a full one; the more of it, the further V8 lets the
 * old generation grow.
 */
async function promotedKbPerRequest(mode: RangeMode, port: number, candles: number): Promise<number> {
  const { stdout } = await measure(mode, 4, port, candles, [], ['--trace-gc']);
  let previous: number | undefined;
  let grown = 0;
  for (const line of stdout.split('\n')) {
    const m = /(Scavenge|Mark-Compact)\b.*? ([\d.]+) \([\d.]+\) -> ([\d.]+) \(/.exec(line);
    if (!m) continue;
    const after = Number(m[3]);
    if (m[1] === 'Scavenge' && previous !== undefined) grown += after - previous;
    previous = after;
  }
  return (grown * 1024) / Math.ceil(candles / 499);
}

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const MODES = ['bare', 'client', 'client-undici'] as const;
const LABELS: Record<(typeof MODES)[number], string> = {
  bare: 'bare undici request+JSON.parse',
  client: "BinanceClient (http: 'fetch')",
  'client-undici': "BinanceClient (http: 'undici')",
};
const RANGE_MODES = ['bare', 'bare-fetch', 'client', 'client-undici'] as const;
type RangeMode = (typeof RANGE_MODES)[number];
const RANGE_LABELS: Record<RangeMode, string> = { ...LABELS, 'bare-fetch': 'bare fetch+JSON.parse' };

export default async function (): Promise<void> {
  const TOTAL = 500_000;
  /** Rounds per concurrency; each round runs the three contenders back to back, so a noisy moment hits all of them. */
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const server = await startServer(['--cache', '1']);
  // Warm the server's page cache so neither contender pays for generating pages.
  await measure('bare', 4, server.port, TOTAL);
  console.log(
    `Backfill of ${fmt(TOTAL)} 1m candles (one symbol, pages of 499) from a local unthrottled server; median of ${ROUNDS} interleaved rounds`,
  );
  console.log(
    'contender                       conc   candles/s   CPU s   peak RSS MB   rate/bare (rounds)        CPU bare/own',
  );
  const rate = (r: Result) => r.candles / r.seconds;
  for (const concurrency of [1, 4]) {
    const runs = new Map<(typeof MODES)[number], Result[]>(MODES.map((m) => [m, []]));
    for (let round = 0; round < ROUNDS; round++)
      for (const mode of MODES) runs.get(mode)!.push(await measure(mode, concurrency, server.port, TOTAL));
    const bare = runs.get('bare')!;
    for (const mode of MODES) {
      const rs = runs.get(mode)!;
      // Ratios are taken within a round (the contenders ran seconds apart), then summarised.
      const ratios = rs.map((r, i) => rate(r) / rate(bare[i]!));
      const cpuRatios = rs.map((r, i) => bare[i]!.cpuSeconds / r.cpuSeconds);
      const short = rs.filter((r) => r.candles !== TOTAL).length;
      console.log(
        `${LABELS[mode].padEnd(31)} ${String(concurrency).padStart(4)}  ${fmt(median(rs.map(rate))).padStart(10)}  ${fmt(median(rs.map((r) => r.cpuSeconds)), 2).padStart(6)}  ${fmt(Math.max(...rs.map((r) => r.peakRssMb)), 1).padStart(12)}` +
          (mode === 'bare'
            ? ''
            : `   ${fmt(median(ratios), 2).padStart(5)} (${ratios.map((x) => fmt(x, 2)).join(' ')})`.padEnd(
                26,
              ) + `   ${fmt(median(cpuRatios), 2).padStart(5)}`) +
          (short === 0 ? '' : `   (${short} runs short of ${TOTAL} candles!)`),
      );
    }
  }
  // Peak RSS by range length at the default concurrency, the bare loops included: the live heap is flat
  // (below), so what moves here is how far V8 lets the old generation grow before a full collection,
  // which depends on how much each request's garbage outlives the young-generation collections.
  const sizes = [100_000, 500_000, 1_500_000, 3_000_000];
  const peaks = new Map<RangeMode, number[]>(RANGE_MODES.map((m) => [m, []]));
  for (const size of sizes)
    for (const mode of RANGE_MODES)
      peaks.get(mode)!.push((await measure(mode, 4, server.port, size)).peakRssMb);
  console.log(`peak RSS MB by range (${sizes.map((n) => fmt(n)).join(' / ')} candles, 4 in flight):`);
  for (const [mode, mbs] of peaks)
    console.log(`  ${RANGE_LABELS[mode].padEnd(31)} ${mbs.map((mb) => fmt(mb)).join(' / ')}`);
  const promoted: string[] = [];
  for (const mode of RANGE_MODES)
    promoted.push(
      `${RANGE_LABELS[mode]} ${fmt(await promotedKbPerRequest(mode, server.port, 1_500_000), 1)}`,
    );
  console.log(
    `old-generation growth per request over 1,500,000 candles (KB, across young GCs): ${promoted.join(', ')}`,
  );
  const { stderr } = await run(
    process.execPath,
    ['--expose-gc', join(here, 'lib', 'binance-run.mjs'), 'client', '4', String(server.port), '1500000'],
    {
      maxBuffer: 1 << 20,
    },
  );
  console.log(`live heap after GC every 200 pages over 1,500,000 candles (MB): ${stderr.trim()}`);
  server.child.kill('SIGTERM');

  // Budget use: the venue enforces 240 weight per 6 s window; the client is told the same budget.
  const limited = await startServer(['--weight-limit', '240', '--window-ms', '6000']);
  const windows = 4;
  const candles = windows * 120 * 499;
  const result = await measure('client', 4, limited.port, candles, ['240', '6000']);
  limited.child.send('stats');
  const { stats } = JSON.parse(await limited.next()) as {
    stats: { status429: number; windows: [number, number][] };
  };
  limited.child.kill('SIGTERM');
  const full = stats.windows
    .sort((a, b) => a[0] - b[0])
    .slice(1, -1)
    .map(([, w]) => w);
  const utilisation = full.reduce((a, b) => a + b, 0) / (full.length * 240);
  const optimum = ((240 / 2) * 499) / 6; // candles per second at 2 weight per 499 candles
  // Candles served in the full windows (2 weight per 499-candle page), per second.
  const steady = ((full.reduce((a, b) => a + b, 0) / 2) * 499) / (full.length * 6);
  console.log(
    `rate-limited run (240 weight / 6 s): weight per full window ${full.join(', ')} => ${fmt(utilisation * 100, 1)}% of budget, ${stats.status429} x 429; ` +
      `steady ${fmt(steady)} candles/s vs optimum ${fmt(optimum)} (${fmt((steady / optimum) * 100, 1)}%); whole run ${fmt(result.candles / result.seconds)} candles/s incl. the partial first and last windows; peak RSS ${fmt(result.peakRssMb)} MB`,
  );
}
