/**
 * Databases the Postgres tests run on: PGlite always, and the real server when
 * `PERPDATA_TEST_DATABASE_URL` is set. Every test file works in a schema of its own (random suffix),
 * dropped in `close()`.
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type {
  PGliteLike,
  PGliteTransactionLike,
  PgPoolLike,
  PostgresHandle,
} from '../../src/storage/index.js';
import { suffix } from './fixtures.js';

/** URL of the real server, when the tests should use one. */
export const PG_URL = process.env.PERPDATA_TEST_DATABASE_URL || undefined;

/** Names of the backends to run on. */
export const BACKENDS: ('pglite' | 'postgres')[] = PG_URL ? ['pglite', 'postgres'] : ['pglite'];

if (!PG_URL) {
  console.info(
    '[perpdata storage tests] PERPDATA_TEST_DATABASE_URL is not set: the Postgres suites run on PGlite only; ' +
      'tests that need a real server (pg_terminate_backend, TCP proxy, pg.Client) are not registered.',
  );
}

/** One database with a schema of its own. */
export interface Backend {
  readonly name: 'pglite' | 'postgres';
  /** Schema the storages of this file use. */
  readonly schema: string;
  /** The handle to give `PostgresStorage` (the PGlite instance or the pool). */
  readonly db: PGlite | pg.Pool;
  /** Runs a query outside any storage. */
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  /** Drops the schema and closes the database. */
  close(): Promise<void>;
}

/** Opens a backend with a fresh schema name (created by the first `migrate()`). */
export async function openBackend(name: 'pglite' | 'postgres'): Promise<Backend> {
  const schema = `perpdata_test_${suffix()}`;
  if (name === 'pglite') {
    const db = new PGlite();
    return {
      name,
      schema,
      db,
      query: async <R>(text: string, values?: unknown[]) => (await db.query<R>(text, values)).rows,
      close: () => db.close(),
    };
  }
  const pool = new pg.Pool({ connectionString: PG_URL, max: 6 });
  pool.on('error', () => {});
  return {
    name,
    schema,
    db: pool,
    query: async <R>(text: string, values?: unknown[]) => (await pool.query(text, values)).rows as R[],
    close: async () => {
      // A file opens hundreds of storages: dropping all their tables in one transaction would need more
      // locks than max_locks_per_transaction allows, so drop them a batch at a time first.
      for (;;) {
        const { rows } = await pool.query<{ name: string }>(
          `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = $1 LIMIT 50`,
          [schema],
        );
        if (rows.length === 0) break;
        await pool.query(
          `DROP TABLE IF EXISTS ${rows.map((r) => `"${schema}".${r.name}`).join(', ')} CASCADE`,
        );
      }
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

/** A statement as a storage issued it. */
export interface Recorded {
  readonly text: string;
  readonly values: unknown[] | undefined;
}

/** Hooks of an instrumented handle. */
export interface Hooks {
  /** Called before a statement (not a COPY stream) is sent on a pooled connection. */
  before?(text: string): Promise<void>;
  /** Called after a statement answered, before the storage sees the answer. */
  after?(text: string, run: (text: string, values?: unknown[]) => Promise<unknown>): Promise<void>;
}

/**
 * Wraps a PGlite instance or a pg pool so that every statement a storage issues is recorded (COPY
 * included), optionally with a hook after each statement. The wrapper keeps the handle's shape.
 */
export function instrument(
  db: PGlite | pg.Pool,
  hooks: Hooks = {},
): { handle: PostgresHandle; log: Recorded[] } {
  const log: Recorded[] = [];
  const textOf = (q: unknown) => (typeof q === 'string' ? q : String((q as { text?: unknown }).text ?? ''));
  if (db instanceof PGlite) {
    const wrapTx = (tx: PGliteTransactionLike): PGliteTransactionLike => ({
      query: async (text, params, options) => {
        log.push({ text, values: params });
        const result = await tx.query(text, params, options);
        await hooks.after?.(text, (t, v) => tx.query(t, v));
        return result;
      },
    });
    const handle: PGliteLike = {
      query: async (text, params, options) => {
        log.push({ text, values: params });
        const result = await db.query(text, params, options);
        await hooks.after?.(text, (t, v) => db.query(t, v));
        return result;
      },
      exec: (text) => db.exec(text),
      transaction: (callback) =>
        db.transaction((tx) => callback(wrapTx(tx as unknown as PGliteTransactionLike))),
      close: () => db.close(),
    };
    return { handle, log };
  }
  const pool = db;
  const wrapClient = (client: pg.PoolClient) =>
    new Proxy(client, {
      get(target, prop, receiver) {
        if (prop !== 'query') {
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return (q: unknown, values?: unknown[]) => {
          // A COPY stream is submitted as it is; a statement (text, or a prepared { name, text, values })
          // goes through the hooks.
          const submittable = typeof (q as { submit?: unknown }).submit === 'function';
          const config =
            typeof q === 'object' && q !== null && !submittable ? (q as pg.QueryConfig) : undefined;
          log.push({ text: textOf(q), values: config ? config.values : values });
          if (submittable) return (target.query as (x: unknown) => unknown)(q);
          const text = config ? config.text : (q as string);
          const send = () => (config ? target.query(config) : target.query(text, values));
          const sent = hooks.before ? hooks.before(text).then(send) : send();
          return sent.then(async (result) => {
            await hooks.after?.(text, (t, v) => pool.query(t, v));
            return result;
          });
        };
      },
    });
  const handle = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'connect') return async () => wrapClient(await target.connect());
      if (prop === 'query') {
        return async (text: string, values?: unknown[]) => {
          log.push({ text, values });
          const result = await target.query(text, values);
          await hooks.after?.(text, (t, v) => target.query(t, v));
          return result;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as unknown as PgPoolLike;
  return { handle, log };
}
