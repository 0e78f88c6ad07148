export { DEFAULT_CHUNK_INTERVALS } from './migrations.js';
export { openPostgresStorage } from './open.js';
export type { PostgresPoolOptions, PostgresStorageOptions } from './options.js';
export { PostgresStorage } from './postgres-storage.js';
export type {
  PGliteLike,
  PGliteQueryOptions,
  PGliteResultLike,
  PGliteTransactionLike,
  PgClientLike,
  PgPoolClientLike,
  PgPoolLike,
  PgQueryable,
  PgQueryResultLike,
  PostgresHandle,
} from './types.js';
