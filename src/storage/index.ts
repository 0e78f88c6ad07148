/**
 * `perpdata/storage`: the `StorageAdapter` contract, `MemoryStorage`, and `PostgresStorage` on a `pg`
 * pool, a connection string or PGlite, with the structural database types it accepts.
 * @module perpdata/storage
 */
export {
  CONFLICT_POLICIES,
  COVERAGE_STATES,
  type ConflictPolicy,
  type CoverageInterval,
  type CoverageMark,
  type CoverageState,
  type ErrorEntry,
  type ErrorQuery,
  JOB_STATUSES,
  type JobStatus,
  type StatusEntry,
  type StatusReader,
  type StorageAdapter,
  type StoredError,
  type StoredStatus,
  type WriteOptions,
  type WriteResult,
} from './adapter.js';
export { MemoryStorage, type MemoryStorageOptions } from './memory.js';
export {
  DEFAULT_CHUNK_INTERVALS,
  openPostgresStorage,
  type PGliteLike,
  type PGliteQueryOptions,
  type PGliteResultLike,
  type PGliteTransactionLike,
  type PgClientLike,
  type PgPoolClientLike,
  type PgPoolLike,
  type PgQueryable,
  type PgQueryResultLike,
  type PostgresHandle,
  type PostgresPoolOptions,
  PostgresStorage,
  type PostgresStorageOptions,
} from './postgres/index.js';
