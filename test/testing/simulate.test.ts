import { setupServer } from 'msw/node';
import { afterEach, describe, expect, it } from 'vitest';
import { BinanceClient } from '../../src/clients/binance/rest.js';
import { BybitClient } from '../../src/clients/bybit/rest.js';
import type { HistoryKind } from '../../src/clients/capabilities.js';
import { CoinalyzeClient } from '../../src/clients/coinalyze/rest.js';
import { OkxClient } from '../../src/clients/okx/rest.js';
import { InvalidArgumentError, PerpdataError, ValidationError } from '../../src/core/errors.js';
import { addInterval, floorToInterval, type Interval } from '../../src/core/intervals.js';
import type { Candle } from '../../src/core/types.js';
import { VENUES } from '../../src/core/venues.js';
import { mswHandlers, SIMULATED_VENUES, type Simulation, simulateVenues } from '../../src/testing/index.js';
import { simulatedClient } from '../venue-clients.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T = Date.UTC(2024, 5, 1, 12, 0, 30);
const FROM = T - 3 * HOUR - 30_000;
const TO = T - 30_000;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

async function start(options: Parameters<typeof simulateVenues>[0] = {}): Promise<Simulation> {
  const sim = await simulateVenues(options);
  cleanup.push(() => sim.close());
  return sim;
}

async function all<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...page);
  return out;
}

/** Asserts a complete 1m series over [FROM, TO) equal to the market's candles. */
function expectMarketCandles(sim: Simulation, candles: readonly Candle[], symbol: string): void {
  expect(candles).toHaveLength(180);
  for (const [i, c] of candles.entries()) {
    expect(c.ts).toBe(FROM + i * MINUTE);
    const m = sim.market.candle(symbol, c.ts, MINUTE);
    expect(c.close).toBeCloseTo(m.close, 12);
    expect(c.open).toBeCloseTo(m.open, 12);
  }
}

describe('simulateVenues', () => {
  it('default: the client of every venue backfills candles from it, equal to the market, and every exchange its funding', async () => {
    const sim = await start({ now: () => T });
    // Coinalyze (the aggregator) over Bybit's instruments.
    const clients = SIMULATED_VENUES.map((venue) => simulatedClient(sim, venue, {}, 'bybit'));
    cleanup.push(async () => {
      await Promise.all(clients.map((c) => c.close()));
    });
    const client = (venue: string) => clients.find((c) => c.venue === venue)!;
    const range = { from: FROM, to: TO, interval: '1m' as const };
    for (const c of clients) {
      const candles = await all(c.history('candles', { symbol: 'BTC', ...range }));
      expectMarketCandles(sim, candles, 'BTC');
      expect(candles[0]).toMatchObject({
        source: c.venue,
        exchange: VENUES[c.venue].role === 'aggregator' ? 'bybit' : c.venue,
      });
    }
    expectMarketCandles(
      sim,
      await all(client('binance').history('candles', { symbol: 'PEPE', ...range })),
      'PEPE',
    );
    expectMarketCandles(
      sim,
      await all(client('bybit').history('candles', { symbol: 'ETH', ...range })),
      'ETH',
    );

    const day = { from: T - 2 * 24 * HOUR, to: T };
    const exchanges = clients.filter((c) => VENUES[c.venue].role === 'exchange');
    expect(exchanges.map((c) => c.venue)).toEqual(expect.arrayContaining(['binance', 'bybit', 'okx']));
    for (const c of exchanges) {
      const funding = await all(c.history('funding', { symbol: 'BTC', ...day }));
      expect(funding.length, c.venue).toBeGreaterThanOrEqual(6);
      for (const f of funding)
        expect(f.rate).toBeCloseTo(
          sim.market.fundingRate('BTC', Math.floor(f.ts / (8 * HOUR)) * 8 * HOUR),
          10,
        );
    }
    const oi = await all(
      client('binance').history('openInterest', {
        symbol: 'BTC',
        interval: '5m',
        from: T - HOUR,
        to: T - 30_000,
      }),
    );
    // 11:05 … 11:55: the 12:00 period is still forming.
    expect(oi).toHaveLength(11);
    expect(sim.stats.requests()).toBe(SIMULATED_VENUES.reduce((sum, v) => sum + sim.stats[v].requests, 0));
    expect(sim.stats.binance.byPath.get('/fapi/v1/klines')).toBeGreaterThanOrEqual(2);
  });

  it('default: each simulator serves every kind, interval and ratio kind its client says the venue serves', async () => {
    const lifted = 1_000_000;
    const sim = await start({ now: () => T, ws: false, unlimited: true });
    const options = {
      retries: 0,
      outOfRange: 'throw',
      rateLimit: { limit: lifted, intervalMs: MINUTE },
    } as const;
    const clients = SIMULATED_VENUES.map((venue) => simulatedClient(sim, venue, options));
    cleanup.push(async () => {
      await Promise.all(clients.map((c) => c.close()));
    });
    const failures: string[] = [];
    let served = 0;
    for (const client of clients) {
      for (const [kind, c] of Object.entries(client.capabilities.kinds) as [
        HistoryKind,
        typeof client.capabilities.kinds.candles,
      ][]) {
        if (!c) continue;
        const label = (what: string) => `${client.venue} ${kind} ${what}`;
        if (c.rest === 'snapshot') {
          if (
            kind === 'candles' ||
            kind === 'longShortRatio' ||
            kind === 'takerVolume' ||
            kind === 'liquidations'
          )
            continue;
          const rows = await client.snapshot(kind, { symbol: 'BTC' }).catch((e: Error) => e);
          if (rows instanceof Error || rows.length === 0) failures.push(label(`snapshot: ${String(rows)}`));
          else served++;
          continue;
        }
        if (c.rest !== 'history') continue;
        const intervals: (Interval | undefined)[] = c.intervals.length > 0 ? [...c.intervals] : [undefined];
        for (const interval of intervals) {
          for (const ratioKind of c.ratioKinds ?? [undefined]) {
            const to = interval ? floorToInterval(T, interval) : T;
            const from = Math.max(
              interval ? addInterval(to, interval, -3) : to - 3 * 24 * HOUR,
              c.earliest(T, interval) + (interval ? addInterval(0, interval, 1) : 0),
            );
            try {
              const rows = await all(
                client.history(kind, {
                  symbol: 'BTC',
                  from,
                  to,
                  ...(interval ? { interval } : {}),
                  ...(ratioKind ? { ratioKind } : {}),
                }),
              );
              if (rows.length === 0) failures.push(label(`${interval ?? ''} ${ratioKind ?? ''}: no rows`));
              else served++;
            } catch (error) {
              failures.push(label(`${interval ?? ''} ${ratioKind ?? ''}: ${String(error).split('\n')[0]}`));
            }
          }
        }
      }
      const period = await client.fundingPeriod('BTC').catch((e: Error) => e);
      if (period instanceof Error)
        failures.push(`${client.venue} fundingPeriod: ${period.message.split('\n')[0]}`);
    }
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(100);
  });

  it('behavior: holes are absent on every venue; counters per path count only the tail of a second run', async () => {
    const hole = { symbol: 'BTC', from: T - 2 * HOUR, to: T - 2 * HOUR + 10 * MINUTE };
    const sim = await start({ now: () => T, holes: [hole] });
    const binance = new BinanceClient(sim.clientOptions('binance'));
    const okx = new OkxClient(sim.clientOptions('okx'));
    cleanup.push(async () => {
      await Promise.all([binance.close(), okx.close()]);
    });
    for (const client of [binance, okx]) {
      const candles = await all(client.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: TO }));
      expect(candles, client.venue).toHaveLength(170);
      expect(candles.some((c) => c.ts >= hole.from && c.ts < hole.to)).toBe(false);
    }
    sim.stats.reset();
    expect(sim.stats.requests()).toBe(0);
    await all(binance.candles({ symbol: 'BTC', interval: '1m', from: TO - 5 * MINUTE, to: TO }));
    expect(sim.stats.requests('binance', '/fapi/v1/klines')).toBe(1);
    expect(sim.stats.requests('okx')).toBe(0);
  });

  it('behavior: a seeded 5xx rate and the next N failures are retried by the clients', async () => {
    const sim = await start({ now: () => T, faults: { errorRate: 0.3, seed: 2 } });
    const retry = { retryDelayMs: 1, retries: 10 };
    const binance = new BinanceClient({ ...sim.clientOptions('binance'), ...retry });
    const bybit = new BybitClient({ ...sim.clientOptions('bybit'), ...retry });
    const coinalyze = new CoinalyzeClient({ ...sim.clientOptions('coinalyze'), ...retry });
    cleanup.push(async () => {
      await Promise.all([binance.close(), bybit.close(), coinalyze.close()]);
    });
    const fails = sim.faults.failNext(3, { venue: 'bybit', path: '/v5/market/kline', status: 502 });
    for (const symbol of ['BTC', 'ETH', 'PEPE']) {
      const range = { symbol, from: FROM, to: TO, interval: '1m' as const };
      expectMarketCandles(sim, await all(binance.candles(range)), symbol);
      expectMarketCandles(sim, await all(bybit.candles(range)), symbol);
      expectMarketCandles(sim, await all(coinalyze.candles(range)), symbol);
    }
    expect(fails.hits).toBe(3);
    expect(sim.stats.bybit.byStatus.get(502)).toBe(3);
    expect(sim.stats.binance.byStatus.get(503) ?? 0).toBeGreaterThan(0);
    expect(sim.stats.coinalyze.byStatus.get(503) ?? 0).toBeGreaterThan(0);
  });

  it('behavior: the same seed fails the same requests', async () => {
    const counts: number[] = [];
    for (let run = 0; run < 2; run++) {
      const sim = await simulateVenues({ now: () => T, ws: false });
      const fault = sim.faults.errorRate(0.5, { venue: 'okx', seed: 3 });
      const okx = new OkxClient({ ...sim.clientOptions('okx'), retryDelayMs: 1, retries: 10 });
      const candles = await all(okx.candles({ symbol: 'BTC', interval: '1m', from: TO - 24 * HOUR, to: TO }));
      expect(candles).toHaveLength(24 * 60);
      counts.push(fault.hits);
      expect(sim.stats.okx.byStatus.get(503)).toBe(fault.hits);
      await okx.close();
      await sim.close();
    }
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBe(counts[0]);
  });

  it('behavior: a connection reset (socket destroyed) is survived', async () => {
    const sim = await start({ now: () => T });
    const okx = new OkxClient({ ...sim.clientOptions('okx'), retryDelayMs: 1 });
    cleanup.push(() => okx.close());
    const reset = sim.faults.resetNext(2, { venue: 'okx', path: '/api/v5/market/history-candles' });
    expectMarketCandles(
      sim,
      await all(okx.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: TO })),
      'BTC',
    );
    expect(reset.hits).toBe(2);
    expect(sim.stats.okx.resets).toBe(2);
  });

  it('error: a drifted payload for one path yields ValidationError, other paths are served', async () => {
    const sim = await start({ now: () => T });
    const binance = new BinanceClient({ ...sim.clientOptions('binance'), retryDelayMs: 1 });
    cleanup.push(() => binance.close());
    const drift = sim.faults.drift('binance', '/fapi/v1/fundingRate', (rows) =>
      (rows as Record<string, unknown>[]).map(({ fundingRate: _, ...row }) => row),
    );
    await expect(all(binance.funding({ symbol: 'BTC', from: T - 24 * HOUR, to: T }))).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(drift.hits).toBeGreaterThan(0);
    expectMarketCandles(
      sim,
      await all(binance.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: TO })),
      'BTC',
    );
    drift.remove();
    expect((await all(binance.funding({ symbol: 'BTC', from: T - 24 * HOUR, to: T }))).length).toBe(3);
  });

  it('error: a 418 ban of one client id fails over, then lifts after its (real) time', async () => {
    const sim = await start({ now: () => T });
    const binance = new BinanceClient({
      ...sim.clientOptions('binance'),
      retryDelayMs: 1,
      maxEgressWaitMs: 50,
    });
    cleanup.push(() => binance.close());
    await binance.registry();
    const ban = sim.faults.ban('binance', { ms: 300 });
    const error = await all(binance.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: TO })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PerpdataError);
    expect((error as PerpdataError).code).toBe('BANNED');
    expect(sim.stats.binance.byStatus.get(418)).toBeGreaterThanOrEqual(1);
    expect(ban.hits).toBeGreaterThanOrEqual(1);
    // Bans run on the real clock, like the clients' quarantine; a fresh client after the ban's end.
    await new Promise((resolve) => setTimeout(resolve, 350));
    const again = new BinanceClient({ ...sim.clientOptions('binance'), retryDelayMs: 1 });
    cleanup.push(() => again.close());
    const candles = await all(again.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: TO }));
    expect(candles).toHaveLength(180);
  });

  it('behavior: the clock runs faster than real time, shared by simulators, clients and WebSocket servers', async () => {
    const speed = 600;
    const sim = await start({ clock: { start: T, speed } });
    expect(sim.clock.speed).toBe(speed);
    const started = performance.now();
    const first = sim.clock.now();
    expect(Math.abs(first - T)).toBeLessThan(5_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const realMs = performance.now() - started;
    const simMs = sim.clock.now() - first;
    expect(simMs).toBeGreaterThan(realMs * speed * 0.5);
    expect(sim.clientOptions('bybit').now).toBe(sim.clock.now);

    // The venues' server clocks and the forming candle follow the simulated time.
    const binance = new BinanceClient(sim.clientOptions('binance'));
    cleanup.push(() => binance.close());
    const serverTime = await binance.serverTime();
    expect(Math.abs(serverTime - sim.clock.now())).toBeLessThan(speed * 1_000);
    const candles = await all(
      binance.candles({ symbol: 'BTC', interval: '1m', from: T - 10 * MINUTE, to: sim.clock.now() + HOUR }),
    );
    expect(candles.length).toBeGreaterThanOrEqual(10);
    expect(candles.at(-1)!.ts + MINUTE).toBeLessThanOrEqual(sim.clock.now());

    // A live candle closes within a simulated minute (a tenth of a real second at this speed).
    const stream = binance.watchCandles({ symbols: ['BTC'], interval: '1m', clock: sim.clock });
    const live: Candle[] = [];
    for await (const candle of stream) {
      live.push(candle);
      if (live.length >= 2) break;
    }
    expect(live[1]!.ts - live[0]!.ts).toBe(MINUTE);
    expect(live[1]!.close).toBeCloseTo(sim.market.candle('BTC', live[1]!.ts, MINUTE).close, 12);
  });

  it('behavior: sim.handlers serve the same venues through MSW, faults and counters included', async () => {
    const sim = await start({ now: () => T, ws: false });
    const base = 'http://binance.test';
    const msw = setupServer(...mswHandlers(base, sim.handlers.binance));
    msw.listen({ onUnhandledRequest: 'error' });
    cleanup.push(async () => msw.close());
    const binance = new BinanceClient({ baseUrl: base, now: sim.clock.now, retryDelayMs: 1 });
    cleanup.push(() => binance.close());
    const reset = sim.faults.resetNext(1, { path: '/fapi/v1/klines' });
    expectMarketCandles(
      sim,
      await all(binance.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: TO })),
      'BTC',
    );
    expect(reset.hits).toBe(1);
    expect(sim.stats.binance.byPath.get('/fapi/v1/klines')).toBe(2);
  });

  it('behavior: close() stops every server and leaves no open handle', async () => {
    const servers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    const before = servers();
    const sim = await simulateVenues({ now: () => T });
    expect(servers()).toBe(before + 7);
    const binance = new BinanceClient(sim.clientOptions('binance'));
    await all(binance.candles({ symbol: 'BTC', interval: '1m', from: FROM, to: TO }));
    await binance.close();
    await sim.close();
    await sim.close();
    expect(servers()).toBe(before);
    await expect(fetch(`${sim.urls.binance.baseUrl}/fapi/v1/time`)).rejects.toThrow();
  });

  it('error: options are validated eagerly', async () => {
    await expect(simulateVenues({ now: () => T, clock: { speed: 2 } })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(
      simulateVenues({ assets: [{ symbol: '1000DOGE', basePrice: 0.1, listedAt: 0 }] }),
    ).rejects.toThrow(/no venue can list "1000DOGE"/);
    await expect(simulateVenues({ clock: { speed: 0 } })).rejects.toBeInstanceOf(InvalidArgumentError);
    const sim = await start({ now: () => T, ws: false });
    expect(() => sim.faults.errorRate(2)).toThrow(InvalidArgumentError);
    expect(() => sim.faults.failNext(1, { status: 404 })).toThrow(InvalidArgumentError);
    expect(sim.urls.okx.wsUrl).toBe('');
    const budgets = await start({
      now: () => T,
      ws: false,
      budgets: { binance: { weightLimit: 20, windowMs: 10_000 } },
    });
    expect(budgets.simulators.binance.budget.limit).toBe(20);
    expect(budgets.simulators.binance.budget.windowMs).toBe(10_000);
  });
});
