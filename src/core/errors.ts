import { redact } from './redact.js';

/** Machine-readable error codes; `error.code` narrows to one of these. */
export type ErrorCode =
  | 'HTTP'
  | 'RATE_LIMITED'
  | 'BANNED'
  | 'VALIDATION'
  | 'UNSUPPORTED'
  | 'UNKNOWN_SYMBOL'
  | 'INVALID_ARGUMENT'
  | 'HISTORY_RANGE'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'NO_EGRESS'
  | 'STORAGE'
  | 'WEBSOCKET'
  | 'CLOSED';

/** Short key/value lines appended to an error message, e.g. `{ Venue: 'okx', Status: 429 }`. */
export type ErrorMeta = Readonly<Record<string, string | number | boolean | undefined>>;

/** Options shared by every perpdata error. */
export interface PerpdataErrorOptions {
  /** The underlying error. */
  cause?: unknown;
  /** Lines appended to the message (`Venue: okx`); every value is redacted. */
  meta?: ErrorMeta;
}

function formatMessage(shortMessage: string, meta: ErrorMeta | undefined): string {
  const lines = [redact(shortMessage)];
  if (meta) {
    const entries = Object.entries(meta).filter(([, v]) => v !== undefined);
    if (entries.length > 0) lines.push('');
    for (const [key, value] of entries) lines.push(`${key}: ${redact(String(value))}`);
  }
  return lines.join('\n');
}

/**
 * Base of every error perpdata throws. The message is a short line plus `Key: value` meta lines,
 * and never contains proxy credentials or API keys (everything passes through `redact`).
 */
export class PerpdataError extends Error {
  override name = 'PerpdataError';
  /** What went wrong, for `switch` statements. */
  readonly code: ErrorCode;
  /** The first line of the message, without meta lines. */
  readonly shortMessage: string;
  /** The meta lines, redacted. */
  readonly meta: ErrorMeta;

  constructor(code: ErrorCode, shortMessage: string, options: PerpdataErrorOptions = {}) {
    super(
      formatMessage(shortMessage, options.meta),
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.code = code;
    this.shortMessage = redact(shortMessage);
    const meta: Record<string, string | number | boolean | undefined> = {};
    for (const [key, value] of Object.entries(options.meta ?? {})) {
      meta[key] = typeof value === 'string' ? redact(value) : value;
    }
    this.meta = meta;
  }
}

/** Context of an HTTP exchange: which venue and endpoint, never the full URL with secrets. */
export interface HttpContext {
  venue: string;
  endpoint: string;
  status?: number | undefined;
  /** Venue's own error code (`-1121`, `10001`, `"51001"`). */
  venueCode?: string | number | undefined;
  /** Which egress carried the request (`direct`, `proxy#1`). */
  egress?: string | undefined;
}

/** The venue answered with an error status or an error envelope that is not more specific. */
export class HttpError extends PerpdataError {
  override name = 'HttpError';
  readonly venue: string;
  readonly endpoint: string;
  readonly status: number | undefined;
  readonly venueCode: string | number | undefined;
  readonly egress: string | undefined;

  constructor(
    message: string,
    context: HttpContext,
    options: PerpdataErrorOptions & { code?: ErrorCode } = {},
  ) {
    super(options.code ?? 'HTTP', message, {
      cause: options.cause,
      meta: {
        Venue: context.venue,
        Endpoint: context.endpoint,
        Status: context.status,
        'Venue code': context.venueCode,
        Egress: context.egress,
        ...options.meta,
      },
    });
    this.venue = context.venue;
    this.endpoint = context.endpoint;
    this.status = context.status;
    this.venueCode = context.venueCode;
    this.egress = context.egress;
  }
}

/** The venue refused the request for rate reasons (429, Bybit 403, OKX 50011) or banned the egress (418). */
export class RateLimitError extends HttpError {
  override name = 'RateLimitError';
  /** Epoch ms when the egress may be used again, if known. */
  readonly retryAt: number | undefined;

  constructor(
    message: string,
    context: HttpContext & { retryAt?: number | undefined; banned?: boolean },
    options: PerpdataErrorOptions = {},
  ) {
    super(message, context, {
      ...options,
      code: context.banned ? 'BANNED' : 'RATE_LIMITED',
      meta: {
        'Retry at': context.retryAt === undefined ? undefined : new Date(context.retryAt).toISOString(),
      },
    });
    this.retryAt = context.retryAt;
  }
}

/** The venue does not know the symbol (Binance -1121, Bybit "Not supported symbols", OKX 51001), or the registry has no mapping. */
export class UnknownSymbolError extends HttpError {
  override name = 'UnknownSymbolError';
  readonly symbol: string;

  constructor(symbol: string, context: HttpContext, options: PerpdataErrorOptions = {}) {
    super(`Unknown symbol ${JSON.stringify(symbol)}`, context, { ...options, code: 'UNKNOWN_SYMBOL' });
    this.symbol = symbol;
  }
}

/** A payload did not match the schema the venue documents. Never retried. */
export class ValidationError extends PerpdataError {
  override name = 'ValidationError';
  readonly venue: string;
  readonly endpoint: string;
  /** Zod issues, trimmed to the first few. */
  readonly issues: readonly { path: readonly PropertyKey[]; message: string }[];
  /** The start of the offending payload, at most 200 characters. */
  readonly sample: string;

  constructor(
    context: { venue: string; endpoint: string },
    issues: readonly { path: readonly PropertyKey[]; message: string }[],
    payload: unknown,
    options: PerpdataErrorOptions = {},
  ) {
    const sample = sampleOf(payload);
    const first = issues[0];
    const where = first ? `${first.path.map(String).join('.') || '(root)'}: ${first.message}` : 'no details';
    super('VALIDATION', `Unexpected payload from ${context.venue} ${context.endpoint} (${where})`, {
      ...options,
      meta: {
        Venue: context.venue,
        Endpoint: context.endpoint,
        Issues: issues.length,
        Sample: sample,
        ...options.meta,
      },
    });
    this.venue = context.venue;
    this.endpoint = context.endpoint;
    this.issues = issues.slice(0, 10);
    this.sample = sample;
  }
}

function sampleOf(payload: unknown): string {
  let text: string;
  try {
    text = typeof payload === 'string' ? payload : (JSON.stringify(payload) ?? String(payload));
  } catch {
    text = String(payload);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** The venue does not serve this data kind or parameter (e.g. Bybit taker volume). */
export class UnsupportedError extends PerpdataError {
  override name = 'UnsupportedError';
  constructor(message: string, options: PerpdataErrorOptions = {}) {
    super('UNSUPPORTED', message, options);
  }
}

/** An argument is out of its domain (bad interval, `from >= to`, negative period). */
export class InvalidArgumentError extends PerpdataError {
  override name = 'InvalidArgumentError';
  constructor(message: string, options: PerpdataErrorOptions = {}) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** The requested range reaches further back than the venue keeps history for that endpoint. */
export class HistoryRangeError extends PerpdataError {
  override name = 'HistoryRangeError';
  /** Earliest timestamp the venue still serves for this request. */
  readonly earliest: number;
  constructor(message: string, earliest: number, options: PerpdataErrorOptions = {}) {
    super('HISTORY_RANGE', message, {
      ...options,
      meta: { 'Earliest available': new Date(earliest).toISOString(), ...options.meta },
    });
    this.earliest = earliest;
  }
}

/** A connection failed (refused, reset, DNS, TLS, proxy) or timed out. */
export class NetworkError extends PerpdataError {
  override name = 'NetworkError';
  readonly venue: string;
  readonly endpoint: string;
  readonly egress: string | undefined;
  constructor(
    message: string,
    context: { venue: string; endpoint: string; egress?: string | undefined; timeout?: boolean },
    options: PerpdataErrorOptions = {},
  ) {
    super(context.timeout ? 'TIMEOUT' : 'NETWORK', message, {
      ...options,
      meta: { Venue: context.venue, Endpoint: context.endpoint, Egress: context.egress, ...options.meta },
    });
    this.venue = context.venue;
    this.endpoint = context.endpoint;
    this.egress = context.egress;
  }
}

/** Every egress (direct and proxies) is out of service, so the request cannot be sent. */
export class NoEgressError extends PerpdataError {
  override name = 'NoEgressError';
  constructor(message: string, options: PerpdataErrorOptions = {}) {
    super('NO_EGRESS', message, options);
  }
}

/** The client (or the part of it asked) was closed: nothing more is sent. Never retried. */
export class ClosedError extends PerpdataError {
  override name = 'ClosedError';
  constructor(message: string, options: PerpdataErrorOptions = {}) {
    super('CLOSED', message, options);
  }
}

/** A storage operation failed. `committed` tells whether a write reached the database. */
export class StorageError extends PerpdataError {
  override name = 'StorageError';
  /** `true`: the batch was committed; `false`: it was not; `'unknown'`: the connection died during COMMIT. */
  readonly committed: boolean | 'unknown';
  constructor(message: string, options: PerpdataErrorOptions & { committed?: boolean | 'unknown' } = {}) {
    super('STORAGE', message, options);
    this.committed = options.committed ?? false;
  }
}

/** A WebSocket stream failed in a way the reconnect loop cannot heal (e.g. a refused subscription). */
export class WebSocketError extends PerpdataError {
  override name = 'WebSocketError';
  readonly venue: string;
  /** The topic the error concerns, when it concerns one. */
  readonly topic: string | undefined;
  constructor(
    message: string,
    context: { venue: string; topic?: string | undefined },
    options: PerpdataErrorOptions = {},
  ) {
    super('WEBSOCKET', message, {
      ...options,
      meta: { Venue: context.venue, Topic: context.topic, ...options.meta },
    });
    this.venue = context.venue;
    this.topic = context.topic;
  }
}
