import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { InvalidArgumentError, StorageError } from '../../src/core/errors.js';
import { DATA_KINDS } from '../../src/core/types.js';
import {
  openPostgresStorage,
  type PGliteLike,
  type PGliteTransactionLike,
  type PgPoolLike,
  PostgresStorage,
  type PostgresStorageOptions,
} from '../../src/storage/index.js';
import { MIGRATION_LOCK_CLASS } from '../../src/storage/postgres/migrations.js';
import { BACKENDS, type Backend, instrument, openBackend, PG_URL, type Recorded } from './backends.js';
import { storageContract } from './contract.js';
import { BTC_1M, candles, collect, MINUTE, suffix, T0 } from './fixtures.js';

const backends = new Map<string, Backend>();
const opened: PostgresStorage[] = [];
let prefixes = 0;

beforeAll(async () => {
  for (const name of BACKENDS) backends.set(name, await openBackend(name));
});

afterAll(async () => {
  for (const storage of opened) await storage.close();
  for (const backend of backends.values()) await backend.close();
});

function backend(name: string): Backend {
  const found = backends.get(name);
  if (!found) throw new Error(`backend ${name} is not open`);
  return found;
}

/** A migrated storage on fresh tables (own prefix) of a backend. */
async function openOn(
  name: string,
  options: Partial<PostgresStorageOptions> = {},
): Promise<{ storage: PostgresStorage; prefix: string; b: Backend }> {
  const b = backend(name);
  const prefix = options.tablePrefix ?? `t${++prefixes}_`;
  const storage = new PostgresStorage({ db: b.db, schema: b.schema, ...options, tablePrefix: prefix });
  await storage.migrate();
  opened.push(storage);
  return { storage, prefix, b };
}

for (const name of BACKENDS) {
  // Small batches: one INSERT … SELECT FROM unnest(…).
  storageContract(`PostgresStorage on ${name}, unnest path`, async (options = {}) => {
    return (await openOn(name, { ...options, copyThreshold: Number.POSITIVE_INFINITY })).storage;
  });
  // Every batch through binary COPY (direct, staging + merge, or both).
  storageContract(`PostgresStorage on ${name}, COPY path`, async (options = {}) => {
    return (await openOn(name, { ...options, copyThreshold: 1 })).storage;
  });
}

/** A fake handle that fails the test if any SQL reaches it. */
function untouchable() {
  const query = vi.fn(async () => ({ rows: [] }));
  return { query, handle: { query, connect: query, end: query, totalCount: 0 } as unknown as PgPoolLike };
}

describe('PostgresStorage options', () => {
  const hostileSchemas: unknown[] = [
    'public; DROP TABLE users; --',
    'x"; DROP SCHEMA public CASCADE; --',
    'perp"data',
    "o'brien",
    'Public',
    'a.b',
    'a b',
    'ünïcode',
    '1abc',
    '',
    'a'.repeat(64),
    'pg_catalog',
    5,
  ];
  test.each(hostileSchemas)('error: schema %j is refused before any SQL runs', (schema) => {
    const { query, handle } = untouchable();
    expect(() => new PostgresStorage({ db: handle, schema: schema as string })).toThrow(InvalidArgumentError);
    expect(() => new PostgresStorage({ db: handle, schema: schema as string })).toThrow(/schema must/);
    expect(query).not.toHaveBeenCalled();
  });

  const hostilePrefixes: unknown[] = ['x"; --', "p'_", 'Perp_', 'a-b_', '1x_', 'a b', 'a'.repeat(41), null];
  test.each(hostilePrefixes)('error: tablePrefix %j is refused before any SQL runs', (tablePrefix) => {
    const { query, handle } = untouchable();
    expect(() => new PostgresStorage({ db: handle, tablePrefix: tablePrefix as string })).toThrow(
      /tablePrefix must/,
    );
    expect(query).not.toHaveBeenCalled();
  });

  test('error: other options are validated when constructed, with precise messages', () => {
    const { handle } = untouchable();
    const make = (options: Partial<PostgresStorageOptions>) => () =>
      new PostgresStorage({ db: handle, ...options });
    expect(make({ onConflict: 'upsert' as never })).toThrow(/onConflict must be 'update' or 'ignore'/);
    expect(make({ readPageSize: 0 })).toThrow(/readPageSize must be an integer between 1 and/);
    expect(make({ copyThreshold: -1 })).toThrow(/copyThreshold must be an integer/);
    expect(make({ timescale: 'yes' as never })).toThrow(/timescale must be 'auto', true or false/);
    expect(make({ chunkInterval: { candles: "1 day'); DROP TABLE x; --" } })).toThrow(
      /chunkInterval.candles must be/,
    );
    expect(make({ chunkInterval: { trades: '1 day' } as never })).toThrow(/unknown option "trades"/);
    expect(make({ compressAfter: '30 dayz' })).toThrow(/compressAfter must be a Postgres interval/);
    expect(make({ pool: { max: 2 } })).toThrow(/pool options apply only when db is a connection string/);
    expect(make({ tablePrefx: 'x_' } as never)).toThrow(/unknown option "tablePrefx"/);
    expect(() => new PostgresStorage({ db: 42 as never })).toThrow(
      /db must be a connection string, a pg.Pool/,
    );
    expect(() => new PostgresStorage({ db: '  ' })).toThrow(/connection string is empty/);
  });

  test('error: a malformed connection string is refused without echoing it', () => {
    const error = (() => {
      try {
        new PostgresStorage({ db: 'postgres://admin:Sup3rSecretPw@[::1' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error?.message).toMatch(/not a valid postgres:\/\/ URL/);
    expect(error?.message).not.toContain('Sup3rSecretPw');
  });

  test('default: tableNames uses the perp_ prefix and the public schema', () => {
    const { handle } = untouchable();
    const names = new PostgresStorage({ db: handle }).tableNames;
    expect(names).toMatchObject({
      schema: 'public',
      candles: 'perp_candles',
      funding: 'perp_funding',
      predictedFunding: 'perp_predicted_funding',
      openInterest: 'perp_open_interest',
      longShortRatio: 'perp_long_short_ratio',
      takerVolume: 'perp_taker_volume',
      liquidations: 'perp_liquidations',
      indicators: 'perp_indicators',
      status: 'perp_status',
      errors: 'perp_errors',
    });
  });
});

describe.each(BACKENDS)('PostgresStorage on %s', (name) => {
  test('default: migrate() creates the design tables with ts timestamptz and primary key = series key + ts', async () => {
    const { b } = await openOn(name, { tablePrefix: 'perp_' });
    const columns = await b.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name LIKE 'perp\\_%' ORDER BY table_name, ordinal_position`,
      [b.schema],
    );
    const tablesFound = [...new Set(columns.map((c) => c.table_name))].sort();
    expect(tablesFound).toEqual(
      [
        'perp_candles',
        'perp_coverage',
        'perp_errors',
        'perp_funding',
        'perp_indicators',
        'perp_liquidations',
        'perp_long_short_ratio',
        'perp_migrations',
        'perp_open_interest',
        'perp_predicted_funding',
        'perp_status',
        'perp_taker_volume',
      ].sort(),
    );
    for (const c of columns.filter((c) => c.column_name === 'ts')) {
      expect(c.data_type, c.table_name).toBe('timestamp with time zone');
    }
    const keys = await b.query<{ tbl: string; cols: string }>(
      `SELECT c.relname AS tbl, string_agg(a.attname, ',' ORDER BY k.ord) AS cols
       FROM pg_index x
       JOIN pg_class c ON c.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
       WHERE n.nspname = $1 AND x.indisprimary AND c.relname LIKE 'perp\\_%'
       GROUP BY c.relname ORDER BY c.relname`,
      [b.schema],
    );
    expect(Object.fromEntries(keys.map((k) => [k.tbl, k.cols]))).toEqual({
      perp_candles: 'source,exchange,symbol,interval,ts',
      perp_funding: 'source,exchange,symbol,ts',
      perp_predicted_funding: 'source,exchange,symbol,ts',
      perp_open_interest: 'source,exchange,symbol,interval,ts',
      perp_long_short_ratio: 'source,exchange,symbol,interval,kind,ts',
      perp_taker_volume: 'source,exchange,symbol,interval,ts',
      perp_liquidations: 'source,exchange,symbol,interval,ts',
      perp_indicators: 'source,exchange,symbol,interval,name,ts',
      perp_status: 'job,series',
      perp_errors: 'id',
      perp_coverage: 'kind,source,exchange,symbol,interval,variant,from_ts',
      perp_migrations: 'version',
    });
    const brin = await b.query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexdef LIKE '%USING brin%' AND indexname LIKE 'perp\\_%'`,
      [b.schema],
    );
    expect(brin).toHaveLength(DATA_KINDS.length);
  });

  test('behavior: schema and tablePrefix place the tables; an empty prefix works', async () => {
    const b = backend(name);
    const schema = `${b.schema}_alt`;
    const storage = new PostgresStorage({ db: b.db, schema, tablePrefix: '' });
    opened.push(storage);
    try {
      await storage.migrate();
      expect(await storage.write('candles', candles(3))).toEqual({ written: 3 });
      const found = await b.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
        [schema],
      );
      expect(found.map((t) => t.table_name)).toContain('candles');
      expect(found.map((t) => t.table_name)).toContain('migrations');
      expect(found).toHaveLength(12);
    } finally {
      await b.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  test('behavior: migrations are recorded once per version, and concurrent migrate() calls agree', async () => {
    const b = backend(name);
    const prefix = `mig${suffix()}_`;
    // On the real server the second storage has its own pool, so the calls really run side by side.
    const other = name === 'postgres' && PG_URL ? PG_URL : b.db;
    const storages = [
      new PostgresStorage({ db: b.db, schema: b.schema, tablePrefix: prefix }),
      new PostgresStorage({ db: other, schema: b.schema, tablePrefix: prefix }),
    ];
    opened.push(...storages);
    await Promise.all([...storages.map((s) => s.migrate()), ...storages.map((s) => s.migrate())]);
    await storages[0]?.migrate();
    const versions = await b.query<{ version: number; name: string }>(
      `SELECT version, name FROM "${b.schema}"."${prefix}migrations" ORDER BY version`,
    );
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3]);
    expect(await storages[1]?.write('candles', candles(2))).toEqual({ written: 2 });
  });

  test("behavior: version 3 upgrades a version-2 status table to accept 'stopped', and still refuses other values", async () => {
    const b = backend(name);
    const prefix = `st${suffix()}_`;
    const storage = new PostgresStorage({ db: b.db, schema: b.schema, tablePrefix: prefix });
    opened.push(storage);
    await storage.migrate();
    // Back to what version 2 left: version 1's unnamed CHECK, no version 3 recorded.
    const table = `"${b.schema}"."${prefix}status"`;
    await b.query(`ALTER TABLE ${table} DROP CONSTRAINT "${prefix}status_valid"`);
    await b.query(`ALTER TABLE ${table} ADD CHECK (status IN ('running', 'done', 'error'))`);
    await b.query(`DELETE FROM "${b.schema}"."${prefix}migrations" WHERE version = 3`);
    await expect(storage.logStatus({ job: 'live', status: 'stopped' })).rejects.toThrow();
    await storage.migrate();
    const versions = await b.query<{ version: number }>(
      `SELECT version FROM "${b.schema}"."${prefix}migrations" ORDER BY version`,
    );
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3]);
    await storage.logStatus({ job: 'live', status: 'stopped', message: '9 series stopped' });
    expect((await storage.listStatus('live'))[0]).toMatchObject({ status: 'stopped' });
    const bogus = `INSERT INTO ${table} (job, status, ts) VALUES ('x', 'paused', now())`;
    await expect(b.query(bogus)).rejects.toThrow(/check constraint/);
  });

  test('behavior: storages with different prefixes can migrate into the same new schema at once', async () => {
    const b = backend(name);
    const schema = `${b.schema}_race`;
    const other = name === 'postgres' && PG_URL ? PG_URL : b.db;
    const storages = Array.from(
      { length: 4 },
      (_, i) => new PostgresStorage({ db: i % 2 === 0 ? b.db : other, schema, tablePrefix: `r${i}_` }),
    );
    opened.push(...storages);
    try {
      await Promise.all(storages.map((storage) => storage.migrate()));
      for (const storage of storages)
        expect(await storage.write('candles', candles(2))).toEqual({ written: 2 });
    } finally {
      await b.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  test('error: a schema newer than this perpdata is refused by migrate()', async () => {
    const { storage, prefix, b } = await openOn(name);
    await b.query(
      `INSERT INTO "${b.schema}"."${prefix}migrations" (version, name) VALUES (999, 'from the future')`,
    );
    const fresh = new PostgresStorage({ db: b.db, schema: b.schema, tablePrefix: prefix });
    opened.push(fresh);
    await expect(fresh.migrate()).rejects.toThrow(/schema is at version 999, newer than this perpdata knows/);
    expect(await storage.write('candles', candles(1))).toEqual({ written: 1 });
  });

  test('behavior: write() issues a fixed number of statements, never one per row', async () => {
    const b = backend(name);
    const { prefix } = await openOn(name);
    const { handle, log } = instrument(b.db);
    const storage = new PostgresStorage({
      db: handle,
      schema: b.schema,
      tablePrefix: prefix,
      copyThreshold: 500,
    });
    opened.push(storage);
    const statementsOf = async (rows: ReturnType<typeof candles>) => {
      log.length = 0;
      await storage.write('candles', rows);
      return log.map((r) => r.text);
    };
    const small = await statementsOf(candles(10, 0));
    const small2 = await statementsOf(candles(400, 10));
    const big = await statementsOf(candles(2_000, 410));
    const big2 = await statementsOf(candles(6_000, 2_410));
    const overlapFirst = await statementsOf(candles(3_000, 0));
    const overlapAgain = await statementsOf(candles(9_000, 0));
    expect(small.length).toBe(small2.length);
    expect(small.some((t) => t.includes('unnest('))).toBe(true);
    expect(big.length).toBe(big2.length);
    expect(big.filter((t) => t.startsWith('COPY '))).toHaveLength(1);
    expect(overlapFirst.filter((t) => t.startsWith('COPY '))).toHaveLength(1);
    expect(overlapAgain.filter((t) => t.startsWith('COPY '))).toHaveLength(2);
    expect(
      overlapAgain.filter((t) => t.includes('INSERT INTO') && t.includes('perpdata_stage_')),
    ).toHaveLength(1);
    for (const texts of [small, small2, big, big2, overlapFirst, overlapAgain]) {
      expect(texts.length).toBeLessThanOrEqual(8);
      expect(texts.some((t) => /VALUES\s*\(/.test(t))).toBe(false);
    }
    expect(await storage.latest('candles', BTC_1M)).toBe(T0 + 8_999 * MINUTE);
  });

  const atomicCases = [
    { label: 'unnest path', copyThreshold: Number.POSITIVE_INFINITY, stored: 0, bad: 10 },
    { label: 'COPY into the table', copyThreshold: 1, stored: 0, bad: 10 },
    { label: 'COPY split, bad row among the overlapping ones', copyThreshold: 1, stored: 10, bad: 5 },
    { label: 'COPY split, bad row among the new ones', copyThreshold: 1, stored: 10, bad: 25 },
  ];
  test.each(atomicCases)(
    'behavior: a batch is all or nothing when the database refuses a row ($label)',
    async (c) => {
      const { storage, prefix, b } = await openOn(name, { copyThreshold: c.copyThreshold });
      if (c.stored > 0) await storage.write('candles', candles(c.stored));
      await b.query(
        `ALTER TABLE "${b.schema}"."${prefix}candles" ADD CONSTRAINT sane_close CHECK (close < 1e9)`,
      );
      const rows = candles(30).map((r, i) =>
        i === c.bad ? { ...r, close: 2e9 } : { ...r, open: r.open + 1 },
      );
      const error = await storage.write('candles', rows).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).committed).toBe(false);
      expect((error as StorageError).message).toMatch(/the database refused it; nothing was written/);
      expect((error as StorageError).meta.SQLSTATE).toBe('23514');
      const { rows: back } = await collect(storage.read('candles', BTC_1M, 0, T0 + 365 * 24 * 60 * MINUTE));
      expect(back).toEqual(candles(c.stored));
    },
  );

  const ledgerPaths = [
    { label: 'unnest path', copyThreshold: Number.POSITIVE_INFINITY, stored: 0 },
    { label: 'COPY into the table', copyThreshold: 1, stored: 0 },
    { label: 'COPY split into direct and merge', copyThreshold: 1, stored: 10 },
  ];
  test.each(ledgerPaths)(
    'behavior: rows the database refuses leave no ledger mark, and a mark it refuses leaves no row ($label)',
    async (c) => {
      const { storage, prefix, b } = await openOn(name, { copyThreshold: c.copyThreshold });
      const mark = (from: number, to: number) => ({
        key: BTC_1M,
        from: T0 + from * MINUTE,
        to: T0 + to * MINUTE,
        state: 'stored' as const,
      });
      if (c.stored > 0) await storage.write('candles', candles(c.stored), { coverage: [mark(0, c.stored)] });
      const before = await storage.coverage('candles', BTC_1M);
      await b.query(
        `ALTER TABLE "${b.schema}"."${prefix}candles" ADD CONSTRAINT sane_close CHECK (close < 1e9)`,
      );
      const rows = candles(30).map((r, i) => (i === 25 ? { ...r, close: 2e9 } : { ...r, open: r.open + 1 }));
      const error = await storage
        .write('candles', rows, { coverage: [mark(0, 30)] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).committed).toBe(false);
      expect(await storage.coverage('candles', BTC_1M)).toEqual(before);
      // Now the ledger refuses: a constraint on the ledger table fails the insert of the new interval.
      await b.query(`ALTER TABLE "${b.schema}"."${prefix}candles" DROP CONSTRAINT sane_close`);
      await b.query(
        `ALTER TABLE "${b.schema}"."${prefix}coverage" ADD CONSTRAINT short_marks CHECK (to_ts - from_ts < interval '20 minutes')`,
      );
      const refused = await storage
        .write('candles', candles(30, 100), { coverage: [mark(100, 130)] })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(StorageError);
      expect((refused as StorageError).committed).toBe(false);
      expect((refused as StorageError).meta.SQLSTATE).toBe('23514');
      expect(await storage.latest('candles', BTC_1M)).toBe(
        c.stored > 0 ? T0 + (c.stored - 1) * MINUTE : null,
      );
      expect(await storage.coverage('candles', BTC_1M)).toEqual(before);
    },
  );

  test('behavior: the ledger stays compact: a thousand consecutive pages are one row, holes one row each', async () => {
    const { storage, prefix, b } = await openOn(name);
    const key = { ...BTC_1M, symbol: 'ETH' };
    const page = 60 * MINUTE;
    const marks = Array.from({ length: 1_000 }, (_, i) => ({
      key,
      from: T0 + i * page,
      to: T0 + (i + 1) * page,
      state: (i === 400 ? 'empty' : 'stored') as 'stored' | 'empty',
      ...(i === 400 ? { reason: 'outage' } : {}),
    }));
    // Page by page (as a backfill writes them), with a hole at page 700 filled last.
    for (const [i, mark] of marks.entries())
      if (i % 50 !== 0 || i === 0) {
        if (i !== 700) await storage.write('candles', [], { coverage: [mark] });
      }
    for (const [i, mark] of marks.entries())
      if (i % 50 === 0 && i > 0 && i !== 700) {
        await storage.write('candles', [], { coverage: [mark] });
      }
    const count = async () =>
      (
        await b.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${b.schema}"."${prefix}coverage" WHERE symbol = 'ETH'`,
        )
      )[0]?.n;
    expect(await storage.coverage('candles', key)).toEqual([
      { from: T0, to: T0 + 400 * page, state: 'stored' },
      { from: T0 + 400 * page, to: T0 + 401 * page, state: 'empty', reason: 'outage' },
      { from: T0 + 401 * page, to: T0 + 700 * page, state: 'stored' },
      { from: T0 + 701 * page, to: T0 + 1_000 * page, state: 'stored' },
    ]);
    expect(await count()).toBe(4);
    await storage.write('candles', [], { coverage: [marks[700] as (typeof marks)[number]] });
    expect(await count()).toBe(3);
  });

  // PGlite takes COPY input as one in-memory blob, so large batches go in slices inside one transaction.
  if (name === 'pglite')
    test('behavior: on PGlite a batch larger than one COPY slice (100,000 rows) is written whole, or not at all', async () => {
      const { storage, prefix, b } = await openOn(name);
      const rows = candles(100_050);
      await b.query(
        `ALTER TABLE "${b.schema}"."${prefix}candles" ADD CONSTRAINT sane_close CHECK (close < 1e9)`,
      );
      const bad = rows.map((r, i) => (i === 100_020 ? { ...r, close: 2e9 } : r));
      await expect(storage.write('candles', bad)).rejects.toThrow(StorageError);
      expect(await storage.latest('candles', BTC_1M)).toBeNull();
      expect(await storage.write('candles', rows)).toEqual({ written: 100_050 });
      expect(await storage.latest('candles', BTC_1M)).toBe(rows[100_049]?.ts);
    });

  test('behavior: latest() and read() use the primary key index (EXPLAIN)', async () => {
    // 50 series x 1,000 rows, then ANALYZE: with realistic statistics the planner chooses the index by
    // itself. (SET enable_seqscan = off would only prove the index can be used, not that it is chosen.)
    const { storage, prefix, b } = await openOn(name);
    const symbols = Array.from({ length: 50 }, (_, i) => `S${i}`);
    await storage.write(
      'candles',
      symbols.flatMap((symbol) => candles(1_000, 0, { symbol })),
    );
    await b.query(`ANALYZE "${b.schema}"."${prefix}candles"`);
    const { handle, log } = instrument(b.db);
    const probe = new PostgresStorage({
      db: handle,
      schema: b.schema,
      tablePrefix: prefix,
      readPageSize: 200,
    });
    opened.push(probe);
    const key = { ...BTC_1M, symbol: 'S17' };
    log.length = 0;
    expect(await probe.latest('candles', key)).toBe(T0 + 999 * MINUTE);
    const latestSql = log.find((r) => r.text.includes('ORDER BY t.ts DESC LIMIT 1')) as Recorded;
    log.length = 0;
    for await (const page of probe.read('candles', key, T0 + 100 * MINUTE, T0 + 900 * MINUTE)) {
      expect(page).toHaveLength(200);
      break;
    }
    const readSql = log.find((r) => r.text.includes('ORDER BY t.ts LIMIT')) as Recorded;
    for (const statement of [latestSql, readSql]) {
      const [row] = await b.query<Record<string, unknown>>(
        `EXPLAIN (FORMAT JSON) ${statement.text}`,
        statement.values,
      );
      const raw = row?.['QUERY PLAN'];
      const plan = typeof raw === 'string' ? JSON.parse(raw) : raw;
      const nodes: Record<string, unknown>[] = [];
      const walk = (node: Record<string, unknown>) => {
        nodes.push(node);
        for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
      };
      walk((plan as { Plan: Record<string, unknown> }[])[0]?.Plan as Record<string, unknown>);
      const types = nodes.map((n) => n['Node Type']);
      expect(
        nodes.some(
          (n) => n['Index Name'] === `${prefix}candles_pkey` && /Index/.test(String(n['Node Type'])),
        ),
        `${statement.text} -> ${types.join(' > ')}`,
      ).toBe(true);
      expect(types).not.toContain('Seq Scan');
      expect(types).not.toContain('Sort');
    }
  });

  test('behavior: read() fetches one page per query, only when the consumer asks for it', async () => {
    const b = backend(name);
    const { prefix, storage: writer } = await openOn(name);
    await writer.write('candles', candles(10));
    const { handle, log } = instrument(b.db);
    const storage = new PostgresStorage({
      db: handle,
      schema: b.schema,
      tablePrefix: prefix,
      readPageSize: 3,
    });
    opened.push(storage);
    log.length = 0;
    const iterator = storage.read('candles', BTC_1M, T0, T0 + 100 * MINUTE)[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toHaveLength(3);
    const reads = () => log.filter((r) => r.text.includes('ORDER BY t.ts LIMIT')).length;
    expect(reads()).toBe(1);
    const sizes: number[] = [];
    for (let step = await iterator.next(); !step.done; step = await iterator.next())
      sizes.push(step.value.length);
    expect(sizes).toEqual([3, 3, 1]);
    expect(reads()).toBe(4);
  });

  test('behavior: a concurrent writer storing part of a batch between check and COPY is handled, no duplicates', async () => {
    const b = backend(name);
    const { prefix } = await openOn(name);
    const table = `"${b.schema}"."${prefix}candles"`;
    const [clash] = candles(1, 40);
    let raced = false;
    const { handle, log } = instrument(b.db, {
      // Right after write() looked up the newest stored ts, another writer stores one row of the batch.
      after: async (text, run) => {
        if (raced || !text.includes('ORDER BY o.ts DESC LIMIT 1')) return;
        raced = true;
        await run(
          `INSERT INTO ${table} (source, exchange, symbol, "interval", ts, open, high, low, close, volume, quote_volume, trades, taker_buy_volume)
           VALUES ('binance', 'binance', 'BTC', '1m', to_timestamp($1::float8 / 1000), $2, $3, $4, $5, $6, $7, $8, $9)`,
          [
            clash?.ts,
            clash?.open,
            clash?.high,
            clash?.low,
            clash?.close,
            clash?.volume,
            clash?.quoteVolume,
            clash?.trades,
            clash?.takerBuyVolume,
          ],
        );
      },
    });
    const storage = new PostgresStorage({
      db: handle,
      schema: b.schema,
      tablePrefix: prefix,
      copyThreshold: 1,
    });
    opened.push(storage);
    const rows = candles(100);
    const { written } = await storage.write('candles', rows);
    expect(raced).toBe(true);
    // The direct COPY hit the primary key, rolled back, and the batch went through the merge. On the
    // server the other writer's row stays (written 99); PGlite has one connection, so the "other writer"
    // ran inside our transaction and was rolled back with it (written 100).
    expect(written).toBe(name === 'postgres' ? 99 : 100);
    expect(
      log.filter((r) => r.text.includes('INSERT INTO') && r.text.includes('perpdata_stage_')),
    ).toHaveLength(1);
    const { rows: back } = await collect(storage.read('candles', BTC_1M, 0, T0 + 1_000 * MINUTE));
    expect(back).toEqual(rows);
  });

  test('behavior: error rows are stored with job, series, code and timestamps, and hold no secret', async () => {
    const { storage, prefix, b } = await openOn(name);
    await storage.logError({
      job: 'backfill',
      message: 'could not connect to postgres://svc:pa55w0rd-xyz@10.1.1.1/prod',
      code: 'NETWORK',
      series: BTC_1M,
      ts: T0,
      detail: { password: 'pa55w0rd-xyz', proxy: 'http://u:pa55w0rd-xyz@p:1' },
    });
    const rows = await b.query<Record<string, unknown>>(
      `SELECT job, series, source, exchange, symbol, "interval", code, message, detail::text AS detail,
              (extract(epoch FROM ts) * 1000)::float8 AS ts, logged_at IS NOT NULL AS logged
       FROM "${b.schema}"."${prefix}errors"`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      job: 'backfill',
      series: 'binance/binance/BTC/1m',
      source: 'binance',
      symbol: 'BTC',
      interval: '1m',
      code: 'NETWORK',
      ts: T0,
      logged: true,
    });
    expect(JSON.stringify(rows)).not.toContain('pa55w0rd-xyz');
  });
});

describe('PostgresStorage with TimescaleDB (extension reported present on PGlite)', () => {
  // TimescaleDB cannot be installed here: a PGlite wrapper reports the extension as installed, records
  // the statements migrate() issues and answers the TimescaleDB calls itself; the tables stay plain.
  let db: PGlite;
  beforeAll(() => {
    db = new PGlite();
  });
  afterAll(async () => {
    await db.close();
  });

  function timescaleFake(present: boolean) {
    const log: Recorded[] = [];
    const answer = async (
      run: (text: string, params?: unknown[]) => Promise<{ rows: unknown[]; affectedRows?: number }>,
      text: string,
      params?: unknown[],
    ) => {
      log.push({ text, values: params });
      if (text.includes("FROM pg_extension WHERE extname = 'timescaledb'")) {
        return { rows: present ? [{ extversion: '2.17.2' }] : [] };
      }
      if (/create_hypertable|add_compression_policy|timescaledb\.compress/.test(text)) return { rows: [] };
      return run(text, params);
    };
    const handle: PGliteLike = {
      query: (text, params, options) => answer((t, p) => db.query(t, p, options), text, params),
      exec: (text) => db.exec(text),
      transaction: (callback) =>
        db.transaction((tx) =>
          callback({
            query: (text, params, options) => answer((t, p) => tx.query(t, p, options), text, params),
          } satisfies PGliteTransactionLike),
        ),
      close: async () => {},
    };
    return { handle, log };
  }

  test('timescale: migrate() makes every data table a hypertable on ts with the default chunk intervals', async () => {
    const { handle, log } = timescaleFake(true);
    const storage = new PostgresStorage({ db: handle, schema: 'ts_default', tablePrefix: 'p_' });
    await storage.migrate();
    const calls = log.filter((r) => r.text.includes('create_hypertable'));
    expect(calls.map((r) => r.values)).toEqual([
      ['"ts_default"."p_candles"', '1 day'],
      ['"ts_default"."p_funding"', '30 days'],
      ['"ts_default"."p_predicted_funding"', '7 days'],
      ['"ts_default"."p_open_interest"', '7 days'],
      ['"ts_default"."p_long_short_ratio"', '7 days'],
      ['"ts_default"."p_taker_volume"', '7 days'],
      ['"ts_default"."p_liquidations"', '7 days'],
      ['"ts_default"."p_indicators"', '1 day'],
    ]);
    expect(calls[0]?.text).toBe(
      `SELECT create_hypertable($1::regclass, 'ts', chunk_time_interval => $2::interval, create_default_indexes => false, if_not_exists => true)`,
    );
    // Hypertables come after their table, inside the same migration transaction; no compression unless asked.
    const firstCreate = log.findIndex((r) =>
      r.text.startsWith('CREATE TABLE IF NOT EXISTS "ts_default"."p_candles"'),
    );
    expect(firstCreate).toBeGreaterThan(-1);
    expect(log.findIndex((r) => r.text.includes('create_hypertable'))).toBeGreaterThan(firstCreate);
    expect(log.some((r) => /compress/.test(r.text))).toBe(false);
    expect(log.some((r) => /USING brin/.test(r.text))).toBe(false);
    expect(await storage.write('candles', candles(5))).toEqual({ written: 5 });
    await storage.close();
  });

  test('timescale: chunkInterval and compressAfter options shape the hypertables and a compression policy', async () => {
    const { handle, log } = timescaleFake(true);
    const storage = new PostgresStorage({
      db: handle,
      schema: 'ts_compressed',
      chunkInterval: { candles: '12 hours' },
      compressAfter: '30 days',
    });
    await storage.migrate();
    expect(log.find((r) => r.text.includes('create_hypertable'))?.values).toEqual([
      '"ts_compressed"."perp_candles"',
      '12 hours',
    ]);
    const alters = log.filter((r) => r.text.includes('timescaledb.compress')).map((r) => r.text);
    expect(alters).toHaveLength(DATA_KINDS.length);
    expect(alters[0]).toBe(
      `ALTER TABLE "ts_compressed"."perp_candles" SET (timescaledb.compress, timescaledb.compress_segmentby = '"source", "exchange", "symbol", "interval"', timescaledb.compress_orderby = 'ts DESC')`,
    );
    expect(alters).toContain(
      `ALTER TABLE "ts_compressed"."perp_long_short_ratio" SET (timescaledb.compress, timescaledb.compress_segmentby = '"source", "exchange", "symbol", "interval", "kind"', timescaledb.compress_orderby = 'ts DESC')`,
    );
    const policies = log.filter((r) => r.text.includes('add_compression_policy'));
    expect(policies).toHaveLength(DATA_KINDS.length);
    expect(policies[0]?.values).toEqual(['"ts_compressed"."perp_candles"', '30 days']);
    await storage.close();
  });

  test('timescale: without the extension, or with timescale: false, tables stay plain with a BRIN index on ts', async () => {
    for (const [present, mode, schema] of [
      [false, 'auto', 'ts_absent'],
      [true, false, 'ts_disabled'],
    ] as const) {
      const { handle, log } = timescaleFake(present);
      const storage = new PostgresStorage({ db: handle, schema, timescale: mode });
      await storage.migrate();
      expect(log.some((r) => r.text.includes('create_hypertable'))).toBe(false);
      expect(log.filter((r) => /USING brin \(ts\)/.test(r.text))).toHaveLength(DATA_KINDS.length);
      await storage.close();
    }
  });

  test('timescale: true without the extension available fails migrate() with a StorageError', async () => {
    const { handle } = timescaleFake(false);
    const storage = new PostgresStorage({ db: handle, schema: 'ts_required', timescale: true });
    const error = await storage.migrate().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/migrate\(\) failed/);
    expect((error as Error).message).toMatch(/timescaledb/);
    await storage.close();
  });
});

if (PG_URL) {
  describe('PostgresStorage on the real server only', () => {
    test('behavior: migrate() waits for the advisory lock another process holds', async () => {
      const b = backend('postgres');
      const prefix = `lock${suffix()}_`;
      const holder = new pg.Client({ connectionString: PG_URL });
      await holder.connect();
      try {
        await holder.query('SELECT pg_advisory_lock($1::int4, hashtext($2))', [
          MIGRATION_LOCK_CLASS,
          `${b.schema}.${prefix}`,
        ]);
        const storage = new PostgresStorage({ db: b.db, schema: b.schema, tablePrefix: prefix });
        opened.push(storage);
        let done = false;
        const migrating = storage.migrate().then(() => {
          done = true;
        });
        // Wait until the migration's backend is queued on the lock.
        for (;;) {
          const waiting = await b.query(
            `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1::int4::oid`,
            [MIGRATION_LOCK_CLASS],
          );
          if (waiting.length > 0) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        expect(done).toBe(false);
        const [table] = await b.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
          `"${b.schema}"."${prefix}migrations"`,
        ]);
        expect(table?.t).toBeNull();
        await holder.query('SELECT pg_advisory_unlock($1::int4, hashtext($2))', [
          MIGRATION_LOCK_CLASS,
          `${b.schema}.${prefix}`,
        ]);
        await migrating;
        expect(await storage.write('candles', candles(3))).toEqual({ written: 3 });
      } finally {
        await holder.end();
      }
    });

    test('behavior: a connected pg.Client works as db and stays open after close()', async () => {
      const b = backend('postgres');
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        const storage = new PostgresStorage({
          db: client,
          schema: b.schema,
          tablePrefix: `cl${suffix()}_`,
          copyThreshold: 100,
        });
        await storage.migrate();
        const [a, c] = await Promise.all([
          storage.write('candles', candles(500)),
          storage.write('candles', candles(500, 250, { symbol: 'ETH' })),
        ]);
        expect([a, c]).toEqual([{ written: 500 }, { written: 500 }]);
        expect(await storage.latest('candles', { ...BTC_1M, symbol: 'ETH' })).toBe(T0 + 749 * MINUTE);
        await storage.close();
        expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      } finally {
        await client.end();
      }
    });

    test('behavior: a connection string gives the storage its own pool, which close() ends', async () => {
      const b = backend('postgres');
      const app = `perpdata_own_${suffix()}`;
      const storage = new PostgresStorage({
        db: PG_URL as string,
        schema: b.schema,
        tablePrefix: `own${suffix()}_`,
        pool: { applicationName: app, max: 2 },
      });
      await storage.migrate();
      await storage.write('candles', candles(5));
      const count = async () =>
        (
          await b.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
            [app],
          )
        )[0]?.n ?? 0;
      expect(await count()).toBeGreaterThan(0);
      await storage.close();
      let left = await count();
      for (let i = 0; left > 0 && i < 100; i++) {
        await new Promise((r) => setTimeout(r, 20));
        left = await count();
      }
      expect(left).toBe(0);
    });
  });
}

describe('openPostgresStorage', () => {
  test('default: without a url it opens and migrates a storage on an embedded, in-memory PGlite', async () => {
    const storage = await openPostgresStorage({ url: '', tablePrefix: 'embedded_' });
    expect(await storage.write('candles', candles(3))).toEqual({ written: 3 });
    expect(await storage.latest('candles', BTC_1M)).toBe(T0 + 2 * MINUTE);
    expect(storage.tableNames).toMatchObject({ schema: 'public', candles: 'embedded_candles' });
    await storage.close();
    await expect(storage.latest('candles', BTC_1M)).rejects.toThrow(/closed/);
  });

  if (PG_URL) {
    test('behavior: with a url it opens and migrates a storage on that server', async () => {
      const schema = `perpdata_test_${suffix()}`;
      const storage = await openPostgresStorage({ url: PG_URL, schema });
      try {
        expect(await storage.write('candles', candles(3))).toEqual({ written: 3 });
      } finally {
        await storage.close();
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.end();
      }
    });
  }
});
