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
export * from './postgres/index.js';
