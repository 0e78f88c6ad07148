/** Query parameters and header-like names whose values are secrets. */
const SECRET_PARAMS =
  /^(api[_-]?key|apikey|key|secret|api[_-]?secret|signature|sign|token|access[_-]?token|passphrase|password|pass)$/i;

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;
const QUERY_SECRET_IN_TEXT =
  /([?&;,\s]|^)(api[_-]?key|apikey|secret|api[_-]?secret|signature|token|access[_-]?token|passphrase|password)=([^&\s"',;]+)/gi;
const HEADER_SECRET_IN_TEXT =
  /\b(api[_-]?key|x-mbx-apikey|authorization|ok-access-key|x-bapi-api-key)(["']?\s*[:=]\s*["']?)([^\s"',;}]+)/gi;

/**
 * A URL with credentials (`user:pass@`) and secret query parameters (`api_key`, `signature`, …) masked.
 * Never throws: a string that is not a URL goes through `redactText`.
 * @example
 * import { redactUrl } from 'perpdata';
 *
 * redactUrl('http://bob:hunter2@proxy:8080'); // 'http://***:***@proxy:8080/'
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return redactText(String(url), false);
  }
  if (parsed.username) parsed.username = '***';
  if (parsed.password) parsed.password = '***';
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAMS.test(name)) parsed.searchParams.set(name, '***');
  }
  return parsed.toString().replace(/%2A%2A%2A/g, '***');
}

/**
 * Free text (an error message, a log line) with every URL passed through `redactUrl`, and
 * `api_key=…` / `api_key: …` style secrets masked. Use it on anything that might carry a proxy URL or a key.
 * @param extraSecrets literal values to mask wherever they appear (e.g. the configured API key).
 */
export function redactText(text: string, urls = true, extraSecrets: readonly string[] = []): string {
  let out = urls ? text.replace(URL_IN_TEXT, (match) => redactUrl(match)) : text;
  out = out.replace(QUERY_SECRET_IN_TEXT, (_m, lead: string, name: string) => `${lead}${name}=***`);
  out = out.replace(HEADER_SECRET_IN_TEXT, (_m, name: string, sep: string) => `${name}${sep}***`);
  for (const secret of extraSecrets) {
    if (secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
}

const registeredSecrets = new Set<string>();

/**
 * Registers a secret (an API key, a proxy password) so that every perpdata error message masks it.
 * Clients call this for their own keys and proxy credentials; users rarely need to.
 */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 4) registeredSecrets.add(secret);
}

/** `redactText` with every registered secret masked too. */
export function redact(text: string): string {
  return redactText(text, true, [...registeredSecrets]);
}
