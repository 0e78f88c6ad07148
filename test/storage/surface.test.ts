import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, expectTypeOf, test } from 'vitest';
import type { DataKind, RecordOf, SeriesKey } from '../../src/core/types.js';
import type {
  CoverageInterval,
  CoverageMark,
  ErrorEntry,
  StatusEntry,
  StorageAdapter,
  WriteOptions,
  WriteResult,
} from '../../src/storage/index.js';
import * as storage from '../../src/storage/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('perpdata/storage surface', () => {
  test('default: the runtime exports of perpdata/storage', () => {
    expect(Object.keys(storage).sort()).toEqual([
      'CONFLICT_POLICIES',
      'COVERAGE_STATES',
      'DEFAULT_CHUNK_INTERVALS',
      'JOB_STATUSES',
      'MemoryStorage',
      'PostgresStorage',
      'openPostgresStorage',
    ]);
  });

  test('default: StorageAdapter has exactly the methods of design.md plus the ledger, with their types', () => {
    expectTypeOf<keyof StorageAdapter>().toEqualTypeOf<
      'migrate' | 'write' | 'latest' | 'coverage' | 'read' | 'logStatus' | 'logError' | 'close'
    >();
    expectTypeOf<StorageAdapter['migrate']>().toEqualTypeOf<() => Promise<void>>();
    expectTypeOf<StorageAdapter['latest']>().toEqualTypeOf<
      (kind: DataKind, key: SeriesKey) => Promise<number | null>
    >();
    expectTypeOf<StorageAdapter['write']>().toEqualTypeOf<
      <K extends DataKind>(kind: K, rows: RecordOf<K>[], options?: WriteOptions) => Promise<WriteResult>
    >();
    expectTypeOf<StorageAdapter['coverage']>().toEqualTypeOf<
      (kind: DataKind, key: SeriesKey, from?: number, to?: number) => Promise<CoverageInterval[]>
    >();
    expectTypeOf<keyof CoverageMark>().toEqualTypeOf<'key' | 'from' | 'to' | 'state' | 'reason'>();
    expectTypeOf<CoverageInterval['state']>().toEqualTypeOf<'stored' | 'empty'>();
    expectTypeOf<keyof WriteOptions>().toEqualTypeOf<'coverage'>();
    expectTypeOf<StorageAdapter['read']>().toEqualTypeOf<
      <K extends DataKind>(kind: K, key: SeriesKey, from: number, to: number) => AsyncIterable<RecordOf<K>[]>
    >();
    expectTypeOf<WriteResult>().toEqualTypeOf<{ readonly written: number }>();
    expectTypeOf<StatusEntry['status']>().toEqualTypeOf<'running' | 'done' | 'error' | 'stopped'>();
    expectTypeOf<keyof ErrorEntry>().toEqualTypeOf<'job' | 'message' | 'code' | 'series' | 'ts' | 'detail'>();
    expectTypeOf<storage.MemoryStorage>().toMatchTypeOf<StorageAdapter>();
    expectTypeOf<storage.PostgresStorage>().toMatchTypeOf<StorageAdapter>();
  });

  test('behavior: a pg.Pool, a pg.Client and a PGlite instance fit the db option without casts', () => {
    expectTypeOf<import('pg').Pool>().toMatchTypeOf<storage.PgPoolLike>();
    expectTypeOf<import('pg').Client>().toMatchTypeOf<storage.PgClientLike>();
    expectTypeOf<import('@electric-sql/pglite').PGlite>().toMatchTypeOf<storage.PGliteLike>();
  });

  test('behavior: importing perpdata/storage loads neither pg, pg-copy-streams, PGlite nor perpdata/testing (msw, ws)', async () => {
    // A fresh Node process imports the entry point, then lists the packages in the CommonJS cache (where
    // pg and pg-copy-streams land however they are imported) and the ESM module URLs it can see.
    const script = (extra: string) => `
      import { createRequire } from 'node:module';
      ${extra}
      await import('./src/storage/index.ts');
      const require = createRequire(import.meta.url);
      const loaded = Object.keys(require.cache).filter((k) => /node_modules[\\\\/](pg|pg-copy-streams|@electric-sql|msw|ws)[\\\\/]/.test(k));
      console.log(JSON.stringify(loaded.map((k) => k.replace(/.*node_modules[\\\\/]/, '').split(/[\\\\/]/)[0])));
    `;
    const run = async (extra: string) => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script(extra)],
        { cwd: root },
      );
      return JSON.parse(stdout.trim().split('\n').pop() ?? '[]') as string[];
    };
    expect(await run('')).toEqual([]);
    // Control: the same probe does see pg when something imports it.
    expect(await run(`await import('pg');`)).toContain('pg');
    // And sees perpdata/testing's peers when the simulators are loaded.
    expect(await run(`await import('./src/testing/index.ts');`)).toContain('ws');
  }, 30_000);
});
