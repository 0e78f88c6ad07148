export {
  CONFLICT_POLICIES,
  type ConflictPolicy,
  type ErrorEntry,
  type ErrorQuery,
  JOB_STATUSES,
  type JobStatus,
  type StatusEntry,
  type StatusReader,
  type StorageAdapter,
  type StoredError,
  type StoredStatus,
  type WriteResult,
} from './adapter.js';
export { MemoryStorage, type MemoryStorageOptions } from './memory.js';
export * from './postgres/index.js';
