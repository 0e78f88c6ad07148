/**
 * REST and WebSocket share one egress pool per client: a proxy banned over REST (418) carries no new
 * socket until its ban ends, then takes its turn again. Real sockets: the Binance REST simulator, two
 * CONNECT proxies that leave from their own loopback addresses, and the Binance WebSocket server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BinanceClient } from '../../src/clients/binance/rest.js';
import { NoEgressError } from '../../src/core/errors.js';
import { SymbolRegistry } from '../../src/normalize/symbols.js';
import { createBinanceSimulator } from '../../src/testing/binance.js';
import { json, startLocalServer } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';
import { deadPort, type LocalProxy, startProxy } from '../../src/testing/proxy.js';
import { BinanceWsServer } from '../../src/testing/ws/binance.js';
import { instrument, MINUTE, record, TEST_TIMING, testClock, until } from './helpers.js';

const market = new SyntheticMarket();
const FROM = Date.UTC(2024, 0, 1);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

async function proxy(localAddress: string): Promise<LocalProxy> {
  const p = await startProxy({ localAddress });
  cleanup.push(() => p.close());
  return p;
}

describe('one egress pool for REST and WebSocket', () => {
  it('error: a proxy banned over REST carries no new WebSocket connection until the ban ends', async () => {
    const banMs = 2_500;
    let bannedUntil = 0;
    const sim = createBinanceSimulator(market, {
      // The venue bans the first proxy's address (127.0.0.2) on its first request.
      intercept: (_url, clientId) => {
        if (clientId !== '127.0.0.2') return undefined;
        bannedUntil ||= Date.now() + banMs;
        return json(
          { code: -1003, msg: `Way too many requests; IP(127.0.0.2) banned until ${bannedUntil}.` },
          { status: 418 },
        );
      },
    });
    const rest = await startLocalServer(sim.handler);
    cleanup.push(() => rest.close());
    const clock = testClock();
    const ws = await new BinanceWsServer({
      clock,
      market,
      instruments: { BTCUSDT: { symbol: 'BTC', multiplier: 1 }, ETHUSDT: { symbol: 'ETH', multiplier: 1 } },
    }).start();
    cleanup.push(() => ws.close());
    const p1 = await proxy('127.0.0.2');
    const p2 = await proxy('127.0.0.3');
    const client = new BinanceClient({
      baseUrl: rest.url,
      wsUrl: ws.url,
      proxies: [p1.url, p2.url],
      direct: false,
      retryDelayMs: 10,
    });
    cleanup.push(() => client.close());

    // REST: a backfill meets the ban on proxy#1 and finishes on proxy#2.
    let rows = 0;
    for await (const page of client.candles({
      symbol: 'BTC',
      interval: '1m',
      from: FROM,
      to: FROM + 6 * 499 * MINUTE,
    }))
      rows += page.length;
    expect(rows).toBe(6 * 499);
    const stats = () => Object.fromEntries(client.transport.stats().map((e) => [e.id, e]));
    expect(stats()['proxy#1']!.downUntil).toBe(bannedUntil);
    expect(Date.now()).toBeLessThan(bannedUntil);

    // WebSocket, during the ban: one connection per symbol, every one through proxy#2.
    const tunnelsBefore = p1.tunnels;
    const stream = client.watchCandles({
      symbols: ['BTC', 'ETH'],
      interval: '1m',
      clock,
      gapFill: false,
      maxTopicsPerConnection: 1,
      ...TEST_TIMING,
    });
    const events = record(stream);
    const iterator = stream[Symbol.asyncIterator]();
    void iterator.next().catch(() => undefined);
    await until(() => events.connected.length === 2, 10_000);
    ws.server.dropAll(); // the reconnects during the ban still avoid proxy#1
    await until(() => events.reconnected.length >= 2, 10_000);
    expect(Date.now()).toBeLessThan(bannedUntil);
    expect(p1.tunnels).toBe(tunnelsBefore);
    expect(stats()['proxy#1']!.sockets).toBe(0);
    expect(stats()['proxy#2']!.sockets).toBeGreaterThanOrEqual(4);

    // After the ban: proxy#1 takes its turn again for new sockets.
    await until(() => Date.now() > bannedUntil, banMs + 1_000);
    const reconnected = events.reconnected.length;
    ws.server.dropAll();
    await until(() => events.reconnected.length >= reconnected + 2, 10_000);
    expect(stats()['proxy#1']!.sockets).toBeGreaterThanOrEqual(1);
    expect(p1.tunnels).toBeGreaterThan(tunnelsBefore);
    expect(events.error).toEqual([]);
    await iterator.return?.();
  });

  it('error: a proxy that refuses the socket is quarantined for REST too; then NoEgressError names it', async () => {
    const clock = testClock();
    const ws = await new BinanceWsServer({
      clock,
      market,
      instruments: { BTCUSDT: { symbol: 'BTC', multiplier: 1 } },
    }).start();
    cleanup.push(() => ws.close());
    const client = new BinanceClient({
      baseUrl: 'http://127.0.0.1:9',
      wsUrl: ws.url,
      proxies: [`http://user:pw-secret@127.0.0.1:${await deadPort()}`],
      direct: false,
      registry: new SymbolRegistry([instrument('binance', 'BTCUSDT', 'BTC')]),
    });
    cleanup.push(() => client.close());
    const stream = client.watchCandles({ symbols: ['BTC'], interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    const iterator = stream[Symbol.asyncIterator]();
    void iterator.next().catch(() => undefined);
    await until(() => events.reconnecting.length >= 2, 10_000);
    const [refused, out] = events.reconnecting.map((e) => e.error);
    expect(refused?.message).toContain('Connection failed: proxy refused the connection (ECONNREFUSED)');
    expect(refused?.message).toContain('Egress: proxy#1');
    // The same egress is out for REST: one health state.
    expect(client.transport.stats()[0]!.downUntil).toBeGreaterThan(Date.now());
    expect(out).toBeInstanceOf(NoEgressError);
    expect(out?.message).toContain('proxy refused the connection');
    for (const e of events.reconnecting) expect(e.error?.message ?? '').not.toContain('pw-secret');
    await iterator.return?.();
  });

  it('error: an upgrade the server refuses names the status, and the direct egress stays in service', async () => {
    const clock = testClock();
    const ws = await new BinanceWsServer({
      clock,
      market,
      instruments: { BTCUSDT: { symbol: 'BTC', multiplier: 1 } },
    }).start();
    cleanup.push(() => ws.close());
    ws.server.refuseNext(1);
    const client = new BinanceClient({
      baseUrl: 'http://127.0.0.1:9',
      wsUrl: ws.url,
      registry: new SymbolRegistry([instrument('binance', 'BTCUSDT', 'BTC')]),
    });
    cleanup.push(() => client.close());
    const stream = client.watchCandles({ symbols: ['BTC'], interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    const iterator = stream[Symbol.asyncIterator]();
    void iterator.next().catch(() => undefined);
    await until(() => events.connected.length === 1, 10_000);
    expect(events.reconnecting[0]?.error?.message).toContain(
      'Connection failed: server answered 503 to the upgrade',
    );
    expect(client.transport.stats()[0]).toMatchObject({ id: 'direct', downUntil: 0, sockets: 2 });
    await iterator.return?.();
  });
});
