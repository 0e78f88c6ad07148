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
  mode: 'bare' | 'client' | 'client-undici',
  concurrency: number,
  port: number,
  candles: number,
  extra: string[] = [],
): Promise<Result> {
  const { stdout } = await run(
    process.execPath,
    [
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
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Result;
}

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export default async function (): Promise<void> {
  const TOTAL = 500_000;
  const server = await startServer(['--cache', '1']);
  // Warm the server's page cache so neither contender pays for generating pages.
  await measure('bare', 4, server.port, TOTAL);
  console.log(
    `Backfill of ${fmt(TOTAL)} 1m candles (one symbol, pages of 499) from a local unthrottled server`,
  );
  console.log(
    'contender                       conc   candles/s   CPU s   peak RSS MB   rate/bare   CPU bare/own',
  );
  const rate = (r: Result) => r.candles / r.seconds;
  const row = (name: string, concurrency: number, r: Result, bare?: Result) =>
    console.log(
      `${name.padEnd(31)} ${String(concurrency).padStart(4)}  ${fmt(rate(r)).padStart(10)}  ${fmt(r.cpuSeconds, 2).padStart(6)}  ${fmt(r.peakRssMb, 1).padStart(12)}` +
        (bare
          ? `   ${fmt(rate(r) / rate(bare), 2).padStart(8)}   ${fmt(bare.cpuSeconds / r.cpuSeconds, 2).padStart(8)}`
          : '') +
        (r.candles === TOTAL ? '' : `   (${r.candles} candles!)`),
    );
  for (const concurrency of [1, 4]) {
    const bare = await measure('bare', concurrency, server.port, TOTAL);
    row('bare undici request+JSON.parse', concurrency, bare);
    row(
      "BinanceClient (http: 'fetch')",
      concurrency,
      await measure('client', concurrency, server.port, TOTAL),
      bare,
    );
    row(
      "BinanceClient (http: 'undici')",
      concurrency,
      await measure('client-undici', concurrency, server.port, TOTAL),
      bare,
    );
  }
  const short = await measure('client', 4, server.port, 100_000);
  const long = await measure('client', 4, server.port, TOTAL);
  console.log(
    `peak RSS of the client: ${fmt(short.peakRssMb, 1)} MB for 100,000 candles, ${fmt(long.peakRssMb, 1)} MB for 500,000`,
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
      `steady ${fmt(steady)} candles/s vs optimum ${fmt(optimum)} (${fmt((steady / optimum) * 100, 1)}%); whole run ${fmt(result.candles / result.seconds)} candles/s incl. the partial first and last windows`,
  );
}
