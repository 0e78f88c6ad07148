/**
 * examples/dashboard: its JSON API over a database filled in-process by the simulated pipeline
 * (`Sync.backfill()` of BTC and ETH on the three simulated venues, derived series included, on a frozen
 * clock, with a BTC outage that the ledger records as empty) plus one candle series written with a
 * ledger of every state: PostgreSQL in a schema of its own when `PERPDATA_TEST_DATABASE_URL` is set
 * (dropped afterwards), in-memory PGlite otherwise. Every endpoint, the 400s, pagination, the static
 * files, the whitelist against the storage's own table specs, the read-only role of the README
 * (PostgreSQL only) and the CLI's flags.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KIND_TABLES, KINDS, type Queryable } from '../../examples/dashboard/queries.js';
import { type Dashboard, startDashboard } from '../../examples/dashboard/server.js';
import { createClients, DERIVE } from '../../examples/lib/setup.js';
import { DATA_KINDS, PostgresStorage, Sync, type VenueClient } from '../../src/index.js';
import { KIND_SPECS, keyFields } from '../../src/storage/records.js';
import { type Simulation, simulateVenues } from '../../src/testing/index.js';
import { dropSchema, FIXTURE_SYMBOL, HOUR, MINUTE, writeFixtureSeries } from './dashboard-fixture.js';
import { ROOT, runExample } from './example-process.js';

const PG_URL = process.env.PERPDATA_TEST_DATABASE_URL || undefined;
const T = Date.UTC(2025, 0, 15, 12, 0);
const FROM = T - 3 * HOUR;
const OUTAGE = { symbol: 'BTC', from: T - 90 * MINUTE, to: T - 70 * MINUTE };
const SCHEMA = `dashboard_api_${process.pid}`;

interface Got {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of the API, checked field by field
  body: any;
  headers: Headers;
  text: string;
}

describe('examples/dashboard API', () => {
  let storage: PostgresStorage;
  let dashboard: Dashboard;
  let sim: Simulation | undefined;
  const clients: VenueClient[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  let fixture: Awaited<ReturnType<typeof writeFixtureSeries>>;
  let handle: Queryable;

  const get = async (path: string, init?: RequestInit, base = dashboard.url): Promise<Got> => {
    const res = await fetch(new URL(path, base), init);
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, body, headers: res.headers, text };
  };

  beforeAll(async () => {
    let db: pg.Pool | PGlite;
    if (PG_URL) {
      const pool = new pg.Pool({ connectionString: PG_URL, max: 6 });
      closers.push(
        () => pool.end(),
        () => dropSchema(PG_URL, SCHEMA),
      );
      db = pool;
    } else {
      const lite = new PGlite();
      closers.push(() => lite.close());
      db = lite;
    }
    handle = db;
    storage = new PostgresStorage({ db, schema: SCHEMA });
    await storage.migrate();
    sim = await simulateVenues({ now: () => T, holes: [OUTAGE], ws: false, unlimited: true });
    clients.push(...createClients(['binance', 'bybit', 'okx'], sim, undefined));
    const sync = new Sync({
      storage,
      clients,
      symbols: ['BTC', 'ETH'],
      from: FROM,
      derive: DERIVE,
      now: () => T,
    });
    const report = await sync.backfill();
    expect(report.series.filter((r) => r.outcome === 'error')).toEqual([]);
    fixture = await writeFixtureSeries(storage, FROM);
    await storage.logError({ job: 'dashboard-test', message: 'a test error', code: 'TEST', ts: T - MINUTE });
    dashboard = await startDashboard({ db, schema: SCHEMA, now: () => T, seriesCacheMs: 0, port: 0 });
  }, 120_000);

  afterAll(async () => {
    await dashboard?.close();
    await Promise.allSettled(clients.map((c) => c.close()));
    await sim?.close();
    await storage?.close();
    // The pool first, then the schema.
    for (const close of closers) await close();
  });

  it('the whitelist of tables and columns is the storage’s own', () => {
    expect(KINDS).toEqual([...DATA_KINDS]);
    for (const kind of DATA_KINDS) {
      const spec = KIND_SPECS[kind];
      const t = KIND_TABLES[kind];
      expect(t.table, kind).toBe(spec.table);
      expect(t.hasInterval, kind).toBe(spec.hasInterval);
      expect(t.variantColumn, kind).toBe(spec.subKey?.field);
      expect(t.variants, kind).toEqual(spec.subKey?.values);
      expect(
        t.values.map((v) => [v.column, v.field, v.time === true]),
        kind,
      ).toEqual(spec.values.map((v) => [v.column, v.field, v.type === 'time']));
      expect(keyFields(spec).length, kind).toBe(3 + (t.hasInterval ? 1 : 0) + (t.variantColumn ? 1 : 0));
    }
  });

  it('GET /health: database up, every table present, schema version', async () => {
    const r = await get('/health');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.body).toMatchObject({ ok: true, database: 'up', schema: SCHEMA, tablePrefix: 'perp_', now: T });
    expect(r.body.schemaVersion).toBeGreaterThanOrEqual(3);
    expect(Object.keys(r.body.tables).sort()).toEqual(
      [
        ...DATA_KINDS.map((k) => `perp_${KIND_SPECS[k].table}`),
        'perp_coverage',
        'perp_status',
        'perp_errors',
        'perp_migrations',
      ].sort(),
    );
    expect(Object.values(r.body.tables).every((present) => present === true)).toBe(true);
    expect((await get('/health?verbose=1')).status).toBe(400);
    expect((await get('/health', { method: 'HEAD' })).status).toBe(200);
  });

  it('GET /health on a schema without tables says which are missing; a prefix with none is the same', async () => {
    for (const [schema, prefix] of [
      ['dashboard_nothing_here', 'perp_'],
      [SCHEMA, 'other_'],
    ] as const) {
      const other = await startDashboard({
        db: handle,
        schema,
        tablePrefix: prefix,
        port: 0,
      });
      try {
        const r = await get('/health', undefined, other.url);
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({ ok: false, database: 'up', schemaVersion: 0 });
        expect(r.body.message).toContain(`missing tables in schema ${schema}: ${prefix}candles`);
        const series = await get('/api/series', undefined, other.url);
        expect(series.status).toBe(200);
        expect(series.body.series).toEqual([]);
      } finally {
        await other.close();
      }
    }
  });

  it('GET /health is 503 when the database is down', async () => {
    const down = await startDashboard({
      db: { query: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')) },
      port: 0,
    });
    try {
      const r = await get('/health', undefined, down.url);
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({
        ok: false,
        database: 'down',
        message: expect.stringContaining('ECONNREFUSED'),
      });
      const series = await get('/api/series', undefined, down.url);
      expect(series.status).toBe(500);
      expect(series.body).toMatchObject({ error: 'database error' });
    } finally {
      await down.close();
    }
  });

  it('GET /api/series: every series with rows, ends, ledger, holes and lag', async () => {
    const r = await get('/api/series');
    expect(r.status).toBe(200);
    expect(r.body.now).toBe(T);
    const series = r.body.series as {
      kind: string;
      source: string;
      exchange: string;
      symbol: string;
      interval: string;
      variant: string;
      rows: number;
      first: number | null;
      last: number | null;
      end: number | null;
      lagMs: number | null;
      coverage: {
        from: number | null;
        to: number | null;
        intervals: { from: number; to: number; state: string; reason?: string }[];
        holes: { from: number; to: number }[];
        storedMs: number;
        emptyMs: number;
        missingMs: number;
      };
    }[];
    const find = (kind: string, exchange: string, symbol: string, interval: string, variant = '') =>
      series.find(
        (s) =>
          s.kind === kind &&
          s.exchange === exchange &&
          s.symbol === symbol &&
          s.interval === interval &&
          s.variant === variant,
      );
    // Every venue's candles, RSI and long/short ratios; kinds in DATA_KINDS order.
    for (const venue of ['binance', 'bybit', 'okx'])
      for (const symbol of ['BTC', 'ETH', 'MT']) {
        expect(find('candles', venue, symbol, '1m'), `${venue} ${symbol}`).toBeDefined();
        expect(find('indicators', venue, symbol, '1m', 'rsi14'), `${venue} ${symbol} rsi14`).toBeDefined();
      }
    expect(find('longShortRatio', 'binance', 'BTC', '5m', 'topAccount')).toBeDefined();
    const order = series.map((s) => DATA_KINDS.indexOf(s.kind as never));
    expect(order).toEqual([...order].sort((a, b) => a - b));

    // BTC candles: rows, ends and ledger as the storage has them; the outage is an empty interval.
    const key = { source: 'binance', exchange: 'binance', symbol: 'BTC', interval: '1m' } as const;
    const btc = find('candles', 'binance', 'BTC', '1m')!;
    const ts: number[] = [];
    for await (const page of storage.read('candles', key, 0, T + HOUR)) for (const c of page) ts.push(c.ts);
    expect(btc.rows).toBe(ts.length);
    expect(btc.first).toBe(ts[0]);
    expect(btc.last).toBe(ts.at(-1));
    const ledger = await storage.coverage('candles', key);
    expect(btc.coverage.intervals).toEqual(ledger);
    expect(btc.coverage.intervals.map((i) => i.state)).toEqual(['stored', 'empty', 'stored']);
    expect(btc.coverage.intervals[1]).toMatchObject({ from: OUTAGE.from, to: OUTAGE.to });
    expect(btc.coverage.holes).toEqual([]);
    expect(btc.coverage.emptyMs).toBe(OUTAGE.to - OUTAGE.from);
    expect(btc.end).toBe(ledger.at(-1)?.to);
    expect(btc.lagMs).toBe(T - (btc.end as number));

    // The fixture: stored, empty, a hole, stored.
    const sol = find('candles', 'binance', FIXTURE_SYMBOL, '1m')!;
    expect(sol.rows).toBe(fixture.rows);
    expect(sol.coverage.intervals.map((i) => [i.state, i.from, i.to, i.reason])).toEqual([
      ['stored', fixture.stored1.from, fixture.stored1.to, undefined],
      ['empty', fixture.empty.from, fixture.empty.to, fixture.empty.reason],
      ['stored', fixture.stored2.from, fixture.stored2.to, undefined],
    ]);
    expect(sol.coverage.holes).toEqual([fixture.hole]);
    expect(sol.coverage).toMatchObject({
      from: fixture.stored1.from,
      to: fixture.stored2.to,
      storedMs: 80 * MINUTE,
      emptyMs: 20 * MINUTE,
      missingMs: 20 * MINUTE,
    });
    expect(sol.lagMs).toBe(T - fixture.stored2.to);

    // Liquidations: a ledger of empty intervals and no rows.
    const liq = series.find((s) => s.kind === 'liquidations');
    if (liq) expect(liq.rows === 0 || liq.first !== null).toBe(true);

    const only = await get('/api/series?kind=indicators');
    expect(only.status).toBe(200);
    expect(only.body.series.length).toBeGreaterThan(0);
    expect(only.body.series.every((s: { kind: string }) => s.kind === 'indicators')).toBe(true);
    const bad = await get('/api/series?kind=trades');
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].param).toBe('kind');
  });

  it('GET /api/data/:kind pages through a series newest first, then oldest first, with no row twice', async () => {
    const key = { source: 'okx', exchange: 'okx', symbol: 'ETH', interval: '1m' } as const;
    const stored: { ts: number; close: number; volume: number }[] = [];
    for await (const page of storage.read('candles', key, 0, T + HOUR)) stored.push(...page);
    expect(stored.length).toBeGreaterThan(150);

    for (const order of ['desc', 'asc'] as const) {
      let url: string | null =
        `/api/data/candles?exchange=okx&symbol=ETH&interval=1m&limit=50&order=${order}`;
      const seen: number[] = [];
      let pages = 0;
      while (url) {
        const r: Got = await get(url);
        expect(r.status, url).toBe(200);
        expect(r.body.total).toBe(stored.length);
        expect(r.body.rows.length).toBeLessThanOrEqual(50);
        if (r.body.next) expect(r.body.rows.length).toBe(50);
        seen.push(...r.body.rows.map((row: { ts: number }) => row.ts));
        url = r.body.nextUrl;
        pages++;
      }
      expect(pages).toBe(Math.ceil(stored.length / 50));
      const expected = stored.map((c) => c.ts);
      expect(seen).toEqual(order === 'asc' ? expected : [...expected].reverse());
    }

    // Values as stored; a range given as ISO dates; `total` counts the range.
    const r = await get(
      `/api/data/candles?exchange=okx&symbol=eth&interval=1m&order=asc&limit=3&from=${new Date(stored[10]!.ts).toISOString()}&to=${stored[20]!.ts}`,
    );
    expect(r.status).toBe(200);
    expect(r.body.series).toEqual({
      kind: 'candles',
      source: 'okx',
      exchange: 'okx',
      symbol: 'ETH',
      interval: '1m',
      variant: '',
    });
    expect(r.body.total).toBe(10);
    expect(r.body.rows.map((row: { ts: number }) => row.ts)).toEqual(stored.slice(10, 13).map((c) => c.ts));
    expect(r.body.rows[0]).toMatchObject({ close: stored[10]!.close, volume: stored[10]!.volume });
    expect(r.body.next).toEqual({ cursor: stored[12]!.ts });
    const after = await get(r.body.nextUrl);
    expect(after.body.total).toBe(10);
    expect(after.body.rows.map((row: { ts: number }) => row.ts)).toEqual(
      stored.slice(13, 16).map((c) => c.ts),
    );
  });

  it('GET /api/data/:kind serves every kind’s key shape: variants, no interval, the fixture', async () => {
    const rsi = await get(
      '/api/data/indicators?exchange=binance&symbol=BTC&interval=1m&variant=rsi14&limit=5',
    );
    expect(rsi.status).toBe(200);
    expect(rsi.body.rows).toHaveLength(5);
    for (const row of rsi.body.rows) expect(row.value).toBeGreaterThanOrEqual(0);
    const lsr = await get(
      '/api/data/longShortRatio?exchange=binance&symbol=BTC&interval=5m&variant=global&limit=2',
    );
    expect(lsr.status).toBe(200);
    expect(Object.keys(lsr.body.rows[0]).sort()).toEqual(['longShare', 'ratio', 'shortShare', 'ts']);
    const funding = await get('/api/data/funding?exchange=okx&symbol=BTC');
    expect(funding.status).toBe(200);
    expect(funding.body.series.interval).toBe('');
    const sol = await get(
      `/api/data/candles?exchange=binance&symbol=${FIXTURE_SYMBOL}&interval=1m&limit=5000`,
    );
    expect(sol.body.rows).toHaveLength(fixture.rows);
    expect(sol.body.next).toBeNull();
    const none = await get('/api/data/candles?exchange=bybit&symbol=DOGE&interval=1m');
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ rows: [], total: 0, next: null });
  });

  it('a bad parameter of /api/data is a 400 that names it', async () => {
    const base = '/api/data/candles?exchange=binance&symbol=BTC&interval=1m';
    const cases: [string, string, RegExp][] = [
      ['/api/data/trades?exchange=binance&symbol=BTC', 'kind', /unknown kind "trades" \(one of candles,/],
      ['/api/data/candles?symbol=BTC&interval=1m', 'exchange', /required/],
      ['/api/data/candles?exchange=kraken&symbol=BTC&interval=1m', 'exchange', /one of binance, bybit, okx/],
      ['/api/data/candles?exchange=binance&interval=1m', 'symbol', /required/],
      ['/api/data/candles?exchange=binance&symbol=BTC-USDT&interval=1m', 'symbol', /base asset/],
      ['/api/data/candles?exchange=binance&symbol=BTC', 'interval', /required for candles/],
      [`${base.replace('1m', '7m')}`, 'interval', /must be one of 1m 3m/],
      ['/api/data/funding?exchange=binance&symbol=BTC&interval=8h', 'interval', /funding has no interval/],
      ['/api/data/indicators?exchange=binance&symbol=BTC&interval=1m', 'variant', /required for indicators/],
      [
        '/api/data/longShortRatio?exchange=binance&symbol=BTC&interval=5m&variant=all',
        'variant',
        /global, topAccount, topPosition/,
      ],
      [`${base}&variant=rsi14`, 'variant', /candles has no variant/],
      [`${base}&source=kraken`, 'source', /must be one of/],
      [`${base}&limit=0`, 'limit', /from 1 to 5000/],
      [`${base}&limit=5001`, 'limit', /from 1 to 5000/],
      [`${base}&limit=ten`, 'limit', /whole number/],
      [`${base}&from=yesterday`, 'from', /is not a time/],
      [`${base}&to=2024-13-45`, 'to', /is not a time/],
      [`${base}&from=2024-06-02&to=2024-06-01`, 'to', /must be after from/],
      [`${base}&order=newest`, 'order', /asc or desc/],
      [`${base}&cursor=soon`, 'cursor', /is not a time/],
      [`${base}&limit=1&limit=2`, 'limit', /given more than once/],
      [`${base}&sql=1`, 'sql', /unknown parameter/],
      [`${base}&symbol=x'%3B%20DROP%20TABLE%20perp_candles%3B--`, 'symbol', /given more than once/],
      ['/api/data/candles?exchange=binance&symbol=x%27%3BDROP&interval=1m', 'symbol', /base asset/],
    ];
    for (const [url, param, message] of cases) {
      const r = await get(url);
      expect(r.status, url).toBe(400);
      expect(r.body.error, url).toBe('bad request');
      const issue = r.body.issues.find((i: { param: string }) => i.param === param);
      expect(issue, `${url}: ${r.text}`).toBeDefined();
      expect(issue.message, url).toMatch(message);
      expect(r.body.message, url).toContain(`${param}: `);
    }
    // Several at once are all named.
    const many = await get('/api/data/candles?exchange=nope&limit=0');
    expect(many.body.issues.map((i: { param: string }) => i.param).sort()).toEqual([
      'exchange',
      'limit',
      'symbol',
    ]);
    // The tables are still there.
    expect((await get(base)).status).toBe(200);
  });

  it('GET /api/status: jobs, status rows, counts and recent errors; filtered by job; limited', async () => {
    const r = await get('/api/status');
    expect(r.status).toBe(200);
    expect(r.body.now).toBe(T);
    const job = r.body.jobs.find((j: { job: string }) => j.job === 'backfill');
    expect(job).toMatchObject({ series: '', status: 'done' });
    expect(r.body.status.length).toBeGreaterThan(20);
    const total = Object.values(r.body.counts as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(r.body.status.length);
    const updated = r.body.status.map((s: { updatedAt: number }) => s.updatedAt);
    expect(updated).toEqual([...updated].sort((a, b) => b - a));
    expect(r.body.errors[0]).toMatchObject({
      job: 'dashboard-test',
      code: 'TEST',
      message: 'a test error',
      ts: T - MINUTE,
    });

    const limited = await get('/api/status?limit=3');
    expect(limited.body.status).toHaveLength(3);
    expect(limited.body.jobs.some((j: { job: string }) => j.job === 'backfill')).toBe(true);
    const candles = await get('/api/status?job=backfill:candles');
    expect(candles.body.status.length).toBeGreaterThan(0);
    expect(candles.body.status.every((s: { job: string }) => s.job === 'backfill:candles')).toBe(true);
    expect(candles.body.errors).toEqual([]);
    const errors = await get('/api/status?job=dashboard-test');
    expect(errors.body.errors).toHaveLength(1);

    for (const url of [
      '/api/status?limit=0',
      '/api/status?limit=1001',
      '/api/status?job=a%20b',
      '/api/status?jobs=x',
    ]) {
      const bad = await get(url);
      expect(bad.status, url).toBe(400);
      expect(bad.body.issues.length, url).toBeGreaterThan(0);
    }
  });

  it('serves the page and the chart library; 404 for anything else; GET and HEAD only', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.text).toContain('id="status"');
    expect(page.text).toBe(await readFile(join(ROOT, 'examples/dashboard/public/index.html'), 'utf8'));
    for (const path of ['/app.js', '/style.css', '/vendor/lightweight-charts.mjs']) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.text.length, path).toBeGreaterThan(1000);
    }
    expect((await get('/vendor/lightweight-charts.mjs')).text).toContain('createChart');
    for (const path of [
      '/nope',
      '/api/nope',
      '/api/data',
      '/api/data/candles/x',
      '/../package.json',
      '/public/app.js',
      '/%2e%2e/package.json',
    ]) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(r.body.error, path).toBe('not found');
    }
    const post = await get('/api/series', { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it.skipIf(!PG_URL)('the read-only role of the README reads everything and writes nothing', async () => {
    const readme = await readFile(join(ROOT, 'examples/dashboard/README.md'), 'utf8');
    const block = /## A read-only role[\s\S]*?```sql\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const role = `dashboard_ro_${process.pid}`;
    const sql = (block as string)
      .replaceAll('perpdata_dashboard', role)
      .replaceAll('perpdata_writer', 'postgres')
      .replaceAll('DATABASE perpdata', `DATABASE "${new URL(PG_URL!).pathname.slice(1)}"`)
      .replaceAll('SCHEMA public', `SCHEMA ${SCHEMA}`);
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const url = new URL(PG_URL!);
    url.username = role;
    url.password = 'change-me';
    const reader = new pg.Pool({ connectionString: url.toString(), max: 2 });
    try {
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.query(sql);
      const ro = await startDashboard({ db: reader, schema: SCHEMA, now: () => T, port: 0 });
      try {
        const health = await get('/health', undefined, ro.url);
        expect(health.body).toMatchObject({ ok: true, database: 'up' });
        const series = await get('/api/series', undefined, ro.url);
        expect(series.status).toBe(200);
        expect(series.body.series.length).toBeGreaterThan(50);
        expect((await get('/api/status', undefined, ro.url)).body.errors.length).toBe(1);
      } finally {
        await ro.close();
      }
      await expect(reader.query(`DELETE FROM "${SCHEMA}".perp_errors`)).rejects.toThrow(
        /read-only transaction|permission denied/,
      );
      await expect(
        reader.query(`BEGIN READ WRITE; DELETE FROM "${SCHEMA}".perp_errors; COMMIT`),
      ).rejects.toThrow(/permission denied/);
    } finally {
      await reader.end();
      await admin.query(`DROP OWNED BY ${role}`).catch(() => {});
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });
});

describe('examples/dashboard/main.ts flags', () => {
  it('--help prints the usage and exits 0', async () => {
    const run = await runExample('dashboard/main.ts', ['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: /);
    for (const flag of [
      '--port',
      '--host',
      '--schema',
      '--table-prefix',
      '--data-dir',
      '--simulate',
      '--symbols',
      '--from',
      'DASHBOARD_DATABASE_URL',
    ])
      expect(run.stdout).toContain(flag);
  });

  it('a bad flag or value exits 2 with a message', async () => {
    const [flag, port, schema, notSimulated, missing] = await Promise.all([
      runExample('dashboard/main.ts', ['--bogus']),
      runExample('dashboard/main.ts', ['--port', '99999']),
      runExample('dashboard/main.ts', ['--schema', 'Bad-Name']),
      runExample('dashboard/main.ts', ['--symbols', 'BTC']),
      runExample('dashboard/main.ts', ['--data-dir', join(ROOT, '.perpdata', `no-such-db-${process.pid}`)]),
    ]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--bogus'");
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--port: "99999" is not a port');
    expect(schema.code).toBe(2);
    expect(schema.stderr).toContain('--schema');
    expect(notSimulated.code).toBe(2);
    expect(notSimulated.stderr).toContain('--symbols applies to --simulate only');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no database in');
  });
});
