/**
 * `Sync.backfill()` end to end against the two halves it overlaps, measured side by side in one run:
 *
 * - 3 venues (Binance, Bybit, OKX) x 10 symbols x 7 days of 1m candles (302,400 rows) from unthrottled
 *   simulators (a child process, answers cached by URL after a warm-up pass) into PostgreSQL;
 * - client-only: the same clients iterating the same series' pages, nothing stored;
 * - storage-only: `PostgresStorage.write()` of the same candles, one call per page in the sizes the
 *   clients produce (499 / 1000 / 300 rows) with its ledger mark, and coalesced as the batch writer
 *   does into writes of `batchRows` rows (`Sync`'s default 5,000, or `BENCH_BATCH_ROWS`; `Sync` runs
 *   with the same);
 * - the ratio end-to-end / min(client-only, storage-only), per round (goal ≥ 0.8).
 *
 * Then the peak RSS of a child process backfilling one symbol-year (525,600 1m candles) and one month
 * through `Sync` into Postgres, with `http: 'fetch'` (the default) and `http: 'undici'`.
 *
 * Every contender runs in a process of its own on the built package. Server:
 * `PERPDATA_TEST_DATABASE_URL`, else postgres://postgres@127.0.0.1:5432/test; everything goes into a
 * schema of its own, dropped at the end. `BENCH_ROUNDS` (default 3) sets the interleaved rounds,
 * `BENCH_PARTS` (`throughput`, `rss`; default both) which parts run.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const URL = process.env.PERPDATA_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const MIN = 60_000;
const DAY = 86_400_000;
const SYMBOLS = ['BTC', 'ETH', 'SOL', 'XRP', 'DOGE', 'ADA', 'AVAX', 'LINK', 'DOT', 'LTC'];
/** Rows per write of the batched storage-only contender and of `Sync` (its `batchRows`): the same size. */
const BATCH_ROWS = Number(process.env.BENCH_BATCH_ROWS ?? 5_000);
/** Which parts run: `throughput`, `rss` or both (default). */
const PARTS = (process.env.BENCH_PARTS ?? 'throughput,rss').split(',');

interface Result {
  candles: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  pageSizes: Record<string, number>;
  /** Server CPU of the process's own backends, when /proc shows them. */
  pgCpuSeconds?: number;
  batched?: { candles: number; seconds: number; cpuSeconds: number; pgCpuSeconds?: number };
  outcomes?: string[];
  fetched?: number;
}

interface Sim {
  urls: Record<string, string>;
  child: ChildProcess;
  /** CPU seconds the simulator process has used so far. */
  cpu: () => Promise<number>;
}

async function startSim(now: number, symbols: string[], cache: boolean): Promise<Sim> {
  const child = spawn(
    process.execPath,
    [
      join(here, 'lib', 'pipeline-sim.mjs'),
      '--now',
      String(now),
      '--symbols',
      symbols.join(','),
      '--cache',
      cache ? '1' : '0',
    ],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  let exited: Error | undefined;
  const failed: ((error: Error) => void)[] = [];
  child.once('exit', (code) => {
    exited = new Error(`simulator exited with ${code}`);
    for (const reject of failed.splice(0)) reject(exited);
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      if (lines.length > 0) resolve(lines.shift()!);
      else if (exited) reject(exited);
      else {
        waiters.push(resolve);
        failed.push(reject);
      }
    });
  const { urls } = JSON.parse(await next()) as { urls: Record<string, string> };
  const cpu = async () => {
    child.send('stats');
    return (JSON.parse(await next()) as { cpuSeconds: number }).cpuSeconds;
  };
  return { urls, child, cpu };
}

async function measure(options: Record<string, unknown>): Promise<Result> {
  const { stdout } = await run(
    process.execPath,
    [join(here, 'lib', 'pipeline-run.mjs'), JSON.stringify(options)],
    {
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Result;
}

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (r: { candles: number; seconds: number }) => r.candles / r.seconds;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

export default async function (): Promise<void> {
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const schema = `perpdata_bench_pipe_${Math.random().toString(36).slice(2, 8)}`;
  const pool = new pg.Pool({ connectionString: URL, max: 1 });
  pool.on('error', () => {});
  await pool.query(`CREATE SCHEMA "${schema}"`);
  const dropTables = async (prefix: string) => {
    const { rows } = await pool.query<{ tablename: string }>(
      'SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename LIKE $2',
      [schema, `${prefix}%`],
    );
    for (const { tablename } of rows) await pool.query(`DROP TABLE "${schema}"."${tablename}" CASCADE`);
    await pool.query('CHECKPOINT').catch(() => undefined);
  };
  const sims: Sim[] = [];
  try {
    const to = Date.UTC(2024, 5, 8);
    const now = to + 30_000;
    // ---- Throughput: 3 venues x 10 symbols x 7 days.
    if (PARTS.includes('throughput')) {
      const from = to - 7 * DAY;
      const expected = 3 * SYMBOLS.length * ((to - from) / MIN);
      const sim = await startSim(now, SYMBOLS, true);
      sims.push(sim);
      const base = {
        urls: sim.urls,
        now,
        from,
        to,
        symbols: SYMBOLS,
        db: URL,
        schema,
        batchRows: BATCH_ROWS,
        sync: { batchRows: BATCH_ROWS },
      };
      // Warm-up: fills the simulators' answer cache and the OS page cache.
      const warm = await measure({ ...base, mode: 'client' });
      console.log(
        `3 venues x ${SYMBOLS.length} symbols x 7 days of 1m candles = ${fmt(expected)} rows from unthrottled simulators (cached answers) into PostgreSQL; ` +
          `${ROUNDS} interleaved rounds, every contender in its own process; load average before: ${load()}`,
      );
      console.log(`page sizes the clients produce (venue:rows -> pages): ${JSON.stringify(warm.pageSizes)}`);
      type Measured = Result & { simCpuSeconds: number };
      const withSimCpu = async (options: Record<string, unknown>): Promise<Measured> => {
        const before = await sim.cpu();
        const r = await measure(options);
        return { ...r, simCpuSeconds: (await sim.cpu()) - before };
      };
      const rounds: { client: Measured; storage: Result; sync: Measured; load: string }[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const client = await withSimCpu({ ...base, mode: 'client' });
        const sp = `s${round}_`;
        await pool.query('CHECKPOINT').catch(() => undefined);
        const storage = await measure({ ...base, mode: 'storage', prefix: sp });
        await dropTables(sp);
        const ep = `e${round}_`;
        const sync = await withSimCpu({ ...base, mode: 'sync', prefix: ep });
        const { rows } = await pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM "${schema}"."${ep}candles"`,
        );
        if (Number(rows[0]!.n) !== expected || sync.candles !== expected)
          console.log(
            `  round ${round + 1}: end-to-end stored ${rows[0]!.n} rows, reported ${sync.candles} (expected ${expected})!`,
          );
        await dropTables(ep);
        rounds.push({ client, storage, sync, load: load() });
      }
      type Round = (typeof rounds)[number];
      const batchedRate = (r: Round) => rate(r.storage.batched!);
      const ratio = (r: Round) => rate(r.sync) / Math.min(rate(r.client), rate(r.storage));
      const ratioBatched = (r: Round) => rate(r.sync) / Math.min(rate(r.client), batchedRate(r));
      const line = (name: string, rates: number[], extra = '') =>
        console.log(
          `${name.padEnd(54)} ${fmt(median(rates)).padStart(9)}   (${rates.map((x) => fmt(x)).join(' / ')})${extra}`,
        );
      const rss = (rs: Result[]) => `   peak RSS ${fmt(Math.max(...rs.map((r) => r.peakRssMb)))} MB`;
      console.log('contender                                               candles/s   (rounds)');
      line(
        'client-only (3 clients, 4 series per venue at once)',
        rounds.map((r) => rate(r.client)),
        rss(rounds.map((r) => r.client)),
      );
      line(
        'storage-only: write() per page + its ledger mark',
        rounds.map((r) => rate(r.storage)),
      );
      line(`storage-only: write() of ${fmt(BATCH_ROWS)}-row batches + marks`, rounds.map(batchedRate));
      line(
        'end-to-end Sync.backfill()',
        rounds.map((r) => rate(r.sync)),
        rss(rounds.map((r) => r.sync)),
      );
      const ratios = rounds.map(ratio);
      const ratiosBatched = rounds.map(ratioBatched);
      console.log(
        `end-to-end / min(client-only, storage-only per page): ${fmt(median(ratios), 2)} (rounds ${ratios.map((x) => fmt(x, 2)).join(' ')}; goal >= 0.8)`,
      );
      console.log(
        `end-to-end / min(client-only, storage-only ${fmt(BATCH_ROWS)}-row batches): ${fmt(median(ratiosBatched), 2)} (rounds ${ratiosBatched.map((x) => fmt(x, 2)).join(' ')})`,
      );
      // Where the CPU goes: the measured process, the simulator process and this process's server
      // backends (from /proc when the server runs here). Their sum over the cores is a floor on wall time.
      const cores = availableParallelism();
      const cpuLine = (
        name: string,
        parts: { wall: number; node: number; sim?: number | undefined; pg?: number | undefined }[],
      ) => {
        const m = (f: (p: (typeof parts)[number]) => number | undefined) => {
          const xs = parts.map(f).filter((x): x is number => x !== undefined);
          return xs.length > 0 ? fmt(median(xs), 2) : '-';
        };
        const total = (p: (typeof parts)[number]) => p.node + (p.sim ?? 0) + (p.pg ?? 0);
        console.log(
          `  ${name.padEnd(40)} wall ${m((p) => p.wall).padStart(5)}  node ${m((p) => p.node).padStart(5)}  simulator ${m((p) => p.sim).padStart(5)}  postgres ${m((p) => p.pg).padStart(5)}  total ${m(total).padStart(5)}  floor on ${cores} cores ${m((p) => total(p) / cores).padStart(5)}`,
        );
      };
      console.log('CPU seconds per contender (medians):');
      cpuLine(
        'client-only',
        rounds.map((r) => ({
          wall: r.client.seconds,
          node: r.client.cpuSeconds,
          sim: r.client.simCpuSeconds,
        })),
      );
      cpuLine(
        'storage-only per page',
        rounds.map((r) => ({
          wall: r.storage.seconds,
          node: r.storage.cpuSeconds,
          pg: r.storage.pgCpuSeconds,
        })),
      );
      cpuLine(
        `storage-only ${fmt(BATCH_ROWS)}-row batches`,
        rounds.map((r) => ({
          wall: r.storage.batched!.seconds,
          node: r.storage.batched!.cpuSeconds,
          pg: r.storage.batched!.pgCpuSeconds,
        })),
      );
      cpuLine(
        'end-to-end',
        rounds.map((r) => ({
          wall: r.sync.seconds,
          node: r.sync.cpuSeconds,
          sim: r.sync.simCpuSeconds,
          pg: r.sync.pgCpuSeconds,
        })),
      );
      console.log(`load average after each round: ${rounds.map((r) => r.load).join(' | ')}`);
      sim.child.kill('SIGTERM');
    }

    // ---- Peak RSS: one symbol of Binance through Sync, a year and a month.
    if (PARTS.includes('rss')) {
      const rssSim = await startSim(now, ['BTC'], false);
      sims.push(rssSim);
      const ranges = [
        { name: 'one month (43,200 candles)', from: to - 30 * DAY },
        { name: 'one year (525,600 candles)', from: to - 365 * DAY },
      ];
      console.log(
        'peak RSS of a child process backfilling BTC 1m from Binance into PostgreSQL through Sync:',
      );
      for (const http of ['fetch', 'undici'] as const) {
        const figures: string[] = [];
        for (const [i, range] of ranges.entries()) {
          const prefix = `rss_${http}_${i}_`;
          const r = await measure({
            urls: rssSim.urls,
            now,
            from: range.from,
            to,
            symbols: ['BTC'],
            venues: ['binance'],
            http,
            db: URL,
            schema,
            prefix,
            mode: 'sync',
          });
          await dropTables(prefix);
          figures.push(
            `${range.name}: ${fmt(r.peakRssMb)} MB (${fmt(r.candles)} rows, ${fmt(rate(r))} candles/s)`,
          );
        }
        console.log(`  http: '${http}'${http === 'fetch' ? ' (default)' : ''}   ${figures.join('   ')}`);
      }
    }
  } finally {
    for (const s of sims) s.child.kill('SIGTERM');
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
}
