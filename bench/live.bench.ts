/**
 * `Sync.live()` at scale (issue 13): 1,000 symbols x 3 venues (Binance, Bybit, OKX) of 1m candles,
 * streamed from the simulators of `perpdata/testing` (a child process of their own, so the CPU figures
 * are the client's) into PostgreSQL for 30 simulated minutes, live from the present (no backfill).
 * Run twice, each on fresh tables and a fresh simulator: with the live default write batching (rows
 * wait at most 1 s, `batchDelayMs` 1000) and with batching off (`batchDelayMs: 1`, the smallest value
 * `new Sync()` accepts). Prints per run:
 *
 * - push -> stored latency, p50 / p99 / max in real ms over every candle: from the simulator queueing
 *   the closed-candle frame on its socket (timed in the child by wrapping its `send`) to the
 *   `storage.write()` that carried the row resolving (the `StorageAdapter` handed to `Sync` is wrapped),
 *   split into push -> the stream yields it to `Sync` (the client's `watchCandles` iterator is wrapped)
 *   and yield -> stored (batch wait and the write). Both processes read
 *   `performance.timeOrigin + performance.now()`;
 * - client CPU per 1,000 candles: `process.cpuUsage()` of this process (the client: WebSocket decode,
 *   `Sync`, the batch writer and `PostgresStorage`'s COPY encoding, all in-process; not the simulator,
 *   not the Postgres server) from the 1st streamed minute's sample to the last, over the candles
 *   received in between;
 * - RSS and heap (`process.memoryUsage()`, after a full GC) 30 simulated seconds after the 1st, 10th
 *   and 30th streamed minutes closed;
 * - after stopping: the stored rows per series counted against the closed periods (each exactly once),
 *   the ledger per series, REST requests during live, write and status-row counts.
 *
 * The clock: write batching runs on the real clock (ms) while the market and the live session's timers
 * run on the simulated one, so the speed decides how much real time separates the per-minute bursts
 * of 3,000 candles. Latency is measured in real ms and a burst's own latency does not depend on the
 * speed as long as the burst is written before the next one. What does depend on it is the live
 * session's safety poll: every 5 simulated minutes every streamed series is caught up at once
 * (2 `coverage()` reads and a status row each, 9,000 queries here), `pollDelayMs` after the period
 * closes; the streamed candles of a series waiting in that queue are held, and a queue that outlasts a
 * period refetches the held period over REST (rate-limited), which lengthens the queue further. At 1x
 * the round has 57 s before the next burst; at 12x 2 s, which a loaded 2-core machine exceeded in one
 * run (p99 7.6 s, max 30 s, ~300 REST klines per venue; `BENCH_LIVE_SPEED=12
 * BENCH_LIVE_POLL_DELAY_MS=58000` starts the round 2 clock s before the next burst and shows it at
 * will). The default `BENCH_LIVE_SPEED=8` (a simulated
 * minute every 7.5 real s) leaves the round 4.5 s and keeps both runs near 8 real minutes; the notes
 * print each round's length. `pollDelayMs` is scaled to the clock (`3000 x speed`, 3 real s as in
 * production): at 8x the default 3 clock s would be 375 real ms, before a 1 s batch commits, and every
 * streamed series would refetch its last candle over REST every round (`BENCH_LIVE_POLL_DELAY_MS`
 * overrides, in clock ms).
 *
 * Only candles are kept: polling the other kinds for 1,000 symbols on an 8x clock would ask the
 * simulators 8x more often per real second than the venues' budgets (which run on the real clock)
 * allow, and the issue's load is the 1m candles. Environment: `BENCH_LIVE_SYMBOLS` (1000),
 * `BENCH_LIVE_MINUTES` (30), `BENCH_LIVE_SPEED` (8), `BENCH_LIVE_RUNS` (`batched,unbatched`),
 * `PERPDATA_TEST_DATABASE_URL` (else postgres://postgres@127.0.0.1:5432/test; a schema of its own,
 * dropped at the end).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import type { WsClock } from '../src/clients/ws/clock.js';
import type { AnyRecord, Candle, DataKind, RecordOf, SeriesKey } from '../src/core/types.js';
import { BinanceClient, BybitClient, OkxClient, PostgresStorage, Sync } from '../src/index.js';
import type {
  CoverageInterval,
  ErrorEntry,
  StatusEntry,
  StorageAdapter,
  WriteOptions,
  WriteResult,
} from '../src/storage/adapter.js';
import { liveSymbols } from './lib/live-symbols.js';

const here = dirname(fileURLToPath(import.meta.url));
const URL = process.env.PERPDATA_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const SYMBOLS = Number(process.env.BENCH_LIVE_SYMBOLS ?? 1_000);
const MINUTES = Number(process.env.BENCH_LIVE_MINUTES ?? 30);
const SPEED = Number(process.env.BENCH_LIVE_SPEED ?? 8);
const RUNS = (process.env.BENCH_LIVE_RUNS ?? 'batched,unbatched').split(',');
const POLL_DELAY_MS = Number(process.env.BENCH_LIVE_POLL_DELAY_MS ?? 3_000 * SPEED);
const MINUTE = 60_000;
const VENUES = ['binance', 'bybit', 'okx'] as const;
/** Simulated minutes at which memory is sampled (after that many streamed minutes closed). */
const SAMPLES = [...new Set([1, 10, MINUTES].filter((m) => m <= MINUTES))];

const nowAbs = (): number => performance.timeOrigin + performance.now();

/** A full garbage collection, so that RSS and heap figures are not GC timing noise. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

interface Ready {
  urls: Record<(typeof VENUES)[number], { baseUrl: string; wsUrl: string }>;
  simAt: number;
  realAt: number;
}

/** The simulator child; resolves once it listens, with its clock reading. */
async function startSim(epoch: number): Promise<{ child: ChildProcess; ready: Ready; ipcMs: number }> {
  const tsx = join(here, '..', 'node_modules', '.bin', 'tsx');
  const child = spawn(tsx, [join(here, 'lib', 'live-sim.ts')], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      BENCH_LIVE_SIM_SYMBOLS: String(SYMBOLS),
      BENCH_LIVE_SIM_SPEED: String(SPEED),
      BENCH_LIVE_SIM_EPOCH: String(epoch),
    },
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the simulator exited with ${code}`)));
    child.once('message', (m: Ready) => resolve({ child, ready: m, ipcMs: nowAbs() - m.realAt }));
  });
}

async function dumpSim(child: ChildProcess): Promise<{ pushes: number[]; cpuSeconds: number; rest: Rest }> {
  if (child.exitCode !== null) throw new Error(`the simulator exited with ${child.exitCode} during the run`);
  const reply = new Promise<{ pushes: number[]; cpuSeconds: number; rest: Rest }>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the simulator exited with ${code} during the run`)));
  });
  child.send('dump');
  return reply;
}

type Rest = Record<string, Record<string, number>>;

/** The child's clock, here: clock = simAt + (real - realAt) x speed. */
function sharedClock(ready: Ready): WsClock {
  return {
    now: () => Math.floor(ready.simAt + (nowAbs() - ready.realAt) * SPEED),
    setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms / SPEED)),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };
}

/** Resolves once `clock` reads at least `t`. */
async function until(clock: WsClock, t: number): Promise<void> {
  for (let left = t - clock.now(); left > 0; left = t - clock.now())
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, left / SPEED)));
}

/** Real times per candle (venue, symbol, streamed minute), NaN until seen; repeats counted. */
class Times {
  readonly at: Float64Array;
  repeats = 0;
  outside = 0;
  constructor(readonly base: number) {
    this.at = new Float64Array(VENUES.length * SYMBOLS * MINUTES).fill(Number.NaN);
  }
  slot(venue: number, symbol: number, ts: number): number | undefined {
    const minute = (ts - this.base) / MINUTE;
    if (!Number.isInteger(minute) || minute < 0 || minute >= MINUTES) return undefined;
    return (venue * SYMBOLS + symbol) * MINUTES + minute;
  }
  note(venue: number, symbol: number | undefined, ts: number, at: number): void {
    const i = symbol === undefined ? undefined : this.slot(venue, symbol, ts);
    if (i === undefined) {
      this.outside++;
      return;
    }
    if (Number.isNaN(this.at[i] as number)) this.at[i] = at;
    else this.repeats++;
  }
}

/** `PostgresStorage` with the real time each candle row's write resolved, and counters. */
class TimedStorage implements StorageAdapter {
  writes = 0;
  writeMs: number[] = [];
  writeRows: number[] = [];
  /** Real times of `coverage()` calls: the live session's catch-ups (each asks twice). */
  readonly coverageAt: number[] = [];
  statusRows = 0;
  constructor(
    readonly inner: PostgresStorage,
    readonly written: (rows: readonly AnyRecord[], at: number) => void,
  ) {}
  migrate(): Promise<void> {
    return this.inner.migrate();
  }
  async write<K extends DataKind>(
    kind: K,
    rows: RecordOf<K>[],
    options?: WriteOptions,
  ): Promise<WriteResult> {
    const started = nowAbs();
    const result = await this.inner.write(kind, rows, options);
    const at = nowAbs();
    this.writes++;
    this.writeMs.push(at - started);
    this.writeRows.push(rows.length);
    if (kind === 'candles') this.written(rows, at);
    return result;
  }
  latest(kind: DataKind, key: SeriesKey): Promise<number | null> {
    return this.inner.latest(kind, key);
  }
  coverage(kind: DataKind, key: SeriesKey, from?: number, to?: number): Promise<CoverageInterval[]> {
    this.coverageAt.push(nowAbs());
    return this.inner.coverage(kind, key, from, to);
  }
  read<K extends DataKind>(kind: K, key: SeriesKey, from: number, to: number): AsyncIterable<RecordOf<K>[]> {
    return this.inner.read(kind, key, from, to);
  }
  logStatus(entry: StatusEntry): Promise<void> {
    this.statusRows++;
    return this.inner.logStatus(entry);
  }
  logError(entry: ErrorEntry): Promise<void> {
    return this.inner.logError(entry);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

interface Memory {
  rss: number;
  heap: number;
}

interface RunResult {
  name: string;
  batchDelayMs: number;
  expected: number;
  pushed: number;
  received: number;
  stored: number;
  pushToStored: number[];
  pushToReceived: number[];
  receivedToStored: number[];
  worstMinutes: string;
  cpuMsPer1000: number;
  memory: Record<number, Memory>;
  realSeconds: number;
  notes: string[];
  db: { series: number; exact: number; rows: number; missing: number; extra: number; ledgerOk: number };
}

/** Clusters of `times` (real ms) with gaps under 1 s: how many, their calls and how long they lasted. */
function herds(times: readonly number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const out: { n: number; ms: number }[] = [];
  let start = 0;
  for (let i = 1; i <= sorted.length; i++) {
    if (i < sorted.length && (sorted[i] as number) - (sorted[i - 1] as number) < 1_000) continue;
    if (i > start) out.push({ n: i - start, ms: (sorted[i - 1] as number) - (sorted[start] as number) });
    start = i;
  }
  return out.map((h) => `${h.n} calls in ${(h.ms / 1000).toFixed(1)} s`).join(', ');
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const sortNum = (xs: number[]): number[] => xs.sort((a, b) => a - b);

async function run(name: string, batchDelayMs: number, schema: string, pool: pg.Pool): Promise<RunResult> {
  const started = Date.now();
  const symbols = liveSymbols(SYMBOLS);
  const symbolIndex = new Map(symbols.map((s, i) => [s, i]));
  // The market clock starts 10 s into a minute; live starts 5 s into the next one that allows set-up.
  const epoch = Date.UTC(2024, 5, 1, 0, 0, 10);
  const { child, ready, ipcMs } = await startSim(epoch);
  const clock = sharedClock(ready);
  const prefix = `${name.slice(0, 1)}_`;
  const notes: string[] = [
    `clock check: the simulator's ready message arrived ${ipcMs.toFixed(1)} ms after it was sent (real clocks agree when small and positive)`,
  ];
  const errors: string[] = [];
  let storage: TimedStorage | undefined;
  const clients = VENUES.map((venue) => {
    const o = { baseUrl: ready.urls[venue].baseUrl, wsUrl: ready.urls[venue].wsUrl, now: clock.now };
    return venue === 'binance'
      ? new BinanceClient(o)
      : venue === 'bybit'
        ? new BybitClient(o)
        : new OkxClient(o);
  });
  try {
    const inner = new PostgresStorage({ db: URL, schema, tablePrefix: prefix });
    await inner.migrate();
    // Live from the present: 5 s into the coming minute, at least 3 simulated seconds from now.
    const liveStart = Math.ceil((clock.now() + 3_000 - 5_000) / MINUTE) * MINUTE + 5_000;
    const base = Math.ceil(liveStart / MINUTE) * MINUTE;
    const received = new Times(base);
    const stored = new Times(base);
    storage = new TimedStorage(inner, (rows, at) => {
      for (const r of rows)
        stored.note(VENUES.indexOf(r.source as (typeof VENUES)[number]), symbolIndex.get(r.symbol), r.ts, at);
    });
    for (const [v, client] of clients.entries()) {
      const watch = client.watchCandles.bind(client);
      client.watchCandles = (params) => {
        const stream = watch(params);
        const iterate = stream[Symbol.asyncIterator].bind(stream);
        stream[Symbol.asyncIterator] = () => {
          const it = iterate();
          return {
            next: async () => {
              const r = await it.next();
              if (!r.done) received.note(v, symbolIndex.get(r.value.symbol), r.value.ts, nowAbs());
              return r;
            },
            return: async () => (await it.return?.()) ?? { done: true, value: undefined },
          } as AsyncIterator<Candle>;
        };
        return stream;
      };
    }
    await until(clock, liveStart);
    const sync = new Sync({
      storage,
      clients,
      symbols,
      kinds: ['candles'],
      from: liveStart,
      clock,
      batchDelayMs,
    });
    sync.on('error', (e) => errors.push(`error ${e.series?.id ?? ''}: ${e.error.message.split('\n')[0]}`));
    sync.on('retry', (e) => errors.push(`retry ${e.what}: ${String(e.error).split('\n')[0]}`));
    sync.on('warning', (e) => errors.push(`warning ${e.code}: ${e.message}`));
    const live = sync.live({ pollDelayMs: POLL_DELAY_MS });
    const memory: Record<number, Memory> = {};
    let cpuFrom: NodeJS.CpuUsage | undefined;
    let cpuCandlesFrom = 0;
    let cpu: NodeJS.CpuUsage | undefined;
    let cpuCandles = 0;
    const receivedCount = () => received.at.reduce((n, x) => (Number.isNaN(x) ? n : n + 1), received.repeats);
    for (const m of SAMPLES) {
      await until(clock, base + m * MINUTE + 30_000);
      collectGarbage();
      const u = process.memoryUsage();
      memory[m] = { rss: u.rss, heap: u.heapUsed };
      if (m === SAMPLES[0]) {
        cpuFrom = process.cpuUsage();
        cpuCandlesFrom = receivedCount();
      }
      if (m === MINUTES) {
        cpu = process.cpuUsage(cpuFrom);
        cpuCandles = receivedCount() - cpuCandlesFrom;
      }
    }
    const health = live.health();
    const stopStarted = nowAbs();
    const stopped = await Promise.race([
      live.stop().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 60_000).unref()),
    ]);
    notes.push(
      stopped
        ? `live.stop() resolved in ${(nowAbs() - stopStarted).toFixed(0)} ms`
        : 'live.stop() had not resolved after 60 s real (a hang): counted what was stored by then',
    );
    const states = new Map<string, number>();
    for (const h of health) states.set(h.state, (states.get(h.state) ?? 0) + 1);
    notes.push(`health at stop: ${[...states].map(([s, n]) => `${n} ${s}`).join(', ')}`);

    const { pushes, cpuSeconds, rest } = await dumpSim(child);
    const pushed = new Times(base);
    for (let i = 0; i < pushes.length; i += 4)
      pushed.note(
        pushes[i] as number,
        pushes[i + 1] as number,
        pushes[i + 2] as number,
        pushes[i + 3] as number,
      );
    const pushToStored: number[] = [];
    const pushToReceived: number[] = [];
    const receivedToStored: number[] = [];
    const perMinute: number[][] = Array.from({ length: MINUTES }, () => []);
    let pushedN = 0;
    let receivedN = 0;
    let storedN = 0;
    let storedNotPushed = 0;
    let pushedNotStored = 0;
    for (let i = 0; i < pushed.at.length; i++) {
      const p = pushed.at[i] as number;
      const r = received.at[i] as number;
      const s = stored.at[i] as number;
      if (!Number.isNaN(p)) pushedN++;
      if (!Number.isNaN(r)) receivedN++;
      if (!Number.isNaN(s)) storedN++;
      if (Number.isNaN(p) && !Number.isNaN(s)) storedNotPushed++;
      if (!Number.isNaN(p) && Number.isNaN(s)) pushedNotStored++;
      if (!Number.isNaN(p) && !Number.isNaN(s)) {
        pushToStored.push(s - p);
        (perMinute[i % MINUTES] as number[]).push(s - p);
      }
      if (!Number.isNaN(p) && !Number.isNaN(r)) pushToReceived.push(r - p);
      if (!Number.isNaN(r) && !Number.isNaN(s)) receivedToStored.push(s - r);
    }
    const minuteP99 = perMinute
      .map((xs, m) => ({ m: m + 1, p99: percentile(sortNum(xs), 99) }))
      .sort((a, b) => b.p99 - a.p99)
      .slice(0, 3)
      .map((x) => `minute ${x.m}: ${x.p99.toFixed(0)} ms`)
      .join(', ');
    notes.push(
      `candles pushed ${pushedN} (repeats ${pushed.repeats}), yielded to Sync ${receivedN} (repeats ${received.repeats}, outside the minutes ${received.outside}), stored ${storedN} (rows written again ${stored.repeats}, outside the minutes ${stored.outside}); pushed but never stored ${pushedNotStored}, stored but not pushed ${storedNotPushed}`,
    );
    const wr = sortNum([...storage.writeRows]);
    const wm = sortNum([...storage.writeMs]);
    notes.push(
      `storage: ${storage.writes} write() calls, rows per write p50 ${percentile(wr, 50)} / max ${wr.at(-1) ?? 0}, write time p50 ${percentile(wm, 50).toFixed(1)} / p99 ${percentile(wm, 99).toFixed(1)} ms; ${storage.coverageAt.length} coverage() and ${storage.statusRows} status rows during live`,
    );
    notes.push(
      `REST requests to the simulators (the instrument lists included): ${Object.entries(rest)
        .map(
          ([v, paths]) =>
            `${v} ${Object.entries(paths)
              .map(([p, n]) => `${p} ${n}`)
              .join(' ')}`,
        )
        .join('; ')}; simulator CPU ${cpuSeconds.toFixed(1)} s`,
    );
    notes.push(
      `catch-up rounds (coverage() calls closer than 1 s real together): ${herds(storage.coverageAt)}`,
    );
    if (errors.length > 0)
      notes.push(`Sync events: ${errors.length} (first: ${errors.slice(0, 3).join(' | ')})`);

    // What is stored: each closed 1m period [base, base + MINUTES) exactly once per series.
    const t = `"${schema}"."${prefix}candles"`;
    const { rows } = await pool.query<{
      source: string;
      symbol: string;
      n: string;
      inside: string;
      d: string;
    }>(
      `SELECT source, symbol, count(*) AS n, count(*) FILTER (WHERE ts >= to_timestamp($1 / 1000.0) AND ts < to_timestamp($2 / 1000.0)) AS inside,
              count(DISTINCT ts) FILTER (WHERE ts >= to_timestamp($1 / 1000.0) AND ts < to_timestamp($2 / 1000.0)) AS d
         FROM ${t} WHERE "interval" = '1m' GROUP BY source, symbol`,
      [base, base + MINUTES * MINUTE],
    );
    let exact = 0;
    let missing = 0;
    let extra = 0;
    let total = 0;
    for (const r of rows) {
      const n = Number(r.n);
      const inside = Number(r.inside);
      const d = Number(r.d);
      total += n;
      if (n === MINUTES && inside === MINUTES && d === MINUTES) exact++;
      missing += MINUTES - d;
      extra += n - d;
    }
    missing += (VENUES.length * SYMBOLS - rows.length) * MINUTES;
    let ledgerOk = 0;
    for (const venue of VENUES)
      for (const symbol of symbols) {
        const coverage = await inner.coverage('candles', {
          source: venue,
          exchange: venue,
          symbol,
          interval: '1m',
        });
        const first = coverage[0];
        if (
          coverage.length === 1 &&
          first?.state === 'stored' &&
          first.from === base &&
          first.to === base + MINUTES * MINUTE
        )
          ledgerOk++;
      }
    return {
      name,
      batchDelayMs,
      expected: VENUES.length * SYMBOLS * MINUTES,
      pushed: pushedN,
      received: receivedN,
      stored: storedN,
      pushToStored: sortNum(pushToStored),
      pushToReceived: sortNum(pushToReceived),
      receivedToStored: sortNum(receivedToStored),
      worstMinutes: minuteP99,
      cpuMsPer1000: cpu ? ((cpu.user + cpu.system) / 1000 / Math.max(1, cpuCandles)) * 1000 : Number.NaN,
      memory,
      realSeconds: (Date.now() - started) / 1000,
      notes,
      db: { series: rows.length, exact, rows: total, missing, extra, ledgerOk },
    };
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await storage?.close().catch(() => undefined);
    child.send('stop');
    await new Promise((resolve) => {
      if (child.exitCode !== null) resolve(undefined);
      else child.once('exit', resolve);
    });
  }
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

export default async function (): Promise<void> {
  const schema = `bench_live_${process.pid}`;
  const pool = new pg.Pool({ connectionString: URL, max: 1 });
  pool.on('error', () => {});
  await pool.query(`CREATE SCHEMA "${schema}"`);
  const results: RunResult[] = [];
  const started = Date.now();
  console.log(
    `Sync.live(): ${SYMBOLS} symbols x 3 venues of 1m candles, ${MINUTES} simulated minutes per run, clock ${SPEED}x (a simulated minute every ${(60 / SPEED).toFixed(1)} real s), pollDelayMs ${POLL_DELAY_MS} (clock ms = ${(POLL_DELAY_MS / SPEED / 1000).toFixed(1)} real s), candles only; load average before: ${load()}`,
  );
  try {
    for (const name of RUNS) {
      const delay = name === 'unbatched' ? 1 : 1_000;
      const r = await run(name, delay, schema, pool);
      results.push(r);
      console.log(
        `  ${name} (batchDelayMs ${delay}), ${r.realSeconds.toFixed(0)} s real, load average after: ${load()}`,
      );
      for (const note of r.notes) console.log(`    ${note}`);
    }
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
  const ms = (xs: number[], p: number) => percentile(xs, p).toFixed(1);
  const mb = (n: number | undefined) => (n === undefined ? '?' : (n / 1_048_576).toFixed(1));
  console.log(
    `latency in real ms (push = the simulator queued the closed-candle frame; yield = the stream handed it to Sync; stored = the write() holding the row resolved). ` +
      `CPU is this process (streams, Sync, batch writer, PostgresStorage encoding), from the minute-${SAMPLES[0]} sample to the minute-${MINUTES} sample. ` +
      `Memory after a forced full GC, 30 simulated s after minute ${SAMPLES.join(' / ')} closed. Total ${((Date.now() - started) / 1000).toFixed(0)} s real.`,
  );
  console.table(
    results.map((r) => ({
      run: `${r.name} (${r.batchDelayMs} ms)`,
      'push→stored p50': ms(r.pushToStored, 50),
      p99: ms(r.pushToStored, 99),
      max: ms(r.pushToStored, 100),
      'push→yield p50/p99': `${ms(r.pushToReceived, 50)} / ${ms(r.pushToReceived, 99)}`,
      'yield→stored p50/p99': `${ms(r.receivedToStored, 50)} / ${ms(r.receivedToStored, 99)}`,
      'CPU ms / 1,000 candles': r.cpuMsPer1000.toFixed(1),
      [`RSS @${SAMPLES.join('/')} (MB)`]: SAMPLES.map((m) => mb(r.memory[m]?.rss)).join(' / '),
      [`heap @${SAMPLES.join('/')} (MB)`]: SAMPLES.map((m) => mb(r.memory[m]?.heap)).join(' / '),
    })),
  );
  for (const r of results) {
    const series = VENUES.length * SYMBOLS;
    console.log(
      `${r.name}: stored ${r.db.rows} rows for ${r.expected} closed 1m periods (${series} series x ${MINUTES}); ` +
        `series holding each period exactly once ${r.db.exact} / ${series}, missing periods ${r.db.missing}, duplicate rows ${r.db.extra}; ` +
        `ledger one stored span per series ${r.db.ledgerOk} / ${series}; worst minutes by p99: ${r.worstMinutes}`,
    );
  }
}
