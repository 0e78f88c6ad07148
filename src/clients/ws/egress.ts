import type { Dispatcher } from 'undici';
import { InvalidArgumentError } from '../../core/errors.js';
import { redactUrl, registerSecret } from '../../core/redact.js';

/**
 * The egresses of a client's sockets: the direct connection and each proxy, like REST's pool. Each new
 * connection takes the next egress in turn, so the shards of a large stream spread over the proxies.
 * Proxy dispatchers (undici `ProxyAgent`, tunnelling with CONNECT) are created on first use.
 */
export class WsEgressPool {
  readonly #entries: { label: string; proxyUrl: string | undefined; dispatcher: Dispatcher | undefined }[];
  #next = 0;

  constructor(options: { proxies?: readonly (string | URL)[] | undefined; direct?: boolean | undefined }) {
    const entries: { label: string; proxyUrl: string | undefined; dispatcher: Dispatcher | undefined }[] = [];
    if (options.direct ?? true) entries.push({ label: 'direct', proxyUrl: undefined, dispatcher: undefined });
    for (const [i, p] of (options.proxies ?? []).entries()) {
      const url = new URL(String(p));
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new InvalidArgumentError(`Unsupported proxy protocol ${url.protocol}`, {
          meta: { Proxy: redactUrl(url) },
        });
      }
      registerSecret(decodeURIComponent(url.password));
      entries.push({ label: `proxy#${i + 1}`, proxyUrl: url.toString(), dispatcher: undefined });
    }
    if (entries.length === 0)
      throw new InvalidArgumentError('No egress: direct is false and no proxies were given');
    this.#entries = entries;
  }

  /** The dispatcher for the next connection (`undefined` = undici's global dispatcher) and its label. */
  async take(): Promise<{ label: string; dispatcher: Dispatcher | undefined }> {
    const entry = this.#entries[this.#next++ % this.#entries.length]!;
    if (entry.proxyUrl && !entry.dispatcher) {
      const { ProxyAgent } = await import('undici');
      entry.dispatcher = new ProxyAgent(entry.proxyUrl);
    }
    return { label: entry.label, dispatcher: entry.dispatcher };
  }

  /** Closes the proxy dispatchers. */
  async close(): Promise<void> {
    await Promise.all(
      this.#entries.map(async (e) => {
        const d = e.dispatcher;
        e.dispatcher = undefined;
        await d?.close().catch(() => undefined);
      }),
    );
  }
}
