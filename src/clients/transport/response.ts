import { HttpError, type PerpdataError, ValidationError } from '../../core/errors.js';
import type { RawResponse } from './http.js';
import type { TransportRequest, VenueAdapter } from './types.js';

/** Decodes bodies as `Response.text()` does (UTF-8, a leading BOM dropped). */
const utf8 = new TextDecoder();

/** Where an answer came from, for the venue's error mapping and for error meta. */
export interface AnswerContext {
  readonly adapter: VenueAdapter;
  readonly endpoint: string;
  readonly url: URL;
  readonly egress: string;
  readonly receivedAt: number;
}

/**
 * Reads one answer: its data, or the typed error it stands for. The request's byte decoder goes first
 * on a 2xx; anything else is parsed as JSON, offered to the venue's error mapping (envelopes, 429,
 * 418), and validated by the request's schema.
 */
export function readAnswer<T>(
  request: TransportRequest<T>,
  response: RawResponse,
  bytes: Uint8Array,
  context: AnswerContext,
): { data: T } | { error: PerpdataError } {
  if (response.ok && request.decode) {
    const data = request.decode(bytes);
    if (data !== undefined) return { data };
  }
  const { adapter, endpoint } = context;
  const venue = adapter.venue;
  const text = utf8.decode(bytes);
  let body: unknown = text;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: left as text for the error mapping below.
  }
  const failure = adapter.errorOf({
    status: response.status,
    headers: response.headers,
    body,
    endpoint,
    url: context.url,
    egress: context.egress,
    now: context.receivedAt,
  });
  if (failure) return { error: failure };
  if (!response.ok) {
    const error = new HttpError(`HTTP ${response.status}`, {
      venue,
      endpoint,
      status: response.status,
      egress: context.egress,
    });
    return { error };
  }
  if (typeof body === 'string' || body === undefined) {
    return {
      error: new ValidationError({ venue, endpoint }, [{ path: [], message: 'body is not JSON' }], text),
    };
  }
  const parsed = request.schema.safeParse(body);
  if (!parsed.success) return { error: new ValidationError({ venue, endpoint }, parsed.error.issues, body) };
  return { data: parsed.data };
}
