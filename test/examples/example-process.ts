/**
 * An example script in a child process (`node --import tsx`, one process, so that a signal reaches it
 * directly), with the database the example tests use: the PostgreSQL server of
 * `PERPDATA_TEST_DATABASE_URL` in a schema of its own (dropped by `close()`), or, when it is unset,
 * embedded PGlite in a temporary folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Interval, SeriesKey } from '../../src/core/index.js';
import { openPostgresStorage, type PostgresStorage } from '../../src/storage/index.js';

export const ROOT = join(import.meta.dirname, '..', '..');
const PG_URL = process.env.PERPDATA_TEST_DATABASE_URL || undefined;
export const MINUTE = 60_000;

export interface ExampleRun {
  readonly child: ChildProcess;
  /** Everything written so far. */
  readonly out: { stdout: string; stderr: string };
  /** Resolves to the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the match once `pattern` appears on stdout; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
}

/** Starts `examples/<script>` with `args`, no Coinalyze key, and `env` on top of the test's environment. */
export function startExample(
  script: string,
  args: readonly string[],
  env: Record<string, string> = {},
): ExampleRun {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('DATABASE_URL' in env)) delete childEnv.DATABASE_URL;
  delete childEnv.COINALYZE_API_KEY;
  const child = spawn(process.execPath, ['--import', 'tsx', join('examples', script), ...args], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (d: Buffer) => {
    out.stdout += d.toString();
    for (const w of waiters) w();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out.stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const w of waiters) w();
      resolve({ code, signal });
    });
  });
  return {
    child,
    out,
    exited,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(out.stdout);
          if (m) {
            done();
            resolve(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`exited before ${pattern}:\n${out.stdout}\n${out.stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${out.stdout}\n${out.stderr}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Runs an example to its end. */
export async function runExample(script: string, args: readonly string[], env: Record<string, string> = {}) {
  const run = startExample(script, args, env);
  const { code } = await run.exited;
  return { code, stdout: run.out.stdout, stderr: run.out.stderr };
}

/** A database for one test file: the example's flags and env, a storage to check it, and cleanup. */
export interface ExampleDatabase {
  /** Flags that point the example at this database (`--schema` or `--data-dir`). */
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  readonly label: string;
  /** Opens a storage on what the example wrote (after it exited, for PGlite). */
  open(): Promise<PostgresStorage>;
  close(): Promise<void>;
}

export async function exampleDatabase(): Promise<ExampleDatabase> {
  if (PG_URL) {
    const schema = `perpdata_example_${randomBytes(4).toString('hex')}`;
    return {
      args: ['--schema', schema],
      env: { DATABASE_URL: PG_URL },
      label: `PostgreSQL, schema ${schema}`,
      open: () => openPostgresStorage({ url: PG_URL, schema }),
      async close() {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        try {
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await client.end();
        }
      },
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'perpdata-example-'));
  const dataDir = join(dir, 'db');
  return {
    args: ['--data-dir', dataDir],
    env: {},
    label: `embedded PGlite in ${dataDir}`,
    open: () => openPostgresStorage({ dataDir }),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/** `2024-06-01T12:34Z` as the examples print it, in ms. */
export const parseIso = (text: string): number => {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new Error(`not a time: ${text}`);
  return ms;
};

/** The 1m candle key of a venue's symbol. */
export const candleKey = (source: 'binance' | 'bybit' | 'okx', symbol: string): SeriesKey => ({
  source,
  exchange: source,
  symbol,
  interval: '1m' as Interval,
});

/**
 * A candle series as stored: ts of every row, and its ledger. Contiguous means every row follows the
 * one before by one minute and the ledger holds one stored interval exactly over the rows (the
 * simulated market has every minute).
 */
export async function storedCandles(storage: PostgresStorage, key: SeriesKey) {
  const ts: number[] = [];
  for await (const page of storage.read('candles', key, 0, Number.MAX_SAFE_INTEGER))
    for (const r of page) ts.push(r.ts);
  const ledger = await storage.coverage('candles', key);
  const steps = ts.slice(1).filter((t, i) => t - (ts[i] as number) !== MINUTE).length;
  return { ts, ledger, steps };
}

/** The summary row of a series: live rows and last ts (`-` when none). */
export function summaryRow(
  stdout: string,
  id: string,
): { rows: number; last: number | undefined } | undefined {
  const m = new RegExp(
    `^${id.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+([\\d,]+)\\s+(\\S+)\\s`,
    'm',
  ).exec(stdout);
  if (!m) return undefined;
  return {
    rows: Number((m[1] as string).replaceAll(',', '')),
    last: m[2] === '-' ? undefined : parseIso(m[2] as string),
  };
}
