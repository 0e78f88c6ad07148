/**
 * Versioned migrations. Each version runs once, in one transaction with the others still pending, under a
 * transaction-scoped advisory lock keyed on schema and prefix, and is recorded in `<prefix>migrations`.
 * Two processes starting together: one migrates, the other waits for the lock and then finds nothing to do.
 */
import { InvalidArgumentError, StorageError } from '../../core/errors.js';
import type { DataKind } from '../../core/types.js';
import { keyFields } from '../records.js';
import type { Driver, Session } from './driver.js';
import { createCoverageTable, createDataTable, dataSpecs, ident, type Tables } from './sql.js';

/** First key of the advisory lock (`'perp'` in ASCII); the second is `hashtext(schema.prefix)`. */
export const MIGRATION_LOCK_CLASS = 0x70657270;

/** The text the second advisory-lock key is hashed from. */
export function migrationLockName(t: Tables): string {
  return `${t.schema}.${t.prefix}`;
}

/** One SQL statement with its parameters. */
export interface Statement {
  readonly text: string;
  readonly values?: unknown[];
}

/** How TimescaleDB is used, when it is. */
export interface TimescalePlan {
  /** Installed extension version. */
  readonly version: string;
  /** Chunk interval per kind, e.g. `'1 day'`. */
  readonly chunkInterval: Readonly<Record<DataKind, string>>;
  /** Compress chunks older than this; `undefined`: no compression. */
  readonly compressAfter: string | undefined;
}

/** What migrations build on. */
export interface MigrationContext {
  readonly tables: Tables;
  /** Present when the `timescaledb` extension is installed (and not disabled). */
  readonly timescale: TimescalePlan | undefined;
}

/** One schema version. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  statements(ctx: MigrationContext): Statement[];
}

/**
 * Default TimescaleDB chunk intervals: about a few hundred MB per chunk for hundreds of series (1m candles
 * and indicators: a day; 5m statistics: a week; funding every 8h: a month).
 */
export const DEFAULT_CHUNK_INTERVALS: Readonly<Record<DataKind, string>> = {
  candles: '1 day',
  indicators: '1 day',
  openInterest: '7 days',
  longShortRatio: '7 days',
  takerVolume: '7 days',
  liquidations: '7 days',
  predictedFunding: '7 days',
  funding: '30 days',
};

const INTERVAL_TEXT = /^[1-9]\d{0,5} (microsecond|millisecond|second|minute|hour|day|week|month|year)s?$/;

/** Checks an interval option such as `'7 days'` (a number and a unit, nothing else). */
export function validateIntervalText(name: string, value: unknown): string {
  if (typeof value !== 'string' || !INTERVAL_TEXT.test(value)) {
    throw new InvalidArgumentError(
      `${name} must be a Postgres interval such as '1 day' or '12 hours', got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value}`,
    );
  }
  return value;
}

function hypertableStatements(ctx: MigrationContext, plan: TimescalePlan): Statement[] {
  const out: Statement[] = [];
  for (const spec of dataSpecs()) {
    const table = ctx.tables.qualified(spec.table);
    out.push({
      text: `SELECT create_hypertable($1::regclass, 'ts', chunk_time_interval => $2::interval, create_default_indexes => false, if_not_exists => true)`,
      values: [table, plan.chunkInterval[spec.kind]],
    });
    if (plan.compressAfter !== undefined) {
      const segmentBy = keyFields(spec)
        .map((k) => ident(k))
        .join(', ')
        .replace(/'/g, "''");
      out.push({
        text: `ALTER TABLE ${table} SET (timescaledb.compress, timescaledb.compress_segmentby = '${segmentBy}', timescaledb.compress_orderby = 'ts DESC')`,
      });
      out.push({
        text: `SELECT add_compression_policy($1::regclass, compress_after => $2::interval, if_not_exists => true)`,
        values: [table, plan.compressAfter],
      });
    }
  }
  return out;
}

/** Every migration, in version order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'data tables, status and errors',
    statements(ctx) {
      const t = ctx.tables;
      const out: Statement[] = [];
      for (const spec of dataSpecs()) {
        out.push({ text: createDataTable(spec, t) });
        // The primary key serves latest() and read(). A BRIN index on ts is nearly free to maintain and
        // serves time-range scans across series; hypertables get time partitioning instead.
        if (!ctx.timescale) {
          out.push({
            text: `CREATE INDEX IF NOT EXISTS ${ident(`${t.prefix}${spec.table}_ts_brin`)} ON ${t.qualified(spec.table)} USING brin (ts)`,
          });
        }
      }
      if (ctx.timescale) out.push(...hypertableStatements(ctx, ctx.timescale));
      out.push({
        text: `CREATE TABLE IF NOT EXISTS ${t.status} (
  job text NOT NULL,
  series text NOT NULL DEFAULT '',
  source text, exchange text, symbol text, "interval" text, kind text,
  status text NOT NULL CHECK (status IN ('running', 'done', 'error')),
  message text,
  progress double precision,
  ts timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ${ident(`${t.prefix}status_pkey`)} PRIMARY KEY (job, series)
)`,
      });
      out.push({
        text: `CREATE TABLE IF NOT EXISTS ${t.errors} (
  id bigint GENERATED ALWAYS AS IDENTITY,
  job text NOT NULL,
  series text NOT NULL DEFAULT '',
  source text, exchange text, symbol text, "interval" text, kind text,
  code text,
  message text NOT NULL,
  detail jsonb,
  ts timestamptz NOT NULL,
  logged_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ${ident(`${t.prefix}errors_pkey`)} PRIMARY KEY (id)
)`,
      });
      out.push({
        text: `CREATE INDEX IF NOT EXISTS ${ident(`${t.prefix}errors_ts_idx`)} ON ${t.errors} (ts DESC)`,
      });
      out.push({
        text: `CREATE INDEX IF NOT EXISTS ${ident(`${t.prefix}errors_job_ts_idx`)} ON ${t.errors} (job, ts DESC)`,
      });
      return out;
    },
  },
  {
    version: 2,
    name: 'coverage ledger',
    statements(ctx) {
      return [{ text: createCoverageTable(ctx.tables) }];
    },
  },
  {
    version: 3,
    name: "job status 'stopped'",
    statements(ctx) {
      const t = ctx.tables;
      // Version 1's CHECK was unnamed: it is found by what it checks, whatever Postgres named it.
      const table = t.status.replaceAll("'", "''");
      return [
        {
          text: `DO $$ DECLARE c text; BEGIN
  FOR c IN SELECT conname FROM pg_constraint
    WHERE conrelid = '${table}'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%status%'
  LOOP
    EXECUTE format('ALTER TABLE ${table} DROP CONSTRAINT %I', c);
  END LOOP;
END $$`,
        },
        {
          text: `ALTER TABLE ${t.status} ADD CONSTRAINT ${ident(`${t.prefix}status_valid`)} CHECK (status IN ('running', 'done', 'error', 'stopped'))`,
        },
      ];
    },
  },
];

/** The newest schema version this perpdata knows. */
export const LATEST_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

/** How `migrate()` treats TimescaleDB. */
export interface TimescaleSettings {
  /** `'auto'`: use it when installed; `true`: install it (CREATE EXTENSION) or fail; `false`: never. */
  readonly mode: 'auto' | boolean;
  readonly chunkInterval: Readonly<Record<DataKind, string>>;
  readonly compressAfter: string | undefined;
}

function tooNew(found: number): Error {
  return new StorageError(
    `The schema is at version ${found}, newer than this perpdata knows (${LATEST_VERSION}); upgrade perpdata`,
  );
}

async function timescalePlan(s: Session, settings: TimescaleSettings): Promise<TimescalePlan | undefined> {
  if (settings.mode === false) return undefined;
  const probe = `SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`;
  let found = (await s.query(probe)).rows[0] as { extversion?: string } | undefined;
  if (!found && settings.mode === true) {
    await s.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
    found = (await s.query(probe)).rows[0] as { extversion?: string } | undefined;
  }
  if (!found?.extversion) return undefined;
  return {
    version: found.extversion,
    chunkInterval: settings.chunkInterval,
    compressAfter: settings.compressAfter,
  };
}

/** Brings the schema to `LATEST_VERSION`; returns the versions applied (none when up to date). */
export async function runMigrations(
  driver: Driver,
  t: Tables,
  settings: TimescaleSettings,
): Promise<number[]> {
  // Fast path for every start after the first: one read, no lock.
  const exists = await driver.query('SELECT to_regclass($1) IS NOT NULL AS present', [t.migrations]);
  if ((exists.rows[0] as { present?: boolean } | undefined)?.present) {
    const current = await driver.query(`SELECT coalesce(max(version), 0)::int AS v FROM ${t.migrations}`);
    const v = (current.rows[0] as { v: number } | undefined)?.v ?? 0;
    if (v > LATEST_VERSION) throw tooNew(v);
    if (v === LATEST_VERSION) return [];
  }
  return driver.transaction(async (s) => {
    await s.query('SELECT pg_advisory_xact_lock($1::int4, hashtext($2))', [
      MIGRATION_LOCK_CLASS,
      migrationLockName(t),
    ]);
    const ns = await s.query('SELECT 1 AS present FROM pg_namespace WHERE nspname = $1', [t.schema]);
    if (ns.rows.length === 0) {
      // Storages with other prefixes may create the same schema right now (their lock is another one):
      // serialise on the schema's name, then look again (CREATE SCHEMA IF NOT EXISTS is not race-free).
      await s.query('SELECT pg_advisory_xact_lock($1::int4, hashtext($2))', [MIGRATION_LOCK_CLASS, t.schema]);
      const again = await s.query('SELECT 1 AS present FROM pg_namespace WHERE nspname = $1', [t.schema]);
      if (again.rows.length === 0) await s.query(`CREATE SCHEMA ${ident(t.schema)}`);
    }
    await s.query(
      `CREATE TABLE IF NOT EXISTS ${t.migrations} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (await s.query(`SELECT version FROM ${t.migrations}`)).rows.map(
        (r) => (r as { version: number }).version,
      ),
    );
    const newest = Math.max(0, ...done);
    if (newest > LATEST_VERSION) throw tooNew(newest);
    const pending = MIGRATIONS.filter((m) => !done.has(m.version));
    if (pending.length === 0) return [];
    const ctx: MigrationContext = { tables: t, timescale: await timescalePlan(s, settings) };
    for (const migration of pending) {
      for (const statement of migration.statements(ctx)) await s.query(statement.text, statement.values);
      await s.query(`INSERT INTO ${t.migrations} (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
    return pending.map((m) => m.version);
  });
}
