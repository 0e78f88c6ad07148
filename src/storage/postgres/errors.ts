/**
 * Telling connection failures from server errors, and turning both into `StorageError`s whose message
 * and cause carry no connection string, password or other secret.
 */
import { PerpdataError, StorageError } from '../../core/errors.js';
import { redact } from '../../core/redact.js';

/** Node socket error codes that mean the connection is gone or never came. */
const SOCKET_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Socket error codes that mean no connection could be made at all. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** True when `err` means a connection could not be opened (refused, unresolvable, connect timeout). */
export function isConnectFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECT_CODES.has(code)) return true;
  if (err instanceof AggregateError) return err.errors.some(isConnectFailure);
  return /timeout exceeded when trying to connect|connection timeout|the database system is (starting up|shutting down)/i.test(
    err.message,
  );
}

/** Messages `pg` uses for a connection that ended or could not be made. */
const CONNECTION_MESSAGES =
  /connection terminated|connection error|not queryable|timeout exceeded when trying to connect|connection timeout|socket hang up|client was closed|cannot use a pool after calling end|connection ended|write after end|pglite is closed/i;

/** SQLSTATE of an error reported by the server, if it is one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * True when `err` means the connection failed (refused, reset, terminated by the server, timed out),
 * as opposed to the server refusing a statement. After such an error the connection must be discarded.
 */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const state = sqlState(err);
  // Class 08: connection exception; 57P01..57P03: admin shutdown, crash shutdown, cannot connect now.
  if (state) return state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03';
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
  if (err instanceof AggregateError) return err.errors.some(isConnectionError);
  return CONNECTION_MESSAGES.test(err.message);
}

/**
 * A copy of an error that is safe to attach as `cause`: the message is redacted, the server's SQLSTATE,
 * severity, constraint and table are kept, and anything else (such as the `input` of a URL error, which
 * may hold a connection string) is dropped.
 */
export function safeCause(err: unknown, secrets: readonly string[] = []): Error {
  const source = err instanceof Error ? err : new Error(String(err));
  const clean = (text: string) => {
    let out = redact(text);
    for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join('***');
    return out;
  };
  const copy = new Error(clean(source.message || source.name));
  copy.name = source.name;
  const fields = source as unknown as Record<string, unknown>;
  for (const key of ['code', 'severity', 'constraint', 'table', 'column', 'schema', 'detail', 'hint']) {
    const value = fields[key];
    if (typeof value === 'string')
      Object.defineProperty(copy, key, { value: clean(value), enumerable: true });
  }
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
}

/** A transaction failed; `committed` says whether its changes are in the database. */
export class TransactionFailure extends Error {
  constructor(
    readonly committed: boolean | 'unknown',
    override readonly cause: unknown,
    /** Where it failed: connecting, inside the transaction, or at COMMIT. */
    readonly stage: 'connect' | 'body' | 'commit',
  ) {
    super('transaction failed');
  }
}

/** Context of a failed operation for its `StorageError`. */
export interface FailureContext {
  /** `write('candles')`, `migrate()`, … */
  readonly op: string;
  readonly table?: string | undefined;
  readonly rows?: number | undefined;
  /** Literal secrets to mask besides the registered ones (the connection string's password). */
  readonly secrets?: readonly string[] | undefined;
}

/** Wraps any failure into a `StorageError` that states whether the batch was committed. */
export function toStorageError(err: unknown, context: FailureContext): PerpdataError {
  if (err instanceof PerpdataError) return err;
  // Our own errors thrown inside a transaction (a refused option, a too-new schema) pass through as they are.
  if (err instanceof TransactionFailure && err.cause instanceof PerpdataError && err.committed === false) {
    return err.cause;
  }
  const failure = err instanceof TransactionFailure ? err : undefined;
  const cause = failure ? failure.cause : err;
  const committed = failure ? failure.committed : false;
  const connection = isConnectionError(cause);
  const secrets = context.secrets ?? [];
  const safe = safeCause(cause, secrets);
  let what: string;
  if (committed === true) what = 'the connection was lost after COMMIT; the batch was committed';
  else if (committed === 'unknown') {
    what =
      'the connection was lost during COMMIT and the outcome could not be checked; the batch may or may not be committed';
  } else if (failure?.stage === 'connect' || isConnectFailure(cause)) {
    what = 'could not connect to the database; nothing was written';
  } else if (connection) what = 'the connection was lost; nothing was written';
  else what = 'the database refused it; nothing was written';
  const isWrite = context.op.startsWith('write');
  return new StorageError(`${context.op} failed: ${isWrite ? what : what.replace(/; .*$/, '')}`, {
    committed,
    cause: safe,
    meta: {
      Table: context.table,
      Rows: context.rows,
      Committed: isWrite ? String(committed) : undefined,
      SQLSTATE: sqlState(cause),
      Cause: safe.message,
    },
  });
}
