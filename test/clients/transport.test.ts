/**
 * Transport behaviour that lives in the socket: proxies, dead egresses, resets, timeouts, rate limits
 * enforced by a real local server, cancellation. The venue is the Binance simulator on 127.0.0.1.
 */

import type { AddressInfo } from 'node:net';
import { connect as createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BinanceClient } from '../../src/clients/binance/rest.js';
import { describeNetworkFailure } from '../../src/clients/transport/network.js';
import { NetworkError, NoEgressError } from '../../src/core/errors.js';
import { createBinanceSimulator } from '../../src/testing/binance.js';
import { json, type LocalServer, startLocalServer } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';
import { deadPort, type LocalProxy, startProxy } from '../../src/testing/proxy.js';

const MIN = 60_000;
const market = new SyntheticMarket();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function venue(options: Parameters<typeof createBinanceSimulator>[1] = {}) {
  const sim = createBinanceSimulator(market, options);
  const server = await startLocalServer(sim.handler);
  cleanups.push(() => server.close());
  return { sim, server };
}

async function proxy(options: Parameters<typeof startProxy>[0] = {}): Promise<LocalProxy> {
  const p = await startProxy(options);
  cleanups.push(() => p.close());
  return p;
}

function client(
  server: LocalServer,
  extra: ConstructorParameters<typeof BinanceClient>[0] = {},
): BinanceClient {
  const c = new BinanceClient({ baseUrl: server.url, retryDelayMs: 10, ...extra });
  cleanups.push(() => c.close());
  return c;
}

async function count(pages: AsyncIterable<unknown[]>): Promise<number> {
  let n = 0;
  for await (const page of pages) n += page.length;
  return n;
}

const FROM = Date.UTC(2024, 0, 1);

/** A raw TCP front that misbehaves for the first connections, then forwards to `target`. */
async function flakyFront(
  target: number,
  mode: 'reset' | 'silent',
  badConnections: number,
): Promise<{ port: number; seen: () => number }> {
  let seen = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    seen++;
    if (seen <= badConnections) {
      if (mode === 'reset') socket.once('data', () => socket.resetAndDestroy());
      return; // silent: accept and never answer
    }
    const upstream = createConnection(target);
    sockets.add(upstream);
    upstream.on('error', () => socket.destroy());
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as AddressInfo).port, seen: () => seen };
}

describe('transport over real sockets', () => {
  it('behavior: requests spread over direct and two CONNECT proxies (one with credentials), each its own client at the venue', async () => {
    const { sim, server } = await venue();
    const p1 = await proxy({ localAddress: '127.0.0.2' });
    const p2 = await proxy({ localAddress: '127.0.0.3', auth: { user: 'bob', pass: 's3cret-pass' } });
    const binance = client(server, { proxies: [p1.url, p2.url] });
    const n = await count(
      binance.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: FROM + 30 * 499 * MIN }),
    );
    expect(n).toBe(30 * 499);
    expect(p1.tunnels).toBeGreaterThan(0);
    expect(p2.tunnels).toBeGreaterThan(0);
    expect(new Set(sim.stats.byClient.keys())).toEqual(new Set(['127.0.0.1', '127.0.0.2', '127.0.0.3']));
    for (const requests of sim.stats.byClient.values()) expect(requests).toBeGreaterThan(3);
  });

  it('error: a dead proxy is taken out with backoff and the work continues on the others', async () => {
    const { server } = await venue();
    const live = await proxy({ localAddress: '127.0.0.2' });
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const binance = client(server, { proxies: [dead, live.url] });
    const n = await count(
      binance.candles({ symbol: 'ETH', interval: '1m', from: FROM, to: FROM + 20 * 499 * MIN }),
    );
    expect(n).toBe(20 * 499);
    const dead1 = binance.transport.stats().find((e) => e.id === 'proxy#1')!;
    expect(dead1.failures).toBeGreaterThan(0);
    expect(dead1.downUntil).toBeGreaterThan(Date.now() - 60_000);
  });

  it('error: when no egress is left the caller gets NoEgressError, not a hang', async () => {
    const { server } = await venue();
    const binance = client(server, {
      direct: false,
      proxies: [`http://user:pw-secret@127.0.0.1:${await deadPort()}`],
      maxEgressWaitMs: 200,
    });
    const error = await count(
      binance.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: FROM + 10 * MIN }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(NoEgressError);
    expect(error.message).toContain('proxy#1');
    expect(error.message).not.toContain('pw-secret');
  });

  it('behavior: 429 with Retry-After pauses that egress, then the backfill completes without a ban', async () => {
    // The venue allows 10 weight per 2 s; the client believes in 2,400 per minute and overshoots. The
    // 28 weight of the burst exceed even two windows, should the burst straddle a window boundary.
    const { sim, server } = await venue({ weightLimit: 10, windowMs: 2_000, bansAfter429s: 1_000 });
    const binance = client(server, { rateLimit: { limit: 2400, intervalMs: MIN } });
    const n = await count(
      binance.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: FROM + 14 * 499 * MIN }),
    );
    expect(n).toBe(14 * 499);
    expect(sim.stats.status429).toBeGreaterThan(0);
    expect(sim.stats.status418).toBe(0);
  });

  it('error: 418 quarantines the egress until the ban ends and the work moves to the proxy', async () => {
    const until = Date.now() + 3_600_000;
    let banned = 0;
    const { sim, server } = await venue({
      intercept: (url, clientId) => {
        if (clientId !== '127.0.0.1' || url.pathname !== '/fapi/v1/klines') return undefined;
        banned++;
        return json(
          { code: -1003, msg: `Way too many requests; IP(127.0.0.1) banned until ${until}.` },
          { status: 418 },
        );
      },
    });
    const p = await proxy({ localAddress: '127.0.0.2' });
    const binance = client(server, { proxies: [p.url] });
    const n = await count(
      binance.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: FROM + 10 * 499 * MIN }),
    );
    expect(n).toBe(10 * 499);
    expect(banned).toBeGreaterThan(0);
    expect(banned).toBeLessThanOrEqual(4); // only the requests already on their way when the ban arrived
    expect(binance.transport.stats().find((e) => e.id === 'direct')!.downUntil).toBe(until);
    expect(sim.stats.byClient.get('127.0.0.2')).toBeGreaterThanOrEqual(10);
  });

  it('behavior: connection resets are retried until the page arrives', async () => {
    const { server } = await venue();
    const front = await flakyFront(server.port, 'reset', 2);
    const binance = new BinanceClient({ baseUrl: `http://127.0.0.1:${front.port}`, retryDelayMs: 10 });
    cleanups.push(() => binance.close());
    const n = await count(
      binance.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: FROM + 100 * MIN }),
    );
    expect(n).toBe(100);
    expect(front.seen()).toBeGreaterThanOrEqual(3);
  });

  it('error: a server that never answers times out with a NetworkError (code TIMEOUT), bounded by retries', async () => {
    const { server } = await venue();
    const front = await flakyFront(server.port, 'silent', 100);
    const attempts: string[] = [];
    const binance = new BinanceClient({
      baseUrl: `http://127.0.0.1:${front.port}`,
      timeoutMs: 200,
      retries: 1,
      retryDelayMs: 10,
      logger: { debug: (m) => attempts.push(m) },
    });
    cleanups.push(() => binance.close());
    const error = await binance.serverTime().catch((e) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.code).toBe('TIMEOUT');
    // retries: 1 means two attempts, each ended by the timeout.
    expect(attempts).toHaveLength(2);
    expect(attempts.every((m) => m.includes('timed out after 200 ms'))).toBe(true);
    expect(front.seen()).toBeGreaterThanOrEqual(2);
  });
});

describe('network failures say why', () => {
  /** A raw TCP server that answers every connection with `reply` (a proxy that refuses the tunnel). */
  async function answering(reply: string): Promise<number> {
    const server: Server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end(reply));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return (server.address() as AddressInfo).port;
  }

  const failure = async (options: ConstructorParameters<typeof BinanceClient>[0]) => {
    const binance = new BinanceClient({ retries: 0, retryDelayMs: 1, maxEgressWaitMs: 50, ...options });
    cleanups.push(() => binance.close());
    return (await binance.serverTime().catch((e: unknown) => e)) as Error & { code?: string };
  };

  it('default: describeNetworkFailure reads the undici cause chain (AggregateError members too) and says whose fault it is', () => {
    const coded = (code: string, message = code) => Object.assign(new Error(message), { code });
    const fetchFailed = (cause: unknown) => new TypeError('fetch failed', { cause });
    const cases: [unknown, boolean, string, boolean][] = [
      [fetchFailed(coded('ECONNREFUSED')), false, 'connection refused (ECONNREFUSED)', false],
      [fetchFailed(coded('ECONNREFUSED')), true, 'proxy refused the connection (ECONNREFUSED)', true],
      [
        fetchFailed(new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')])),
        true,
        'proxy refused the connection (ECONNREFUSED)',
        true,
      ],
      [
        fetchFailed(coded('UND_ERR_CONNECT_TIMEOUT')),
        true,
        'connecting to the proxy timed out (UND_ERR_CONNECT_TIMEOUT)',
        true,
      ],
      [fetchFailed(coded('EHOSTUNREACH')), false, 'host unreachable (EHOSTUNREACH)', false],
      [fetchFailed(coded('ECONNRESET')), true, 'connection reset by peer (ECONNRESET)', false],
      [fetchFailed(coded('CERT_HAS_EXPIRED')), false, 'TLS handshake failed (CERT_HAS_EXPIRED)', false],
      [
        fetchFailed(coded('UND_ERR_ABORTED', 'Proxy response (503) !== 200 when HTTP Tunneling')),
        true,
        'proxy answered 503 (unavailable) to the tunnel request',
        true,
      ],
      [fetchFailed(new Error('socket hang up')), false, 'connection failed: socket hang up', false],
      [new TypeError('fetch failed'), false, 'connection failed (no cause given)', false],
    ];
    for (const [error, viaProxy, reason, proxyFault] of cases) {
      expect(describeNetworkFailure(error, viaProxy)).toMatchObject({ reason, proxyFault });
    }
  });

  it('error: refused, reset, closed, DNS and TLS each name their cause, never only "fetch failed"', async () => {
    const { server } = await venue();
    const reset = await flakyFront(server.port, 'reset', 100);
    const plain = await answering('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    const closing = await answering('');
    const cases: [string, string | RegExp][] = [
      [`http://127.0.0.1:${await deadPort()}`, 'Request failed: connection refused (ECONNREFUSED)'],
      [`http://127.0.0.1:${reset.port}`, 'Request failed: connection reset by peer (ECONNRESET)'],
      [`http://127.0.0.1:${closing}`, 'Request failed: connection closed by the other side (UND_ERR_SOCKET)'],
      ['http://no-such-host.invalid', /Request failed: DNS lookup failed \((ENOTFOUND|EAI_AGAIN)\)/],
      [`https://127.0.0.1:${plain}`, /Request failed: TLS handshake failed \(ERR_SSL_/],
    ];
    for (const [baseUrl, expected] of cases) {
      const error = await failure({ baseUrl });
      expect(error, baseUrl).toBeInstanceOf(NetworkError);
      expect(error.code).toBe('NETWORK');
      expect(error.message).toMatch(expected);
      expect(error.message).not.toContain('fetch failed');
    }
  });

  it('error: a proxy that answers 407 or 502 says so, and with no egress left NoEgressError carries the reason', async () => {
    const { server } = await venue();
    const auth = await proxy({ auth: { user: 'bob', pass: 'right-pass' } });
    const bad = await answering('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    const wrong = `http://bob:wrong-pass@127.0.0.1:${auth.port}`;
    for (const [proxyUrl, label, reason] of [
      [
        wrong,
        'proxy#1 http://***:***@127.0.0.1:',
        'proxy answered 407 (authentication required) to the tunnel request',
      ],
      [
        `http://127.0.0.1:${bad}`,
        'proxy#1 http://127.0.0.1:',
        'proxy answered 502 (bad gateway) to the tunnel request',
      ],
    ] as const) {
      // Alongside the direct connection, the request fails over; alone, the pool is empty.
      const logged: string[] = [];
      const shared = await failure({
        baseUrl: server.url,
        proxies: [proxyUrl],
        direct: false,
        logger: { warn: (m) => logged.push(m) },
      });
      expect(shared).toBeInstanceOf(NoEgressError);
      expect(shared.message).toContain(label);
      expect(shared.message).toContain(`last: ${reason}`);
      expect(shared.message).not.toContain('wrong-pass');
      expect(logged.join('\n')).toContain(reason);
      const direct = new BinanceClient({ baseUrl: server.url, proxies: [proxyUrl], retryDelayMs: 1 });
      cleanups.push(() => direct.close());
      await expect(direct.serverTime()).resolves.toBeGreaterThan(0);
    }
  });

  it('error: two proxies that refuse connections and direct: false fail with NoEgressError naming both', async () => {
    const { server } = await venue();
    const binance = client(server, {
      direct: false,
      proxies: [
        `http://user:pw-secret@127.0.0.1:${await deadPort()}`,
        `http://127.0.0.1:${await deadPort()}`,
      ],
      retries: 3,
      retryDelayMs: 5,
      maxEgressWaitMs: 100,
    });
    const error = await count(
      binance.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: FROM + 10 * MIN }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(NoEgressError);
    expect(error.code).toBe('NO_EGRESS');
    expect(error.message).toMatch(
      /proxy#1 http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+\/ \(out until [^,]+, last: proxy refused the connection \(ECONNREFUSED\)\)/,
    );
    expect(error.message).toMatch(
      /proxy#2 http:\/\/127\.0\.0\.1:\d+\/ \(out until [^,]+, last: proxy refused the connection \(ECONNREFUSED\)\)/,
    );
    expect(error.message).not.toContain('pw-secret');
    expect(error.message).not.toContain('fetch failed');
  });
});

describe('cancellation', () => {
  /** Open sockets and timers of this process; other tests' leftovers may close meanwhile, so compare with `<=`. */
  const handles = async () => {
    await new Promise((r) => setTimeout(r, 100));
    const info = process.getActiveResourcesInfo();
    return {
      sockets: info.filter((r) => r === 'TCPSocketWrap').length,
      timers: info.filter((r) => r === 'Timeout').length,
    };
  };
  const expectNoLeak = (
    after: { sockets: number; timers: number },
    baseline: { sockets: number; timers: number },
  ) => {
    expect(after.sockets).toBeLessThanOrEqual(baseline.sockets);
    expect(after.timers).toBeLessThanOrEqual(baseline.timers);
  };

  it('behavior: aborting mid-backfill rejects with the reason and leaves no socket or timer behind', async () => {
    const { server } = await venue();
    const baseline = await handles();
    const binance = new BinanceClient({ baseUrl: server.url });
    const controller = new AbortController();
    let pages = 0;
    const error = await (async () => {
      for await (const _page of binance.candles({
        symbol: 'BTC',
        interval: '1m',
        from: FROM,
        to: FROM + 200 * 499 * MIN,
        signal: controller.signal,
      })) {
        if (++pages === 2) controller.abort(new Error('stop'));
      }
    })().catch((e) => e);
    expect(error.message).toBe('stop');
    await binance.close();
    expectNoLeak(await handles(), baseline);
  });

  it('behavior: a finished request keeps no timeout timer, even while the client stays open', async () => {
    const { server } = await venue();
    const binance = new BinanceClient({ baseUrl: server.url, timeoutMs: 60_000 });
    await binance.registry();
    const baseline = await handles();
    const n = await count(
      binance.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: FROM + 30 * 499 * MIN }),
    );
    expect(n).toBe(30 * 499);
    // 30 requests: a per-request timer that outlived its request would still be pending for a minute.
    expect((await handles()).timers).toBeLessThanOrEqual(baseline.timers + 1);
    await binance.close();
  });

  it('behavior: breaking out of the iterator releases everything', async () => {
    const { sim, server } = await venue();
    const baseline = await handles();
    const binance = new BinanceClient({ baseUrl: server.url });
    for await (const _page of binance.candles({
      symbol: 'BTC',
      interval: '1m',
      from: FROM,
      to: FROM + 200 * 499 * MIN,
    }))
      break;
    await binance.close();
    expectNoLeak(await handles(), baseline);
    // Requests already on the wire when the loop ended may still be served; nothing new is sent.
    const served = sim.stats.requests;
    await new Promise((r) => setTimeout(r, 300));
    expect(sim.stats.requests).toBe(served);
    expect(served).toBeLessThan(20);
  });
});

describe('rate budget use', () => {
  /** Weight served per full window (not the first or last, which the run only partly covers). */
  function fullWindows(windows: Map<number, number> | undefined): number[] {
    const entries = [...(windows ?? new Map<number, number>()).entries()].sort((a, b) => a[0] - b[0]);
    return entries.slice(1, -1).map(([, w]) => w);
  }

  it('behavior: a long backfill sustains at least 95% of the budget in every full window and receives no 429', async () => {
    const windowMs = 3_000;
    const { sim, server } = await venue({ weightLimit: 240, windowMs });
    const binance = client(server, { rateLimit: { limit: 240, intervalMs: windowMs } });
    // 120 pages of 499 fit in one window (2 weight each); ask for 3.5 windows' worth.
    const n = await count(
      binance.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: FROM + 420 * 499 * MIN }),
    );
    expect(n).toBe(420 * 499);
    expect(sim.stats.status429).toBe(0);
    const full = fullWindows(sim.stats.windows.get('127.0.0.1'));
    expect(full.length).toBeGreaterThanOrEqual(2);
    for (const weight of full) expect(weight).toBeGreaterThanOrEqual(0.95 * 240);
  });

  it('behavior: with three egresses every egress sustains its own budget (throughput scales)', async () => {
    // 120 weight per 3 s (the 240 per 6 s): client, proxies and venue share one CPU here.
    const windowMs = 3_000;
    const { sim, server } = await venue({ weightLimit: 120, windowMs });
    const p1 = await proxy({ localAddress: '127.0.0.2' });
    const p2 = await proxy({ localAddress: '127.0.0.3' });
    const binance = client(server, {
      rateLimit: { limit: 120, intervalMs: windowMs },
      proxies: [p1.url, p2.url],
    });
    const n = await count(
      binance.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: FROM + 3 * 210 * 499 * MIN }),
    );
    expect(n).toBe(3 * 210 * 499);
    expect(sim.stats.status429).toBe(0);
    for (const ip of ['127.0.0.1', '127.0.0.2', '127.0.0.3']) {
      const full = fullWindows(sim.stats.windows.get(ip));
      expect(full.length).toBeGreaterThanOrEqual(2);
      for (const weight of full) expect(weight).toBeGreaterThanOrEqual(0.95 * 120);
    }
  });
});
