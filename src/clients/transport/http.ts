import type { Dispatcher } from 'undici';

/** The status line and headers of an answer; the body comes as bytes beside it. */
export interface RawResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Headers;
}

/** Which HTTP engine sends: Node's global `fetch` (mock libraries see it) or the dispatcher's `request()`. */
export type HttpEngine = 'fetch' | 'undici';

/** One GET through `dispatcher` by `engine`: the answer and its whole body. */
export async function send(
  engine: HttpEngine,
  url: URL,
  dispatcher: Dispatcher,
  headers: Readonly<Record<string, string>>,
  signal: AbortSignal,
): Promise<{ response: RawResponse; bytes: Uint8Array }> {
  if (engine === 'undici') {
    const res = await dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: 'GET',
      headers,
      signal,
    });
    const bytes = new Uint8Array(await res.body.arrayBuffer());
    const h = new Headers();
    for (const [key, value] of Object.entries(res.headers)) {
      if (value !== undefined) h.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    return {
      response: { status: res.statusCode, ok: res.statusCode >= 200 && res.statusCode < 300, headers: h },
      bytes,
    };
  }
  // Node's fetch takes an undici dispatcher; the DOM typings do not know the option.
  const res = await fetch(url, { headers, signal, ...({ dispatcher } as object) });
  return { response: res, bytes: new Uint8Array(await res.arrayBuffer()) };
}
