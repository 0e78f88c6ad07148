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
  /** Runs `text` with `$1`, `$2`, … bound to `values`. */
  query(text: string, values?: unknown[]): Promise<PgQueryResultLike>;
}

/** A connection checked out of a pool (`pg.PoolClient`). */
export interface PgPoolClientLike extends PgQueryable {
  /** Returns the connection to the pool; with an error, the pool discards it. */
  release(err?: Error | boolean): void;
}

/** A connection pool (`pg.Pool`). */
export interface PgPoolLike extends PgQueryable {
  /** Checks a connection out of the pool (transactions run on one). */
  connect(): Promise<PgPoolClientLike>;
  /** Closes every connection of the pool. */
  end(): Promise<void>;
  /** Connections the pool holds; tells a pool from a single client. */
  readonly totalCount: number;
}

/** One connected client (`pg.Client`), used for everything in turn. */
export interface PgClientLike extends PgQueryable {
  /** Closes the connection. */
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
  /** Runs one statement inside the transaction. */
  query(text: string, params?: unknown[], options?: PGliteQueryOptions): Promise<PGliteResultLike>;
}

/** An embedded PGlite database (`new PGlite()` from `@electric-sql/pglite`). */
export interface PGliteLike {
  /** Runs one parameterised statement. */
  query(text: string, params?: unknown[], options?: PGliteQueryOptions): Promise<PGliteResultLike>;
  /** Runs a script of statements without parameters (the migrations). */
  exec(text: string): Promise<unknown>;
  /** Runs `callback` in a transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(callback: (tx: PGliteTransactionLike) => Promise<T>): Promise<T>;
  /** Closes the database. */
  close(): Promise<void>;
}

/** Every database handle `PostgresStorage` accepts besides a connection string. */
export type PostgresHandle = PgPoolLike | PgClientLike | PGliteLike;
