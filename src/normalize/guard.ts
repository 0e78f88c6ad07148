/**
 * The boundary between a venue payload and the normalisers: whatever a schema or a normaliser refuses
 * (a missing field, a `""` decimal that `num` rejects with a `TypeError`) leaves as one
 * `ValidationError` naming the venue and the endpoint, never as a bare `TypeError`. Pure: it builds
 * errors, it does no I/O.
 */
import { PerpdataError, ValidationError, WebSocketError } from '../core/errors.js';
import type { Source } from '../core/types.js';

/** Where a payload came from: the venue, the REST path or socket path, and the stream channel if any. */
export interface PayloadSite {
  readonly venue: Source;
  /** REST path (`/fapi/v1/fundingRate`) or socket path (`/ws/v5/business`). */
  readonly endpoint: string;
  /** The stream channel of a WebSocket frame (`kline`, `tickers`, `candle1m`). */
  readonly channel?: string | undefined;
}

/** Anything with zod's `safeParse` (the raw schemas stay private to their clients). */
export interface SafeParser<T> {
  safeParse(
    data: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

/** `cause` as a perpdata error: perpdata errors pass through, anything else becomes a `ValidationError` of `site`. */
export function payloadError(site: PayloadSite, cause: unknown, payload: unknown): PerpdataError {
  if (cause instanceof PerpdataError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new ValidationError(site, [{ path: [], message }], payload, {
    cause,
    meta: { Channel: site.channel },
  });
}

/** `payload` checked by `schema`; a mismatch throws a `ValidationError` of `site` with the schema's issues. */
export function validateAt<T>(site: PayloadSite, schema: SafeParser<T>, payload: unknown): T {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  throw new ValidationError(site, result.error.issues, payload, { meta: { Channel: site.channel } });
}

/**
 * Runs `normalise`; a value it refuses throws a `ValidationError` of `site` with `payload` as the
 * sample (perpdata errors pass through unchanged).
 */
export function normaliseAt<T>(site: PayloadSite, payload: unknown, normalise: () => T): T {
  try {
    return normalise();
  } catch (cause) {
    throw payloadError(site, cause, payload);
  }
}

/**
 * A WebSocket frame's text as JSON. Text that is not JSON at all is a transport fault, not a drifted
 * payload: it throws a `WebSocketError` ("Malformed frame") naming the venue and the socket path.
 */
export function frameJson(site: PayloadSite, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new WebSocketError('Malformed frame', site, {
      cause,
      meta: { Endpoint: site.endpoint, Sample: text.slice(0, 120) },
    });
  }
}
