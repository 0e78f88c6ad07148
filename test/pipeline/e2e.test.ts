/**
 * `Sync.backfill()` end to end on a real PostgreSQL server with the simulated venues: a clean run is
 * complete and exact; a second run fetches only the tail and changes nothing; venue faults (5xx, a 418
 * ban, a reset) and database faults (a lost COMMIT, the server away for seconds) end in the same
 * database as the clean run; a drifted payload fails only its series.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Interval } from '../../src/core/intervals.js';
import type { BackfillReport } from '../../src/pipeline/index.js';
import { PostgresStorage } from '../../src/storage/index.js';
import { type Simulation, simulateVenues } from '../../src/testing/index.js';
import { instrument, PG_URL } from '../storage/backends.js';
import { suffix } from '../storage/fixtures.js';
import { TcpProxy } from '../storage/tcp-proxy.js';
import { expectDerivedEqualRecompute, readAll } from './derived-check.js';
import {
  dumpSchema,
  FROM,
  HOLES,
  MINUTE,
  NOW,
  type ScenarioUrls,
  SYMBOLS,
  scenarioClients,
  scenarioSync,
} from './scenario.js';

const describeOnPg = PG_URL ? describe : describe.skip;

describeOnPg('Sync.backfill end to end (PostgreSQL, simulated venues)', () => {
  let sim: Simulation;
  let urls: ScenarioUrls;
  const admin = new pg.Pool({ connectionString: PG_URL, max: 3 });
  admin.on('error', () => {});
  const schemas: string[] = [];
  let clean: Record<string, string[]>;
  let cleanSchema: string;
  let cleanReport: BackfillReport;

  /** Runs the scenario into a fresh (or the given) schema and closes everything it opened. */
  async function runInto(
    schema: string,
    options: { db?: string; extra?: Parameters<typeof scenarioSync>[2] } = {},
  ): Promise<BackfillReport> {
    if (!schemas.includes(schema)) schemas.push(schema);
    const storage = new PostgresStorage({ db: options.db ?? (PG_URL as string), schema });
    await storage.migrate();
    const clients = scenarioClients(urls);
    try {
      return await scenarioSync(storage, clients, options.extra).backfill();
    } finally {
      await Promise.all([...clients.map((c) => c.close()), storage.close()]);
    }
  }

  beforeAll(async () => {
    sim = await simulateVenues({ now: () => NOW, holes: HOLES, ws: false });
    const coinalyze = sim.clientOptions('coinalyze');
    urls = {
      binance: sim.urls.binance.baseUrl,
      bybit: sim.urls.bybit.baseUrl,
      okx: sim.urls.okx.baseUrl,
      coinalyze: sim.urls.coinalyze.baseUrl,
      apiKey: coinalyze.apiKey,
    };
    cleanSchema = `perpdata_e2e_${suffix()}`;
    cleanReport = await runInto(cleanSchema);
    clean = await dumpSchema(admin, cleanSchema);
  }, 240_000);

  afterAll(async () => {
    await sim?.close();
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  test('default: every series completes; candles equal the market on their grid; empty intervals are exactly the holes', async () => {
    const failed = cleanReport.series.filter((s) => s.outcome !== 'done');
    expect(failed.map((s) => `${s.id}: ${s.outcome} ${s.error?.message ?? ''}`)).toEqual([]);
    const ids = cleanReport.series.map((s) => s.id);
    // Every kind each venue serves with history is there, for every symbol.
    for (const symbol of SYMBOLS) {
      for (const id of [
        `binance:candles:${symbol}:1m`,
        `binance:funding:${symbol}`,
        `binance:openInterest:${symbol}:5m`,
        `binance:longShortRatio:${symbol}:5m:topPosition`,
        `binance:takerVolume:${symbol}:5m`,
        `bybit:candles:${symbol}:1m`,
        `bybit:openInterest:${symbol}:5m`,
        `okx:candles:${symbol}:1m`,
        `okx:takerVolume:${symbol}:5m`,
        `coinalyze/binance:liquidations:${symbol}`,
      ]) {
        expect(
          ids.some((i) => i.startsWith(id)),
          id,
        ).toBe(true);
      }
    }
    const storage = new PostgresStorage({ db: PG_URL as string, schema: cleanSchema });
    try {
      for (const source of ['binance', 'bybit', 'okx'] as const) {
        for (const symbol of SYMBOLS) {
          const key = { source, exchange: source, symbol, interval: '1m' as Interval };
          const rows = await readAll(storage, 'candles', key);
          const first = Math.ceil(FROM / MINUTE) * MINUTE;
          const end = Math.floor(NOW / MINUTE) * MINUTE;
          const expected: number[] = [];
          for (let ts = first; ts < end; ts += MINUTE) if (sim.market.has(symbol, ts)) expected.push(ts);
          expect(
            rows.map((r) => r.ts),
            `${source} ${symbol}`,
          ).toEqual(expected);
          for (const r of rows) {
            const m = sim.market.candle(symbol, r.ts, MINUTE);
            // Multiplier contracts divide prices by 1000: equal to the market within float rounding.
            const got = [r.open, r.high, r.low, r.close, r.volume];
            const want = [m.open, m.high, m.low, m.close, m.volume];
            got.forEach(
              (v, i) =>
                void expect(Math.abs(v - (want[i] as number)) / (want[i] as number)).toBeLessThan(1e-12),
            );
          }
          const empty = (await storage.coverage('candles', key)).filter((c) => c.state === 'empty');
          expect(
            empty.map((c) => [c.from, c.to]),
            `${source} ${symbol} empty intervals`,
          ).toEqual(HOLES.filter((h) => h.symbol === symbol).map((h) => [h.from, h.to]));
        }
      }
    } finally {
      await storage.close();
    }
  });

  test('default: derived series equal a recompute from the stored inputs (RSI, MT, 1m expansion, taker distribution)', async () => {
    const storage = new PostgresStorage({ db: PG_URL as string, schema: cleanSchema });
    try {
      const compared = await expectDerivedEqualRecompute(storage, {
        sources: ['binance', 'bybit', 'okx'],
        symbols: SYMBOLS,
        trailing: false,
        closedMinute: Math.floor(NOW / MINUTE) * MINUTE,
      });
      expect(compared).toBeGreaterThan(1_000);
    } finally {
      await storage.close();
    }
  });

  test('behavior: a second backfill makes only the tail requests and changes no row', async () => {
    sim.stats.reset();
    const again = await runInto(cleanSchema);
    expect(again.resumed).toBe(true);
    expect(again.rowsWritten).toBe(0);
    // Candles and funding are complete up to the present: not one kline or funding page is asked for again.
    expect(sim.stats.requests('binance', '/fapi/v1/klines')).toBe(0);
    expect(sim.stats.requests('bybit', '/v5/market/kline')).toBe(0);
    expect(sim.stats.requests('okx', '/api/v5/market/history-candles')).toBe(0);
    const total = sim.stats.requests();
    const first = cleanReport.series.reduce((n, s) => n + s.spansFetched, 0);
    const second = again.series.reduce((n, s) => n + s.spansFetched, 0);
    expect(second).toBeLessThan(first / 4);
    expect(total).toBeLessThan(200);
    expect(await dumpSchema(admin, cleanSchema)).toEqual(clean);
  }, 120_000);

  test('resilience: 1% of pages answered 5xx, one 418 ban and one connection reset: the database equals the clean run', async () => {
    const faults = [
      sim.faults.errorRate(0.01, { seed: 7 }),
      sim.faults.resetNext(1, { venue: 'bybit', path: '/v5/market/kline' }),
      sim.faults.ban('binance', { ms: 150 }),
    ];
    try {
      const schema = `perpdata_e2e_${suffix()}`;
      const report = await runInto(schema);
      expect(report.series.filter((s) => s.outcome !== 'done').map((s) => s.id)).toEqual([]);
      expect(faults[0]?.hits).toBeGreaterThan(0);
      expect(faults[1]?.hits).toBe(1);
      expect(await dumpSchema(admin, schema)).toEqual(clean);
    } finally {
      sim.faults.clear();
    }
  }, 240_000);

  test('resilience: a COMMIT lost either side, and the server unreachable for 3 s mid-run: the database equals the clean run', async () => {
    const target = new URL(PG_URL as string);
    const proxy = new TcpProxy({ host: target.hostname || '127.0.0.1', port: Number(target.port || 5432) });
    await proxy.start();
    const url = new URL(PG_URL as string);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const retries: unknown[] = [];
    /** Runs the scenario through the proxy; `arm` is called once the schema is migrated. */
    async function throughProxy(
      arm: (sync: ReturnType<typeof scenarioSync>) => void,
    ): Promise<[string, BackfillReport]> {
      const schema = `perpdata_e2e_${suffix()}`;
      schemas.push(schema);
      const storage = new PostgresStorage({
        db: url.toString(),
        schema,
        pool: { connectionTimeoutMillis: 1_000 },
      });
      await storage.migrate();
      const clients = scenarioClients(urls);
      const sync = scenarioSync(storage, clients, { batchRows: 4_000 });
      sync.on('retry', (e) => retries.push(e));
      arm(sync);
      try {
        return [schema, await sync.backfill()];
      } finally {
        await Promise.all([...clients.map((c) => c.close()), storage.close()]);
      }
    }
    try {
      // The server commits, the answer is lost: the storage learns the outcome and moves on.
      const [schema1, report1] = await throughProxy(() => proxy.trapNextCommit('drop-after'));
      expect(proxy.sprung).toBe(1);
      expect(report1.series.filter((s) => s.outcome !== 'done').map((s) => s.id)).toEqual([]);
      expect(await dumpSchema(admin, schema1)).toEqual(clean);
      // COMMIT never reaches the server, then the server is away for 3 s in the middle of the run.
      const [schema2, report2] = await throughProxy((sync) => {
        proxy.trapNextCommit('drop-before');
        let cut = false;
        sync.on('progress', () => {
          if (cut || proxy.sprung < 2) return;
          cut = true;
          void proxy.stop().then(() => setTimeout(() => void proxy.start(), 3_000));
        });
      });
      expect(proxy.sprung).toBe(2);
      expect(
        report2.series.filter((s) => s.outcome !== 'done').map((s) => `${s.id} ${s.error?.message}`),
      ).toEqual([]);
      expect(retries.length).toBeGreaterThan(0);
      expect(await dumpSchema(admin, schema2)).toEqual(clean);
    } finally {
      await proxy.stop();
    }
  }, 240_000);

  test('resilience: pg_terminate_backend in the middle of a batch: the batch is retried and the database equals the clean run', async () => {
    const schema = `perpdata_e2e_${suffix()}`;
    schemas.push(schema);
    const app = `perpdata_kill_${suffix()}`;
    const url = new URL(PG_URL as string);
    url.searchParams.set('application_name', app);
    const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
    pool.on('error', () => {});
    let writeTransaction = false;
    let writes = 0;
    let killed = 0;
    const { handle } = instrument(pool, {
      async after(text) {
        if (text.startsWith('BEGIN')) writeTransaction = /pg_advisory_xact_lock/.test(text);
      },
      async before(text) {
        if (text !== 'COMMIT' || !writeTransaction || !(++writes === 3 || writes === 12)) return;
        // The write's rows and marks are sent and its COMMIT is not: the server kills the connection
        // while it sits idle in that transaction.
        const { rows } = await admin.query<{ n: number }>(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
            WHERE application_name = $1 AND state = 'idle in transaction'`,
          [app],
        );
        killed += rows[0]?.n ?? 0;
      },
    });
    const storage = new PostgresStorage({ db: handle, schema });
    await storage.migrate();
    writes = 0;
    const clients = scenarioClients(urls);
    const retries: unknown[] = [];
    try {
      const sync = scenarioSync(storage, clients);
      sync.on('retry', (e) => retries.push(e));
      const report = await sync.backfill();
      // Two triggers inside write transactions; each kills the connections idle in a transaction then.
      expect(killed).toBeGreaterThanOrEqual(2);
      expect(retries.length).toBeGreaterThanOrEqual(1);
      expect(report.series.filter((s) => s.outcome !== 'done').map((s) => s.id)).toEqual([]);
      expect(await dumpSchema(admin, schema)).toEqual(clean);
    } finally {
      await Promise.all([...clients.map((c) => c.close()), storage.close()]);
      await pool.end();
    }
  }, 240_000);

  /** Runs the scenario in a child process and SIGKILLs it where it says `KILL ME`; resolves once it is dead. */
  async function killChild(schema: string, kill: 'in-write' | 'after-write', at: number): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/pipeline/child.ts'], {
      env: {
        ...process.env,
        PERPDATA_CHILD: JSON.stringify({ urls, db: PG_URL, schema, kill, at }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.on('exit', (code, signal) => resolve(signal ?? code)),
    );
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('KILL ME')) child.kill('SIGKILL');
    });
    const how = await exited;
    expect(out, err).toContain('KILL ME');
    expect(how).toBe('SIGKILL');
  }

  test.each([
    ['in-write', 1],
    ['in-write', 6],
    ['after-write', 2],
    ['after-write', 9],
  ] as const)(
    'resilience: SIGKILL %s #%i, then a second run: the database equals the clean run row for row, ledger included',
    async (kill, at) => {
      const schema = `perpdata_e2e_${suffix()}`;
      schemas.push(schema);
      const storage = new PostgresStorage({ db: PG_URL as string, schema });
      await storage.migrate();
      await storage.close();
      await killChild(schema, kill, at);
      const partial = await dumpSchema(admin, schema);
      // The kill left the database short of the clean run, but never with a mark its rows do not back.
      expect(partial.candles?.length).toBeLessThan(clean.candles?.length ?? 0);
      const report = await runInto(schema);
      // Resumed exactly when the killed run had committed some ledger marks (other venues' writes go on
      // while one is held).
      expect(report.resumed).toBe((partial.coverage?.length ?? 0) > 0);
      expect(report.series.filter((s) => s.outcome !== 'done').map((s) => s.id)).toEqual([]);
      expect(await dumpSchema(admin, schema)).toEqual(clean);
    },
    120_000,
  );

  test('error: a drifted funding payload fails that series with a ValidationError in perp_errors; every other series completes', async () => {
    const drift = sim.faults.drift('binance', '/fapi/v1/fundingRate', (rows) =>
      (rows as Record<string, unknown>[]).map(({ fundingRate: _, ...rest }) => rest),
    );
    try {
      const schema = `perpdata_e2e_${suffix()}`;
      const report = await runInto(schema);
      expect(drift.hits).toBeGreaterThan(0);
      const bad = report.series.filter((s) => s.outcome === 'error');
      expect(bad.map((s) => s.id).sort()).toEqual(SYMBOLS.map((s) => `binance:funding:${s}`).sort());
      // The MT of Binance funding waits for its members; every other series completes.
      expect(report.series.filter((s) => s.outcome === 'skipped').map((s) => s.id)).toEqual([
        'binance:funding:MT',
      ]);
      expect(report.series.filter((s) => !['done', 'error', 'skipped'].includes(s.outcome))).toEqual([]);
      for (const s of bad) expect(s.error?.name).toBe('ValidationError');
      const { rows } = await admin.query<{ code: string; job: string }>(
        `SELECT code, job FROM "${schema}".perp_errors WHERE job = 'backfill:funding'`,
      );
      expect(rows.length).toBe(3);
      expect(rows.every((r) => r.code === 'VALIDATION')).toBe(true);
      const dump = await dumpSchema(admin, schema);
      expect(dump.candles).toEqual(clean.candles);
      expect(dump.open_interest).toEqual(clean.open_interest);
    } finally {
      sim.faults.clear();
    }
  }, 240_000);
});
