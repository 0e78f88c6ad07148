export { DEFAULT_CHUNK_INTERVALS } from './migrations.js';
export {
  openPostgresStorage,
  type PostgresPoolOptions,
  PostgresStorage,
  type PostgresStorageOptions,
} from './storage.js';
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
