/**
 * The small structural subset of `pg` and PGlite that `PostgresStorage` uses. A `pg.Pool`, a `pg.Client`
 * or a PGlite instance fit without perpdata importing either package's types.
 */

/** What a query resolves to: rows, and for writes how many rows the command touched. */
export interface PgQueryResultLike {
  readonly rows: unknown[];
  readonly rowCount?: number | null;
}

/** Anything that runs a parameterised query: a `pg.Pool`, a `pg.Client`, a `pg.PoolClient`. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<PgQueryResultLike>;
}

/** A connection checked out of a pool (`pg.PoolClient`). */
export interface PgPoolClientLike extends PgQueryable {
  /** Returns the connection to the pool; with an error, the pool discards it. */
  release(err?: Error | boolean): void;
}

/** A connection pool (`pg.Pool`). */
export interface PgPoolLike extends PgQueryable {
  connect(): Promise<PgPoolClientLike>;
  end(): Promise<void>;
  /** Connections the pool holds; tells a pool from a single client. */
  readonly totalCount: number;
}

/** One connected client (`pg.Client`), used for everything in turn. */
export interface PgClientLike extends PgQueryable {
  end(): Promise<void>;
}

/** Query options of PGlite that perpdata uses (`blob` feeds `COPY … FROM '/dev/blob'`). */
export interface PGliteQueryOptions {
  blob?: Blob;
}

/** What a PGlite query resolves to. */
export interface PGliteResultLike {
  readonly rows: unknown[];
  readonly affectedRows?: number;
}

/** A PGlite transaction. */
export interface PGliteTransactionLike {
  query(text: string, params?: unknown[], options?: PGliteQueryOptions): Promise<PGliteResultLike>;
}

/** An embedded PGlite database (`new PGlite()` from `@electric-sql/pglite`). */
export interface PGliteLike {
  query(text: string, params?: unknown[], options?: PGliteQueryOptions): Promise<PGliteResultLike>;
  exec(text: string): Promise<unknown>;
  transaction<T>(callback: (tx: PGliteTransactionLike) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Every database handle `PostgresStorage` accepts besides a connection string. */
export type PostgresHandle = PgPoolLike | PgClientLike | PGliteLike;
