/**
 * Storage write throughput on a real PostgreSQL server, one run, the same 500,000 candle rows for every
 * line (50 series x 10,000 one-minute candles, series after series as a backfill writes them):
 *
 * - `write()` into empty tables (all rows newer than anything stored: the backfill case);
 * - `write()` of the same rows again (all conflicts);
 * - `write()` of rows half stored already (overlap) and of rows newer than stored ones (append);
 * - the naive way the seeds wrote: one `INSERT … ON CONFLICT DO NOTHING` per row (20,000 rows, extrapolated);
 * - binary `COPY` straight into an empty table, same encoder, no checks: the ceiling.
 *
 * Then, per call, at the page sizes a backfill writes (100, 500, 1,500 rows) and one large batch (50,000):
 * `write()` with a ledger mark per call, and without, beside a hand-written `BEGIN; COPY; COMMIT` of the
 * same rows (same encoder) on its own table, calls interleaved, medians of many calls. Each call appends the
 * next page of one series, as a backfill does.
 *
 * Server: `PERPDATA_TEST_DATABASE_URL`, else postgres://postgres@127.0.0.1:5432/test. Everything runs in
 * a schema of its own that is dropped at the end.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { Candle } from '../src/core/types.js';
import { PostgresStorage } from '../src/storage/index.js';
import { encodeCopy, encodeGroupKey } from '../src/storage/postgres/copy.js';
import { columnsOf, copyTarget, tables } from '../src/storage/postgres/sql.js';
import { KIND_SPECS } from '../src/storage/records.js';
import { prepareBatch } from '../src/storage/validate.js';

const URL = process.env.PERPDATA_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const SERIES = 50;
const PER_SERIES = 10_000;
const NAIVE_ROWS = 20_000;
const T0 = Date.UTC(2024, 0, 1);

function candles(from = 0, to = PER_SERIES): Candle[] {
  const rows: Candle[] = [];
  for (let s = 0; s < SERIES; s++) {
    for (let i = from; i < to; i++) {
      const base = 100 + s + Math.sin(i / 50);
      rows.push({
        source: 'binance',
        exchange: 'binance',
        symbol: `SYM${s}`,
        interval: '1m',
        ts: T0 + i * 60_000,
        open: base,
        high: base + 0.5,
        low: base - 0.5,
        close: base + 0.1,
        volume: 1000 + i,
        quoteVolume: (1000 + i) * base,
        trades: 100 + (i % 50),
        takerBuyVolume: 500 + i / 2,
      });
    }
  }
  return rows;
}

interface Line {
  name: string;
  rows: number;
  seconds: number;
  note?: string;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export default async function (): Promise<void> {
  const schema = `perpdata_bench_${Math.random().toString(36).slice(2, 8)}`;
  const pool = new pg.Pool({ connectionString: URL, max: 4 });
  pool.on('error', () => {});
  const storages: PostgresStorage[] = [];
  const open = async (prefix: string, onConflict: 'update' | 'ignore' = 'update') => {
    const storage = new PostgresStorage({ db: pool, schema, tablePrefix: prefix, onConflict });
    await storage.migrate();
    storages.push(storage);
    return storage;
  };
  const checkpoint = () => pool.query('CHECKPOINT').catch(() => undefined);
  const lines: Line[] = [];
  try {
    const all = candles();
    const total = all.length;
    const spec = KIND_SPECS.candles;

    // Ceiling: binary COPY of the same rows into an empty table, in one transaction, encoding included.
    const copyAll = async (prefix: string, rows: Candle[] = all, stored: Candle[] = []) => {
      const storage = await open(prefix);
      if (stored.length > 0) await storage.write('candles', stored);
      await checkpoint();
      const target = copyTarget(spec, tables(schema, prefix), false);
      const client = await pool.connect();
      try {
        return await timed(async () => {
          const batch = prepareBatch('candles', rows, 'update');
          const keys = batch.groups.map(encodeGroupKey);
          await client.query('BEGIN');
          const stream = client.query(copyStreams.from(`COPY ${target} FROM STDIN WITH (FORMAT binary)`));
          await pipeline(Readable.from(encodeCopy(spec, batch.rows, batch.groupOf, keys)), stream);
          await client.query('COMMIT');
        });
      } finally {
        client.release();
      }
    };
    // A first, unmeasured COPY warms the server (WAL segments, caches) so that line 1 is not penalised.
    await copyAll('warmup_');
    await pool.query(`DROP TABLE "${schema}"."warmup_candles"`);
    lines.push({
      name: 'COPY into an empty table (ceiling)',
      rows: total,
      seconds: await copyAll('ceiling_'),
    });

    // write() into empty tables, then the same rows again.
    const storage = await open('write_');
    await checkpoint();
    let written = 0;
    lines.push({
      name: 'write() into empty tables',
      rows: total,
      seconds: await timed(async () => {
        written = (await storage.write('candles', all)).written;
      }),
    });
    (lines[lines.length - 1] as Line).note = `written ${written}`;
    await checkpoint();
    lines.push({
      name: 'write() same rows again (all conflicts)',
      rows: total,
      seconds: await timed(async () => {
        written = (await storage.write('candles', all)).written;
      }),
    });
    (lines[lines.length - 1] as Line).note = `written ${written}`;

    // Append: half of each series stored, the newer half written.
    const append = await open('append_');
    await append.write('candles', candles(0, PER_SERIES / 2));
    await checkpoint();
    const newer = candles(PER_SERIES / 2, PER_SERIES);
    lines.push({
      name: 'write() appending newer rows onto stored ones',
      rows: newer.length,
      seconds: await timed(async () => {
        written = (await append.write('candles', newer)).written;
      }),
    });
    (lines[lines.length - 1] as Line).note = `written ${written}`;
    // The same append done by raw COPY: what the table's state allows (rows go into the middle of the
    // primary key, one insertion point per series, where an empty table only grows at its right edge).
    lines.push({
      name: 'COPY appending onto the same stored rows',
      rows: newer.length,
      seconds: await copyAll('append_copy_', newer, candles(0, PER_SERIES / 2)),
      note: 'ceiling for the append line',
    });

    // Overlap: the older half of each series stored, the whole range written.
    const overlap = await open('overlap_');
    await overlap.write('candles', candles(0, PER_SERIES / 2));
    await checkpoint();
    lines.push({
      name: 'write() half stored, half new (overlap)',
      rows: total,
      seconds: await timed(async () => {
        written = (await overlap.write('candles', all)).written;
      }),
    });
    (lines[lines.length - 1] as Line).note = `written ${written}`;

    // Same conflicts under onConflict: 'ignore'.
    const ignore = await open('ignore_', 'ignore');
    await ignore.write('candles', all);
    await checkpoint();
    lines.push({
      name: "write() all conflicts, onConflict 'ignore'",
      rows: total,
      seconds: await timed(async () => {
        written = (await ignore.write('candles', all)).written;
      }),
    });
    (lines[lines.length - 1] as Line).note = `written ${written}`;

    // The seeds' way: one INSERT … ON CONFLICT DO NOTHING per row, autocommit.
    await open('naive_');
    await checkpoint();
    const cols = columnsOf(spec);
    const naiveSql = `INSERT INTO ${tables(schema, 'naive_').qualified('candles')} (${cols.map((c) => `"${c.name}"`).join(', ')}) VALUES (${cols.map((c, i) => (c.type === 'time' ? `to_timestamp($${i + 1}::float8 / 1000)` : `$${i + 1}`)).join(', ')}) ON CONFLICT DO NOTHING`;
    const sample = all.slice(0, NAIVE_ROWS);
    const naive = await pool.connect();
    try {
      lines.push({
        name: 'per-row INSERT … ON CONFLICT DO NOTHING',
        rows: NAIVE_ROWS,
        seconds: await timed(async () => {
          for (const row of sample) {
            const r = row as unknown as Record<string, unknown>;
            await naive.query(
              naiveSql,
              cols.map((c) => r[c.field] ?? null),
            );
          }
        }),
        note: `${NAIVE_ROWS} rows, extrapolated`,
      });
    } finally {
      naive.release();
    }

    const rate = (line: Line) => line.rows / line.seconds;
    const ceiling = rate(lines[0] as Line);
    const perRow = rate(lines[lines.length - 1] as Line);
    const fmt = (n: number, digits = 0) =>
      n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
    console.log(
      `PostgreSQL: ${(await pool.query('SHOW server_version')).rows[0]?.server_version}; rows per line: ${total.toLocaleString('en-US')} (per-row: ${NAIVE_ROWS.toLocaleString('en-US')})`,
    );
    const header = ['case', 'rows', 'seconds', 'rows/s', 'x COPY', 'x per-row', 'note'];
    const body = lines.map((l) => [
      l.name,
      fmt(l.rows),
      fmt(l.seconds, 2),
      fmt(rate(l)),
      fmt(rate(l) / ceiling, 2),
      fmt(rate(l) / perRow, 1),
      l.note ?? '',
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
    const print = (cells: string[]) =>
      console.log(
        cells
          .map((c, i) =>
            i === 0 || i === cells.length - 1
              ? c.padEnd(widths[i] as number)
              : c.padStart(widths[i] as number),
          )
          .join('  '),
      );
    print(header);
    print(widths.map((w) => '-'.repeat(w)));
    for (const row of body) print(row);
    const goal = (name: string, value: number, target: number) =>
      console.log(`${value >= target ? 'meets' : 'MISSES'} goal: ${name} ${fmt(value, 2)} (goal ${target})`);
    const byName = (prefix: string) => rate(lines.find((l) => l.name.startsWith(prefix)) as Line);
    goal('append (empty tables) / COPY', byName('write() into empty') / ceiling, 0.8);
    goal('append (newer rows) / COPY into an empty table', byName('write() appending') / ceiling, 0.8);
    goal(
      'append (newer rows) / COPY appending onto the same stored rows',
      byName('write() appending') / byName('COPY appending'),
      0.8,
    );
    goal('all conflicts / COPY', byName('write() same rows') / ceiling, 0.5);
    goal('half overlap / COPY', byName('write() half stored') / ceiling, 0.5);
    const slowest = Math.min(...lines.filter((l) => l.name.startsWith('write()')).map(rate));
    // x COPY in the table is against the first line, COPY into an empty table.
    goal('slowest write() / per-row', slowest / perRow, 50);
    await perCall(pool, schema, open, checkpoint);
  } finally {
    for (const s of storages) await s.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

/** Median of a list of numbers. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** One series' candles `[from, from + n)` (index of the minute). */
function page(symbol: string, from: number, n: number): Candle[] {
  const rows: Candle[] = [];
  for (let i = from; i < from + n; i++) {
    const base = 100 + Math.sin(i / 50);
    rows.push({
      source: 'binance',
      exchange: 'binance',
      symbol,
      interval: '1m',
      ts: T0 + i * 60_000,
      open: base,
      high: base + 0.5,
      low: base - 0.5,
      close: base + 0.1,
      volume: 1000 + i,
      quoteVolume: (1000 + i) * base,
      trades: 100 + (i % 50),
      takerBuyVolume: 500 + i / 2,
    });
  }
  return rows;
}

/**
 * Per-call cost of `write()` (with a ledger mark, and without) beside `BEGIN; COPY; COMMIT` of the same
 * rows, at 100, 500, 1,500 and 50,000 rows per call.
 */
async function perCall(
  pool: pg.Pool,
  schema: string,
  open: (prefix: string) => Promise<PostgresStorage>,
  checkpoint: () => Promise<unknown>,
): Promise<void> {
  const spec = KIND_SPECS.candles;
  const sizes = [
    { rows: 100, calls: 300 },
    { rows: 500, calls: 150 },
    { rows: 1_500, calls: 80 },
    { rows: 50_000, calls: 8 },
  ];
  const fmt = (n: number, digits = 2) =>
    n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  console.log(
    '\nper call, appending to one series (median ms of interleaved calls; x COPY = COPY ms / write() ms, higher is better)',
  );
  const header = ['rows/call', 'calls', 'COPY ms', 'write()+mark ms', 'x COPY', 'write() ms', 'x COPY'];
  const table: string[][] = [];
  for (const { rows, calls } of sizes) {
    const baselinePrefix = `pc${rows}_copy_`;
    await open(baselinePrefix);
    const marked = await open(`pc${rows}_mark_`);
    const plain = await open(`pc${rows}_plain_`);
    const target = copyTarget(spec, tables(schema, baselinePrefix), false);
    const client = await pool.connect();
    const times = { copy: [] as number[], marked: [] as number[], plain: [] as number[] };
    try {
      const copy = async (batchRows: Candle[]) => {
        const batch = prepareBatch('candles', batchRows, 'update');
        const keys = batch.groups.map(encodeGroupKey);
        await client.query('BEGIN');
        const stream = client.query(copyStreams.from(`COPY ${target} FROM STDIN WITH (FORMAT binary)`));
        await pipeline(Readable.from(encodeCopy(spec, batch.rows, batch.groupOf, keys)), stream);
        await client.query('COMMIT');
      };
      await checkpoint();
      const warmup = Math.min(5, calls);
      for (let call = 0; call < calls + warmup; call++) {
        const start = call * rows;
        const batch = page('BTC', start, rows);
        const key = { source: 'binance', exchange: 'binance', symbol: 'BTC', interval: '1m' } as const;
        const mark = {
          key,
          from: T0 + start * 60_000,
          to: T0 + (start + rows) * 60_000,
          state: 'stored' as const,
        };
        // Rotate the order so that none of the three always runs right after another.
        const runs: [keyof typeof times, () => Promise<unknown>][] = [
          ['copy', () => copy(batch)],
          ['marked', () => marked.write('candles', batch, { coverage: [mark] })],
          ['plain', () => plain.write('candles', batch)],
        ];
        for (let r = 0; r < 3; r++) {
          const [name, run] = runs[(r + call) % 3] as [keyof typeof times, () => Promise<unknown>];
          const t = process.hrtime.bigint();
          await run();
          if (call >= warmup) times[name].push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }
    } finally {
      client.release();
    }
    const c = median(times.copy);
    const m = median(times.marked);
    const p = median(times.plain);
    table.push([rows.toLocaleString('en-US'), String(calls), fmt(c), fmt(m), fmt(c / m), fmt(p), fmt(c / p)]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] as string).length)));
  const print = (cells: string[]) =>
    console.log(cells.map((x, i) => x.padStart(widths[i] as number)).join('  '));
  print(header);
  print(widths.map((w) => '-'.repeat(w)));
  for (const row of table) print(row);
}
