/**
 * One seam over the three database handles: a `pg` pool, a single `pg` client, and PGlite. It runs
 * queries, runs transactions that report whether they committed, and feeds binary COPY.
 * `pg` and `pg-copy-streams` are loaded here, with `import()`, the first time they are needed.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isConnectionError, TransactionFailure } from './errors.js';
import { fnv1a } from './sql.js';
import type {
  PGliteLike,
  PGliteTransactionLike,
  PgClientLike,
  PgPoolClientLike,
  PgPoolLike,
  PgQueryable,
  PostgresHandle,
} from './types.js';

/** Rows and affected-row count of a query. */
export interface QueryResult {
  readonly rows: Record<string, unknown>[];
  readonly rowCount: number;
}

/** A connection inside a transaction. */
export interface Session {
  /**
   * Runs a statement. With `prepare`, `pg` runs it as a named prepared statement (parsed and planned once
   * per connection; the name is derived from the text). PGlite ignores it.
   */
  query(text: string, values?: unknown[], prepare?: boolean): Promise<QueryResult>;
  /**
   * Runs `COPY <target> FROM STDIN WITH (FORMAT binary)` with the given stream; resolves with the rows
   * copied.
   */
  copyIn(target: string, chunks: Iterable<Uint8Array>): Promise<number>;
  /** True when `fact` (e.g. "staging table X exists") was recorded on this connection. */
  knows(fact: string): boolean;
  /** Records `fact` for this connection once the transaction commits. */
  learn(fact: string): void;
  /**
   * Hands the driver the transaction id that the body's last write statement read with
   * `txid_current_if_assigned()` (NULL: nothing was written), so that the driver need not ask for it
   * before COMMIT. Only valid when no write follows.
   */
  settle(xid: string | null): void;
}

/** Options of `Driver.transaction()`. */
export interface TransactionOptions {
  /**
   * Transaction-scoped advisory locks (`pg_advisory_xact_lock(a, b)`) taken with BEGIN, in one round
   * trip, before any statement of the body takes its snapshot. Ignored on PGlite (one connection).
   */
  readonly locks?: readonly (readonly [number, number])[] | undefined;
  /**
   * The body's first statement (a prepared one): on `pg`, once it is prepared on the connection, it travels
   * with BEGIN in one simple query (`EXECUTE name(…)`, values as dollar-quoted literals), sparing a round
   * trip. Its result is the body's second argument.
   */
  readonly first?: { readonly text: string; readonly values: readonly unknown[] } | undefined;
  /**
   * Work to do while BEGIN is on its way (e.g. encoding the COPY data), called once right after it was
   * sent. It must not throw; what it prepares is an optimisation the body can do without.
   */
  readonly meanwhile?: (() => void) | undefined;
}

/** The database behind a `PostgresStorage`. */
export interface Driver {
  readonly kind: 'pg' | 'pglite';
  /** A query outside any transaction. */
  query(text: string, values?: unknown[]): Promise<QueryResult>;
  /** Runs `fn` in a transaction; failures are `TransactionFailure`s that say whether it committed. */
  transaction<T>(
    fn: (session: Session, first: QueryResult | undefined) => Promise<T>,
    options?: TransactionOptions,
  ): Promise<T>;
  /** Whether `copyIn` is available (pg needs `pg-copy-streams`). */
  canCopy(): Promise<boolean>;
  /** Closes what the driver owns. */
  close(): Promise<void>;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function toResult(result: { rows: unknown[]; rowCount?: number | null; affectedRows?: number }): QueryResult {
  return {
    rows: result.rows as Record<string, unknown>[],
    rowCount: result.rowCount ?? result.affectedRows ?? 0,
  };
}

/** Resolves with `promise`, or with `fallback` after `ms`. Clears its timer either way. */
async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const statementNames = new Map<string, string>();

/** A prepared statement's name: a hash of its text (the same text always gets the same name). */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `perpdata_${fnv1a(text)}_${fnv1a(`${text.length}:${text}`)}`;
    if (statementNames.size > 1_000) statementNames.clear();
    statementNames.set(text, name);
  }
  return name;
}

/**
 * A value as an SQL literal for `EXECUTE name(…)`: NULL, or its text form (arrays in array syntax) in
 * dollar quotes whose tag does not occur in the text, so no content can end the literal. The prepared
 * statement's parameter types give the literal its type.
 */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  const item = (v: unknown): string => {
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new Error(`cannot send ${v} as a literal`);
      return String(v);
    }
    return String(v);
  };
  const text = Array.isArray(value)
    ? `{${value.map((v) => (v === null || v === undefined ? 'NULL' : `"${item(v).replace(/[\\"]/g, (c) => `\\${c}`)}"`)).join(',')}}`
    : item(value);
  let tag = 'p';
  for (let i = 0; text.includes(`$${tag}`); i++) tag = `p${i}`;
  return `$${tag}$${text}$${tag}$`;
}

/** Structural shape of `pg-copy-streams`. */
interface CopyStreams {
  from(text: string): NodeJS.WritableStream & { rowCount?: number };
}

let copyStreams: Promise<CopyStreams | undefined> | undefined;

/** Loads `pg-copy-streams` once; `undefined` when it is not installed. */
function loadCopyStreams(): Promise<CopyStreams | undefined> {
  copyStreams ??= import('pg-copy-streams').then(
    (mod) => {
      const m = mod as unknown as CopyStreams & { default?: CopyStreams };
      return typeof m.from === 'function' ? m : m.default;
    },
    () => undefined,
  );
  return copyStreams;
}

/** Structural shape of the `pg` module. */
interface PgModule {
  Pool: new (
    config: Record<string, unknown>,
  ) => PgPoolLike & { on(event: 'error', fn: (err: Error) => void): unknown };
}

/** Settings of a pool `PostgresStorage` creates from a connection string. */
export interface OwnedPoolSettings {
  readonly max: number;
  readonly connectionTimeoutMillis: number;
  readonly idleTimeoutMillis: number;
  readonly applicationName: string;
}

/** Loads `pg` and opens a pool for a connection string. */
export async function openPool(connectionString: string, settings: OwnedPoolSettings): Promise<PgPoolLike> {
  const mod = (await import('pg')) as unknown as PgModule & { default?: PgModule };
  const pg = typeof mod.Pool === 'function' ? mod : (mod.default as PgModule);
  const pool = new pg.Pool({
    connectionString,
    max: settings.max,
    connectionTimeoutMillis: settings.connectionTimeoutMillis,
    idleTimeoutMillis: settings.idleTimeoutMillis,
    application_name: settings.applicationName,
  });
  // An idle connection that dies (server restart, pg_terminate_backend) is removed by the pool, which
  // then emits 'error'. Without a listener that would crash the process; the next checkout reconnects.
  pool.on('error', () => {});
  return pool;
}

/** Tells the handle types apart. */
export function handleKind(db: PostgresHandle): 'pool' | 'client' | 'pglite' {
  const h = db as unknown as Record<string, unknown>;
  if (typeof h.transaction === 'function' && typeof h.exec === 'function') return 'pglite';
  if (typeof h.connect === 'function' && typeof h.totalCount === 'number') return 'pool';
  return 'client';
}

/** Connections tried for one transaction when each turns out dead before BEGIN completes. */
const MAX_BEGIN_ATTEMPTS = 5;

/** A connection borrowed for one transaction. */
interface Lease {
  readonly client: PgQueryable;
  /** Set when the connection emitted 'error' while leased. */
  broken: Error | undefined;
  release(err?: Error): void;
}

type EventTarget = {
  on?: (e: string, f: (err: Error) => void) => unknown;
  off?: (e: string, f: (err: Error) => void) => unknown;
};

/** A `pg` pool or a single `pg` client. */
export class PgDriver implements Driver {
  readonly kind = 'pg';
  readonly #pool: PgPoolLike | undefined;
  readonly #client: PgClientLike | undefined;
  readonly #owned: boolean;
  /** Per-connection facts (staging tables created), keyed by the client object. */
  readonly #facts = new WeakMap<object, Set<string>>();
  /** Serialises use of a single client. */
  #queue: Promise<void> = Promise.resolve();

  constructor(db: PgPoolLike | PgClientLike, owned: boolean) {
    if (handleKind(db) === 'pool') this.#pool = db as PgPoolLike;
    else this.#client = db as PgClientLike;
    this.#owned = owned;
  }

  async #acquire(): Promise<Lease> {
    let client: PgQueryable & EventTarget;
    let done: (err?: Error) => void;
    if (this.#pool) {
      const pooled = (await this.#pool.connect()) as PgPoolClientLike & EventTarget;
      client = pooled;
      done = (err) => pooled.release(err);
    } else {
      const previous = this.#queue;
      let unlock: () => void = () => {};
      this.#queue = new Promise<void>((resolve) => {
        unlock = resolve;
      });
      await previous;
      client = this.#client as PgClientLike & EventTarget;
      done = () => unlock();
    }
    const lease: Lease = {
      client,
      broken: undefined,
      release: (err) => {
        client.off?.('error', onError);
        done(err ?? lease.broken);
      },
    };
    // A leased pg client emits 'error' when its connection dies between queries; unhandled, that
    // would crash the process. Record it instead: the next query fails and the client is discarded.
    const onError = (err: Error) => {
      lease.broken = err;
    };
    client.on?.('error', onError);
    return lease;
  }

  async query(text: string, values?: unknown[]): Promise<QueryResult> {
    if (this.#pool) return toResult(await this.#pool.query(text, values));
    const lease = await this.#acquire();
    try {
      return toResult(await lease.client.query(text, values));
    } finally {
      lease.release();
    }
  }

  async canCopy(): Promise<boolean> {
    return (await loadCopyStreams()) !== undefined;
  }

  #session(lease: Lease, pending: Set<string>, settled: { xid?: string | null }): Session {
    const known = this.#facts.get(lease.client) ?? new Set<string>();
    return {
      settle: (xid) => {
        settled.xid = xid;
      },
      query: async (text, values, prepare) => {
        if (!prepare) return toResult(await lease.client.query(text, values));
        const named = lease.client as unknown as {
          query(config: { name: string; text: string; values?: unknown[] | undefined }): Promise<QueryResult>;
        };
        return toResult(await named.query({ name: statementName(text), text, values }));
      },
      copyIn: async (target, chunks) => {
        const streams = await loadCopyStreams();
        if (!streams) throw new Error('pg-copy-streams is not installed');
        const stream = (
          lease.client as unknown as { query(s: unknown): NodeJS.WritableStream & { rowCount?: number } }
        ).query(streams.from(`COPY ${target} FROM STDIN WITH (FORMAT binary)`));
        await pipeline(Readable.from(chunks), stream);
        return stream.rowCount ?? 0;
      },
      knows: (fact) => known.has(fact),
      learn: (fact) => {
        pending.add(fact);
      },
    };
  }

  /**
   * A leased connection with a transaction begun. A pooled connection that turns
   * out dead before anything of the transaction ran (killed while idle, server restarted since) is
   * discarded and another one tried: nothing was sent, so nothing can be half done.
   */
  async #begin(
    locks: readonly (readonly [number, number])[] = [],
    first?: TransactionOptions['first'],
    meanwhile?: () => void,
  ): Promise<{ lease: Lease; first: QueryResult | undefined }> {
    let idle = meanwhile;
    const overlap = <T>(sent: Promise<T>): Promise<T> => {
      const work = idle;
      idle = undefined;
      try {
        work?.();
      } catch {
        // An optimisation only; the body does without.
      }
      return sent;
    };
    const begin = beginText(locks);
    const name = first ? statementName(first.text) : undefined;
    for (let attempt = 1; ; attempt++) {
      let lease: Lease;
      try {
        lease = await this.#acquire();
      } catch (err) {
        throw new TransactionFailure(false, err, 'connect');
      }
      try {
        if (!first || !name) {
          await overlap(lease.client.query(begin));
          return { lease, first: undefined };
        }
        const known = this.#facts.get(lease.client) ?? new Set<string>();
        const fact = `prepared ${name}`;
        if (known.has(fact)) {
          const text = `${begin}; EXECUTE ${name}(${first.values.map(sqlLiteral).join(', ')})`;
          const results = (await overlap(lease.client.query(text))) as unknown;
          const last = Array.isArray(results) ? results[results.length - 1] : results;
          return { lease, first: toResult(last as { rows: unknown[] }) };
        }
        await overlap(lease.client.query(begin));
        const named = lease.client as unknown as {
          query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
        };
        const result = toResult(await named.query({ name, text: first.text, values: [...first.values] }));
        // A statement prepared at protocol level outlives the transaction, whatever its outcome.
        known.add(fact);
        this.#facts.set(lease.client, known);
        return { lease, first: result };
      } catch (err) {
        const lost = lease.broken !== undefined || isConnectionError(err);
        lease.release(asError(lease.broken ?? err));
        if (!lost || !this.#pool || attempt >= MAX_BEGIN_ATTEMPTS) {
          throw new TransactionFailure(false, err, lost ? 'connect' : 'body');
        }
      }
    }
  }

  async transaction<T>(
    fn: (session: Session, first: QueryResult | undefined) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    const { lease, first } = await this.#begin(options.locks, options.first, options.meanwhile);
    let stage: 'body' | 'commit' = 'body';
    let xid: string | undefined;
    const pending = new Set<string>();
    const settled: { xid?: string | null } = {};
    try {
      const result = await fn(this.#session(lease, pending, settled), first);
      // The transaction id lets us ask the server, on another connection, whether a COMMIT whose answer
      // was lost went through (txid_status, Postgres 10+). Read only after the last write (by the body's
      // last statement, or here), so that a transaction that changed nothing gets no id and its COMMIT no
      // WAL flush; without an id there is nothing to lose.
      if (settled.xid !== undefined) xid = settled.xid ?? undefined;
      else {
        const id = await lease.client.query('SELECT txid_current_if_assigned()::text AS xid');
        xid = (id.rows[0] as { xid?: string | null } | undefined)?.xid ?? undefined;
      }
      stage = 'commit';
      await lease.client.query('COMMIT');
      if (pending.size > 0) {
        const known = this.#facts.get(lease.client) ?? new Set<string>();
        for (const fact of pending) known.add(fact);
        this.#facts.set(lease.client, known);
      }
      lease.release();
      return result;
    } catch (err) {
      const lost = lease.broken !== undefined || isConnectionError(err);
      if (lost) {
        lease.release(asError(lease.broken ?? err));
        // Without a transaction id nothing was changed, so nothing can have been committed.
        const committed = stage === 'commit' && xid !== undefined ? await this.#outcome(xid) : false;
        throw new TransactionFailure(committed, err, stage);
      }
      // The server refused a statement (or COMMIT): the transaction is aborted; end it and reuse the
      // connection unless ROLLBACK itself fails.
      try {
        await lease.client.query('ROLLBACK');
        lease.release();
      } catch (rollbackError) {
        lease.release(asError(rollbackError));
      }
      throw new TransactionFailure(false, err, stage);
    }
  }

  /**
   * Whether a transaction whose COMMIT answer was lost committed: asks `txid_status` on a fresh
   * connection, waiting out 'in progress' briefly. `'unknown'` when the server cannot be reached.
   */
  async #outcome(xid: string | undefined): Promise<boolean | 'unknown'> {
    if (!xid || !this.#pool) return 'unknown';
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      let status: unknown;
      try {
        const result = await within(
          this.#pool.query('SELECT txid_status($1::bigint) AS status', [xid]),
          Math.max(1, deadline - Date.now()),
          undefined,
        );
        if (!result) return 'unknown';
        status = (result.rows[0] as { status?: unknown } | undefined)?.status;
      } catch {
        return 'unknown';
      }
      if (status === 'committed') return true;
      if (status === 'aborted') return false;
      if (status !== 'in progress') return 'unknown';
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return 'unknown';
  }

  async close(): Promise<void> {
    if (!this.#owned) return;
    if (this.#pool) await this.#pool.end();
    else await this.#client?.end();
  }
}

/** An embedded PGlite database (one connection, in process). */
export class PgliteDriver implements Driver {
  readonly kind = 'pglite';
  readonly #db: PGliteLike;
  readonly #owned: boolean;
  readonly #facts = new Set<string>();

  constructor(db: PGliteLike, owned: boolean) {
    this.#db = db;
    this.#owned = owned;
  }

  async query(text: string, values?: unknown[]): Promise<QueryResult> {
    return toResult(await this.#db.query(text, values));
  }

  async canCopy(): Promise<boolean> {
    return typeof Blob === 'function';
  }

  #session(tx: PGliteTransactionLike, pending: Set<string>): Session {
    return {
      settle: () => {},
      query: async (text, values) => toResult(await tx.query(text, values)),
      copyIn: async (target, chunks) => {
        const blob = new Blob([...chunks] as BlobPart[]);
        const result = await tx.query(`COPY ${target} FROM '/dev/blob' WITH (FORMAT binary)`, [], { blob });
        return result.affectedRows ?? 0;
      },
      knows: (fact) => this.#facts.has(fact),
      learn: (fact) => {
        pending.add(fact);
      },
    };
  }

  async transaction<T>(
    fn: (session: Session, first: QueryResult | undefined) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    const pending = new Set<string>();
    const first = options.first;
    try {
      const result = await this.#db.transaction(async (tx) => {
        const session = this.#session(tx, pending);
        return fn(session, first ? await session.query(first.text, [...first.values]) : undefined);
      });
      for (const fact of pending) this.#facts.add(fact);
      return result;
    } catch (err) {
      throw new TransactionFailure(false, err, 'body');
    }
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#db.close();
  }
}

/**
 * `BEGIN`, with the transaction's advisory locks in the same simple query. Lock keys are integers
 * (validated here), so they can travel in its text.
 */
function beginText(locks: readonly (readonly [number, number])[]): string {
  for (const [a, b] of locks) {
    if (a !== (a | 0) || b !== (b | 0)) {
      throw new TransactionFailure(false, new Error('advisory lock keys must be int4'), 'body');
    }
  }
  const lock = locks.map(([a, b]) => `pg_advisory_xact_lock(${a}, ${b})`).join(', ');
  return lock ? `BEGIN; SELECT ${lock}` : 'BEGIN';
}
