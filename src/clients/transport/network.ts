/** What kind of network failure ended an exchange. */
export type NetworkFailureKind =
  | 'refused'
  | 'reset'
  | 'timeout'
  | 'dns'
  | 'tls'
  | 'unreachable'
  | 'proxy'
  | 'other';

/** A network failure, explained: its kind, a sentence for the message, and whose fault it likely is. */
export interface NetworkFailure {
  readonly kind: NetworkFailureKind;
  /** E.g. `connection refused (ECONNREFUSED)`, `proxy answered 407 (authentication required)`. */
  readonly reason: string;
  /** The error code found in the cause chain (`ECONNREFUSED`, `UND_ERR_SOCKET`). */
  readonly code: string | undefined;
  /**
   * When the egress is a proxy: the failure is the proxy's (it refused or dropped the connection, cannot
   * be resolved or reached, answered the tunnel request with an error), so the egress should leave
   * the pool for a while. A TLS failure or a reset after the tunnel is the venue's.
   */
  readonly proxyFault: boolean;
}

const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;
const PROXY_STATUS = /Proxy response \((\d{3})\)/;
const PROXY_STATUS_TEXT: Readonly<Record<number, string>> = {
  403: 'forbidden',
  407: 'authentication required',
  502: 'bad gateway',
  503: 'unavailable',
  504: 'gateway timeout',
};

/** The errors of a cause chain, outermost first, `AggregateError` members included (dual-stack connects). */
function causes(error: unknown): { code: string | undefined; message: string }[] {
  const out: { code: string | undefined; message: string }[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && out.length < 12) {
    const e = queue.shift();
    if (!e || typeof e !== 'object') continue;
    const { code, message, cause, errors } = e as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    out.push({ code: typeof code === 'string' ? code : undefined, message: String(message ?? '') });
    if (cause) queue.push(cause);
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return out;
}

/**
 * Explains why an HTTP exchange failed below HTTP: refused, reset, timed out, DNS, TLS, a proxy that
 * answered its tunnel request with 407 or 5xx. Never just `fetch failed`: the undici cause chain is
 * searched for the code and the proxy's status.
 * @example describeNetworkFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }), true).reason // 'proxy refused the connection (ECONNREFUSED)'
 */
export function describeNetworkFailure(error: unknown, viaProxy: boolean): NetworkFailure {
  const chain = causes(error);
  for (const { message } of chain) {
    const status = PROXY_STATUS.exec(message)?.[1];
    if (status === undefined) continue;
    const text = PROXY_STATUS_TEXT[Number(status)];
    return {
      kind: 'proxy',
      reason: `proxy answered ${status}${text ? ` (${text})` : ''} to the tunnel request`,
      code: `PROXY_${status}`,
      proxyFault: true,
    };
  }
  const code = chain.find((c) => c.code !== undefined && c.code !== 'UND_ERR_ABORTED')?.code;
  const of = (kind: NetworkFailureKind, reason: string, proxyFault: boolean): NetworkFailure => ({
    kind,
    reason: code ? `${reason} (${code})` : reason,
    code,
    proxyFault: viaProxy && proxyFault,
  });
  switch (code) {
    case 'ECONNREFUSED':
      return of('refused', viaProxy ? 'proxy refused the connection' : 'connection refused', true);
    case 'ECONNRESET':
    case 'EPIPE':
      return of('reset', 'connection reset by peer', false);
    case 'UND_ERR_SOCKET':
      return of('reset', 'connection closed by the other side', false);
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return of('timeout', `connecting${viaProxy ? ' to the proxy' : ''} timed out`, true);
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return of('timeout', 'the answer timed out', false);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return of('dns', 'DNS lookup failed', true);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return of('unreachable', viaProxy ? 'proxy host unreachable' : 'host unreachable', true);
    default:
      break;
  }
  if (code !== undefined && TLS_CODE.test(code)) return of('tls', 'TLS handshake failed', false);
  if (chain.some((c) => /\b(SSL|TLS)\b/.test(c.message))) return of('tls', 'TLS handshake failed', false);
  // No code: the innermost message that says more than `fetch failed`.
  const detail = [...chain].reverse().find((c) => c.message && c.message !== 'fetch failed')?.message;
  return {
    kind: 'other',
    reason: detail ? `connection failed: ${detail}` : 'connection failed (no cause given)',
    code,
    proxyFault: viaProxy && code === undefined,
  };
}
