/**
 * Child process: one measured contender of the pipeline bench, on the built package. Argument: one JSON
 * object `{ mode, urls, now, from, to, symbols, venues, http, db, schema, prefix }`.
 *
 * - `client`: the venue clients iterate every series' pages, nothing stored (per venue 4 series at a
 *   time, as `Sync` schedules them);
 * - `storage`: the same pages are fetched first (not timed), then written with `PostgresStorage.write()`
 *   one page per call with its ledger mark, in the order and sizes the clients produced them (timed),
 *   then once more coalesced into `batchRows`-row writes (the batch writer's size, timed);
 * - `sync`: `Sync.backfill()` of the same series into empty tables (end to end).
 *
 * `sync` (optional) is passed to `new Sync()` (e.g. `{ batchRows: 5000 }`).
 * Prints one JSON line: candles, seconds, CPU seconds, peak RSS (`maxRSS` of the process), page sizes.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { BinanceClient, BybitClient, OkxClient, PostgresStorage, Sync } from '../../dist/index.js';

const o = JSON.parse(process.argv[2]);
const UNLIMITED = { limit: 1e12, intervalMs: 60_000 };
const CLIENTS = { binance: BinanceClient, bybit: BybitClient, okx: OkxClient };
const venues = o.venues ?? ['binance', 'bybit', 'okx'];
const clients = venues.map(
  (v) =>
    new CLIENTS[v]({
      baseUrl: o.urls[v],
      now: () => o.now,
      rateLimit: UNLIMITED,
      ...(o.http ? { http: o.http } : {}),
    }),
);
const SERIES_AT_ONCE = 4;

/** Every series' pages, per venue `SERIES_AT_ONCE` series at a time; `onPage` sees each page. */
async function fetchAll(onPage) {
  await Promise.all(
    clients.map(async (client) => {
      let next = 0;
      const worker = async () => {
        while (next < o.symbols.length) {
          const symbol = o.symbols[next++];
          for await (const page of client.candles({ symbol, interval: '1m', from: o.from, to: o.to }))
            onPage(client.venue, symbol, page);
        }
      };
      await Promise.all(Array.from({ length: SERIES_AT_ONCE }, worker));
    }),
  );
}

const sizes = new Map();
const noteSize = (venue, n) => {
  const key = `${venue}:${n}`;
  sizes.set(key, (sizes.get(key) ?? 0) + 1);
};
// The server backends of this process carry an application_name of their own, so that their CPU time
// can be read from /proc (when the server runs on this machine) apart from other sessions'.
const appName = `perpdata_bench_${process.pid}`;
const db = `${o.db}${o.db.includes('?') ? '&' : '?'}application_name=${appName}`;
const storage = (prefix = o.prefix) =>
  new PostgresStorage({ db, schema: o.schema, tablePrefix: prefix, pool: { max: 4 } });
/**
 * Polls the CPU time of this process's server backends (by application_name, from /proc when the
 * server runs on this machine) every 100 ms; `stop()` gives the seconds used by the backends seen, each
 * at its last reading (a backend that ends keeps what it had), or undefined when none could be read.
 */
function meterBackends() {
  const c = new pg.Client({ connectionString: o.db });
  const last = new Map();
  let stopped = false;
  const poll = async () => {
    const { rows } = await c.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [appName]);
    for (const { pid } of rows) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        last.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
      } catch {
        // a backend that just ended, or a server on another machine
      }
    }
  };
  const loop = (async () => {
    try {
      await c.connect();
      while (!stopped) {
        await poll();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await poll();
    } catch {
      // no server statistics: the figure stays undefined
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    await c.end().catch(() => {});
    return last.size > 0 ? [...last.values()].reduce((a, b) => a + b, 0) : undefined;
  };
}
const cpuSeconds = (c) => (c.user + c.system) / 1e6;

let candles = 0;
let seconds = 0;
let cpu = 0;
const extra = {};
if (o.mode === 'client') {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fetchAll((venue, _symbol, page) => {
    candles += page.length;
    noteSize(venue, page.length);
  });
  seconds = (performance.now() - t0) / 1000;
  cpu = cpuSeconds(process.cpuUsage(cpu0));
} else if (o.mode === 'storage') {
  const pages = [];
  await fetchAll((venue, symbol, page) => {
    pages.push({ venue, symbol, page });
    noteSize(venue, page.length);
  });
  for (const c of clients) await c.close();
  const mark = ({ venue, symbol, page }) => ({
    key: { source: venue, exchange: venue, symbol, interval: '1m' },
    from: page[0].ts,
    to: page.at(-1).ts + 60_000,
    state: 'stored',
  });
  const s = storage();
  await s.migrate();
  const stopMeter = meterBackends();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const p of pages) candles += (await s.write('candles', p.page, { coverage: [mark(p)] })).written;
  seconds = (performance.now() - t0) / 1000;
  cpu = cpuSeconds(process.cpuUsage(cpu0));
  extra.pgCpuSeconds = await stopMeter();
  await s.close();
  // The same rows coalesced as the batch writer does (batchRows per write, marks included), fresh tables.
  const b = storage(`${o.prefix}b_`);
  await b.migrate();
  const stopMeterB = meterBackends();
  const cpu1 = process.cpuUsage();
  const t1 = performance.now();
  let rows = [];
  let marks = [];
  let batched = 0;
  for (const p of pages) {
    for (const r of p.page) rows.push(r);
    marks.push(mark(p));
    if (rows.length >= o.batchRows) {
      batched += (await b.write('candles', rows, { coverage: marks })).written;
      rows = [];
      marks = [];
    }
  }
  if (rows.length > 0) batched += (await b.write('candles', rows, { coverage: marks })).written;
  const cpuBatched = cpuSeconds(process.cpuUsage(cpu1));
  extra.batched = { candles: batched, seconds: (performance.now() - t1) / 1000, cpuSeconds: cpuBatched };
  extra.batched.pgCpuSeconds = await stopMeterB();
  await b.close();
} else if (o.mode === 'sync') {
  const s = storage();
  await s.migrate();
  const sync = new Sync({
    storage: s,
    clients,
    symbols: o.symbols,
    kinds: ['candles'],
    intervals: { candles: ['1m'] },
    from: o.from,
    to: o.to,
    now: () => o.now,
    ...o.sync,
  });
  const stopMeter = meterBackends();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await sync.backfill();
  seconds = (performance.now() - t0) / 1000;
  cpu = cpuSeconds(process.cpuUsage(cpu0));
  candles = report.rowsWritten;
  extra.outcomes = [...new Set(report.series.map((r) => r.outcome))];
  extra.fetched = report.series.reduce((n, r) => n + r.rowsFetched, 0);
  extra.pgCpuSeconds = await stopMeter();
  await s.close();
}
for (const c of clients) await c.close().catch(() => {});
const pageSizes = Object.fromEntries(
  [...sizes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([k, n]) => [k, n]),
);
process.stdout.write(
  `${JSON.stringify({ candles, seconds, cpuSeconds: cpu, peakRssMb: process.resourceUsage().maxRSS / 1024, pageSizes, ...extra })}\n`,
);
