/**
 * What happens when the database goes away. The real-server tests put a TCP proxy between the pool and
 * the server (stop it, start it again on the same port, or cut one connection around its COMMIT) and kill
 * backends with pg_terminate_backend; the machine's PostgreSQL service itself is never restarted.
 */
import { inspect } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { StorageError } from '../../src/core/errors.js';
import { PostgresStorage } from '../../src/storage/index.js';
import { instrument, PG_URL } from './backends.js';
import { BTC_1M, candles, suffix, T0 } from './fixtures.js';
import { TcpProxy } from './tcp-proxy.js';

/** Everything an error could show: message, stack, meta, cause, and util.inspect of the whole. */
function everything(error: unknown): string {
  const e = error as StorageError;
  return [e.message, e.stack, JSON.stringify(e.meta), String(e.cause), inspect(e, { depth: 6 })].join('\n');
}

describe('PostgresStorage failures without a server', () => {
  test('error: an unreachable server fails migrate() and write() with a StorageError that never shows the password', async () => {
    const storage = new PostgresStorage({
      db: 'postgres://perp:Hunter2-Secret-Pw@127.0.0.1:1/nowhere',
      pool: { connectionTimeoutMillis: 2_000 },
    });
    try {
      for (const attempt of [() => storage.migrate(), () => storage.write('candles', candles(3))]) {
        const error = await attempt().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageError);
        expect((error as StorageError).committed).toBe(false);
        expect((error as StorageError).message).toMatch(/could not connect to the database/);
        expect(everything(error)).not.toContain('Hunter2-Secret-Pw');
      }
    } finally {
      await storage.close();
    }
  });

  test('resilience: a write on a PGlite instance closed underneath fails with a StorageError, committed false', async () => {
    const db = new PGlite();
    const storage = new PostgresStorage({ db, schema: 'gone' });
    await storage.migrate();
    expect(await storage.write('candles', candles(3))).toEqual({ written: 3 });
    await db.close();
    const error = await storage.write('candles', candles(3, 3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).committed).toBe(false);
    await storage.close();
  });
});

if (PG_URL) {
  describe('PostgresStorage when the server goes away (real server)', () => {
    const target = new URL(PG_URL as string);
    const schema = `perpdata_test_${suffix()}`;
    const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
    admin.on('error', () => {});
    const proxy = new TcpProxy({ host: target.hostname || '127.0.0.1', port: Number(target.port || 5432) });
    const storages: PostgresStorage[] = [];
    const pools: pg.Pool[] = [];
    /** The password the storage's connection string carries and no error may show. */
    const password = target.password ? decodeURIComponent(target.password) : 'Pr0xy-Secret-pw';

    beforeAll(async () => {
      await proxy.start();
    });

    afterAll(async () => {
      for (const storage of storages) await storage.close().catch(() => undefined);
      for (const pool of pools) await pool.end().catch(() => undefined);
      await proxy.stop();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    });

    /** A storage that owns its pool and reaches the server through the proxy. */
    async function throughProxy(): Promise<{ storage: PostgresStorage; prefix: string }> {
      const url = new URL(PG_URL as string);
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
      url.password = password;
      const prefix = `px${suffix()}_`;
      const storage = new PostgresStorage({
        db: url.toString(),
        schema,
        tablePrefix: prefix,
        pool: { max: 3, connectionTimeoutMillis: 3_000 },
      });
      storages.push(storage);
      await storage.migrate();
      return { storage, prefix };
    }

    async function count(prefix: string): Promise<{ rows: number; distinct: number }> {
      const { rows } = await admin.query(
        `SELECT count(*)::int AS rows, count(DISTINCT ts)::int AS distinct FROM "${schema}"."${prefix}candles"`,
      );
      return rows[0] as { rows: number; distinct: number };
    }

    test('resilience: server gone, write() fails with committed false; back on the same port, the pool recovers and the retry stores each row once', async () => {
      const { storage, prefix } = await throughProxy();
      expect(await storage.write('candles', candles(1_000))).toEqual({ written: 1_000 });
      await proxy.stop();
      for (const batch of [candles(3_000), candles(20, 3_000)]) {
        const error = await storage.write('candles', batch).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageError);
        expect((error as StorageError).committed).toBe(false);
        expect((error as StorageError).message).toMatch(/nothing was written/);
        expect(everything(error)).not.toContain(password);
      }
      await proxy.start();
      expect(await storage.write('candles', candles(3_000))).toEqual({ written: 2_000 });
      expect(await storage.write('candles', candles(20, 3_000))).toEqual({ written: 20 });
      expect(await storage.latest('candles', BTC_1M)).toBe(candles(1, 3_019)[0]?.ts);
      expect(await count(prefix)).toEqual({ rows: 3_020, distinct: 3_020 });
    });

    test('resilience: connection lost after the server committed reports committed true; the retry writes 0', async () => {
      const { storage, prefix } = await throughProxy();
      proxy.trapNextCommit('drop-after');
      const error = await storage.write('candles', candles(2_000)).catch((e: unknown) => e);
      expect(proxy.sprung).toBeGreaterThan(0);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).committed).toBe(true);
      expect((error as StorageError).message).toMatch(/the batch was committed/);
      expect(await storage.write('candles', candles(2_000))).toEqual({ written: 0 });
      expect(await count(prefix)).toEqual({ rows: 2_000, distinct: 2_000 });
    });

    test('resilience: connection lost before COMMIT reached the server reports committed false; the retry writes all', async () => {
      const { storage, prefix } = await throughProxy();
      proxy.trapNextCommit('drop-before');
      const error = await storage.write('candles', candles(50)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).committed).toBe(false);
      expect(await count(prefix)).toEqual({ rows: 0, distinct: 0 });
      expect(await storage.write('candles', candles(50))).toEqual({ written: 50 });
      expect(await count(prefix)).toEqual({ rows: 50, distinct: 50 });
    });

    test("resilience: server gone during COMMIT reports committed 'unknown'; once back, the retry leaves no duplicates", async () => {
      const { storage, prefix } = await throughProxy();
      proxy.trapNextCommit('stop-after');
      const error = await storage.write('candles', candles(1_500)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).committed).toBe('unknown');
      expect((error as StorageError).message).toMatch(/may or may not be committed/);
      expect(everything(error)).not.toContain(password);
      await proxy.start();
      // The server did commit (the proxy swallowed its answer), so the retry finds every row stored.
      expect(await storage.write('candles', candles(1_500))).toEqual({ written: 0 });
      expect(await count(prefix)).toEqual({ rows: 1_500, distinct: 1_500 });
    });

    test('resilience: pg_terminate_backend in the middle of a write fails it with committed false; the retry stores each row once', async () => {
      const app = `perpdata_kill_${suffix()}`;
      const pool = new pg.Pool({ connectionString: PG_URL, application_name: app, max: 3 });
      pool.on('error', () => {});
      pools.push(pool);
      let armed = true;
      const { handle } = instrument(pool, {
        // Once the write's transaction has started, its backend is killed from another connection.
        after: async (text) => {
          if (!armed || !text.startsWith('BEGIN')) return;
          armed = false;
          const { rows } = await admin.query(
            `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'`,
            [app],
          );
          expect(rows).toEqual([{ killed: true }]);
        },
      });
      const prefix = `kill${suffix()}_`;
      const storage = new PostgresStorage({ db: handle, schema, tablePrefix: prefix });
      storages.push(storage);
      armed = false;
      await storage.migrate();
      for (const size of [100, 2_500]) {
        armed = true;
        const rows = candles(size, 10_000 * size);
        const error = await storage.write('candles', rows).catch((e: unknown) => e);
        expect(error, `batch of ${size}`).toBeInstanceOf(StorageError);
        expect((error as StorageError).committed).toBe(false);
        expect((error as StorageError).message).toMatch(/the connection was lost; nothing was written/);
        expect(await storage.write('candles', rows)).toEqual({ written: size });
      }
      expect(await count(prefix)).toEqual({ rows: 2_600, distinct: 2_600 });
    });

    test('resilience: a write with ledger marks whose backend is killed (pg_terminate_backend) before any of its statements leaves rows and marks both or neither', async () => {
      const app = `perpdata_killmark_${suffix()}`;
      const pool = new pg.Pool({ connectionString: PG_URL, application_name: app, max: 3 });
      pool.on('error', () => {});
      pools.push(pool);
      let killAt = -1;
      let seen = 0;
      const { handle } = instrument(pool, {
        // Statements of the write counted from BEGIN; before the armed one is sent, the backend (idle in
        // the transaction) is killed from another connection. Before COMMIT means after COPY.
        before: async (text) => {
          if (killAt < 0) return;
          if (text.startsWith('BEGIN')) seen = 0;
          if (seen++ !== killAt) return;
          killAt = -1;
          await admin.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'`,
            [app],
          );
        },
      });
      const prefix = `km${suffix()}_`;
      const storage = new PostgresStorage({ db: handle, schema, tablePrefix: prefix });
      storages.push(storage);
      await storage.migrate();
      const ledger = async () =>
        (
          await admin.query(
            `SELECT (extract(epoch FROM from_ts) * 1000)::float8 AS "from", (extract(epoch FROM to_ts) * 1000)::float8 AS "to" FROM "${schema}"."${prefix}coverage" ORDER BY from_ts`,
          )
        ).rows as { from: number; to: number }[];
      let start = 0;
      let failures = 0;
      for (const size of [100, 2_500]) {
        // Statements: BEGIN + locks + the ledger update (with the newest-ts lookup) in one round trip once
        // the ledger statement is prepared on the connection (before that, BEGIN and then the ledger
        // update), then COPY (not counted: it is a stream), COMMIT.
        for (let at = 1; at < 4; at++) {
          const rows = candles(size, start);
          const mark = {
            key: BTC_1M,
            from: T0 + start * 60_000,
            to: T0 + (start + size) * 60_000,
            state: 'stored' as const,
          };
          const stored = (await count(prefix)).rows;
          killAt = at;
          const result = await storage.write('candles', rows, { coverage: [mark] }).catch((e: unknown) => e);
          const killed = killAt === -1;
          killAt = -1;
          const covered = (await ledger()).some((iv) => iv.from <= mark.from && iv.to >= mark.to);
          if (result instanceof StorageError) {
            failures++;
            expect(killed, `size ${size}, statement ${at}`).toBe(true);
            expect(result.committed, `size ${size}, statement ${at}`).toBe(false);
            expect((await count(prefix)).rows).toBe(stored);
            expect(covered).toBe(false);
            expect(await storage.write('candles', rows, { coverage: [mark] })).toEqual({ written: size });
          } else {
            // The write had fewer statements than `at`, or its backend died before anything but BEGIN had
            // run and the write began again on another connection: all of it is there.
            expect(result).toEqual({ written: size });
          }
          expect((await count(prefix)).rows).toBe(stored + size);
          expect((await ledger()).some((iv) => iv.from <= mark.from && iv.to >= mark.to)).toBe(true);
          start += size;
        }
      }
      expect(failures).toBeGreaterThanOrEqual(2);
      expect(await ledger()).toEqual([{ from: T0, to: T0 + start * 60_000 }]);
      expect(await count(prefix)).toEqual({ rows: start, distinct: start });
    });

    test('resilience: with ledger marks, a connection lost after COMMIT reports committed true with rows and marks stored; lost before COMMIT, neither', async () => {
      const { storage, prefix } = await throughProxy();
      const mark = (n: number, from = 0) => ({
        key: BTC_1M,
        from: T0 + from * 60_000,
        to: T0 + (from + n) * 60_000,
        state: 'stored' as const,
      });
      proxy.trapNextCommit('drop-before');
      const lost = await storage
        .write('candles', candles(500), { coverage: [mark(500)] })
        .catch((e: unknown) => e);
      expect((lost as StorageError).committed).toBe(false);
      expect(await count(prefix)).toEqual({ rows: 0, distinct: 0 });
      expect(await storage.coverage('candles', BTC_1M)).toEqual([]);
      proxy.trapNextCommit('drop-after');
      const done = await storage
        .write('candles', candles(500), { coverage: [mark(500)] })
        .catch((e: unknown) => e);
      expect((done as StorageError).committed).toBe(true);
      expect(await count(prefix)).toEqual({ rows: 500, distinct: 500 });
      expect(await storage.coverage('candles', BTC_1M)).toEqual([
        { from: T0, to: T0 + 500 * 60_000, state: 'stored' },
      ]);
      expect(await storage.write('candles', candles(500), { coverage: [mark(500)] })).toEqual({ written: 0 });
    });

    test('resilience: idle pool connections killed between writes are replaced; the next write succeeds at once', async () => {
      const app = `perpdata_idle_${suffix()}`;
      const pool = new pg.Pool({ connectionString: PG_URL, application_name: app, max: 3 });
      pool.on('error', () => {});
      pools.push(pool);
      const prefix = `idle${suffix()}_`;
      const storage = new PostgresStorage({ db: pool, schema, tablePrefix: prefix });
      storages.push(storage);
      await storage.migrate();
      expect(await storage.write('candles', candles(1_200))).toEqual({ written: 1_200 });
      expect(pool.totalCount).toBeGreaterThan(0);
      const { rows } = await admin.query(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1`,
        [app],
      );
      expect((rows[0] as { n: number }).n).toBeGreaterThan(0);
      // No waiting for the pool to notice: a dead connection met at BEGIN is discarded and another tried.
      expect(await storage.write('candles', candles(1_200, 600))).toEqual({ written: 600 });
      expect(await count(prefix)).toEqual({ rows: 1_800, distinct: 1_800 });
      expect(await storage.latest('candles', BTC_1M)).toBe(candles(1, 1_799)[0]?.ts);
    });
  });
}
