/**
 * `Sync.run()` = backfill, then live, against the simulated venues on a fast clock (1 real second =
 * 5 simulated minutes): every series stays current, candles arrive over the streams, a dropped
 * stream leaves no hole, and what is stored equals the market on its grid, with one contiguous ledger.
 */
import { describe, expect, it } from 'vitest';
import type { VenueClient } from '../../src/clients/base.js';
import type { Interval } from '../../src/core/intervals.js';
import type { SeriesKey } from '../../src/core/types.js';
import { Sync, type SyncOptions } from '../../src/pipeline/index.js';
import { MemoryStorage } from '../../src/storage/index.js';
import { simulateVenues } from '../../src/testing/index.js';
import { simulatedClient } from '../venue-clients.js';
import { closeAfterEach, waitUntil } from './live-fixture.js';

const MINUTE = 60_000;
const SPEED = 300;
const EPOCH = Date.UTC(2024, 5, 1, 0, 0, 30);
const SYMBOLS = ['BTC', 'ETH'];
const VENUES = ['binance', 'bybit', 'okx'] as const;

const cleanup = closeAfterEach();

async function readTs(storage: MemoryStorage, kind: 'candles' | 'openInterest', key: SeriesKey) {
  const out: number[] = [];
  for await (const page of storage.read(kind, key, 0, Number.MAX_SAFE_INTEGER))
    for (const r of page) out.push(r.ts);
  return out;
}

/** Binance alone on the simulated venues into a MemoryStorage (from the present unless `from`): the single-venue tests. */
async function binanceOnly(o: Pick<SyncOptions, 'symbols' | 'kinds'> & { from?: number }) {
  const sim = await simulateVenues({ clock: { start: EPOCH, speed: SPEED } });
  cleanup.push(() => sim.close());
  const binance = simulatedClient(sim, 'binance', { retryDelayMs: 1 });
  cleanup.push(() => binance.close());
  const storage = new MemoryStorage();
  const sync = new Sync({
    storage,
    clients: [binance],
    ...o,
    from: o.from ?? sim.clock.now(),
    clock: sim.clock,
    batchDelayMs: 50,
  });
  return { sim, storage, sync };
}

describe('Sync.live() and run()', () => {
  it('behavior: backfill then live over 3 venues keeps candles and open interest current, with no hole after a dropped stream', async () => {
    const sim = await simulateVenues({ clock: { start: EPOCH, speed: SPEED } });
    cleanup.push(() => sim.close());
    const clients: VenueClient[] = VENUES.map((v) => simulatedClient(sim, v, { retryDelayMs: 1 }));
    cleanup.push(async () => {
      for (const c of clients) await c.close();
    });
    const storage = new MemoryStorage();
    const from = EPOCH - 3 * 60 * MINUTE;
    const sync = new Sync({
      storage,
      clients,
      symbols: SYMBOLS,
      kinds: ['candles', 'openInterest'],
      from,
      clock: sim.clock,
      batchDelayMs: 100,
    });
    const errors: unknown[] = [];
    sync.on('error', (e) => errors.push(e.error));
    const reconnects: string[] = [];
    sync.on('reconnected', (e) => reconnects.push(e.stream));
    const { backfill, live } = await sync.run({ pollDelayMs: 3_000 });
    cleanup.push(() => live.stop());
    expect(backfill.series.every((s) => s.outcome === 'done')).toBe(true);
    const backfillEnd = Math.floor(sim.clock.now() / MINUTE) * MINUTE;

    // Live for 15 simulated minutes, drop every Binance and Bybit socket, then 15 more.
    await waitUntil(sim.clock, backfillEnd + 15 * MINUTE);
    sim.ws.binance!.server.dropAll();
    sim.ws.bybit!.server.dropAll();
    // Health 3 minutes after a 5-minute boundary: REST safety polls alone (every 5 minutes for streamed
    // candles) would leave the candles 3 minutes behind; the streams keep them within one period.
    const FIVE = 5 * MINUTE;
    await waitUntil(sim.clock, Math.ceil((backfillEnd + 25 * MINUTE) / FIVE) * FIVE + 3 * MINUTE + 10_000);
    const health = live.health();
    expect(health.length).toBe(VENUES.length * SYMBOLS.length * 2);
    for (const h of health) {
      expect(h.state, `${h.series.id}: ${h.error?.message ?? ''}`).toBe('live');
      if (h.series.kind === 'candles') expect(h.lagMs, h.series.id).toBeLessThan(MINUTE + 15_000);
      else expect(h.lagMs, h.series.id).toBeLessThan(2 * FIVE + 15_000);
    }
    const started = Date.now();
    await live.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
    const stoppedAt = sim.clock.now();
    expect(errors).toEqual([]);

    for (const source of VENUES) {
      for (const symbol of SYMBOLS) {
        const key = { source, exchange: source, symbol, interval: '1m' as Interval };
        const ts = await readTs(storage, 'candles', key);
        const first = Math.ceil(from / MINUTE) * MINUTE;
        // Everything from the start up to the last minute that closed a few seconds before the stop.
        const last = ts.at(-1) as number;
        expect(last, `${source} ${symbol}`).toBeGreaterThanOrEqual(
          Math.floor(stoppedAt / MINUTE) * MINUTE - 2 * MINUTE,
        );
        const expected: number[] = [];
        for (let t = first; t <= last; t += MINUTE) if (sim.market.has(symbol, t)) expected.push(t);
        expect(ts, `${source} ${symbol}`).toEqual(expected);
        const rows: { ts: number; close: number }[] = [];
        for await (const page of storage.read('candles', key, backfillEnd, last + 1)) rows.push(...page);
        for (const r of rows)
          expect(Math.abs(r.close / sim.market.candle(symbol, r.ts, MINUTE).close - 1)).toBeLessThan(1e-12);
        // One contiguous stored interval in the ledger, up to the newest candle.
        const ledger = (await storage.coverage('candles', key)).filter((c) => c.state === 'stored');
        expect(ledger.map((c) => [c.from, c.to])).toEqual([[first, last + MINUTE]]);

        const oiKey = { ...key, interval: '5m' as Interval };
        const oi = await readTs(storage, 'openInterest', oiKey);
        expect(oi.at(-1)!, `${source} ${symbol} open interest`).toBeGreaterThanOrEqual(
          Math.floor(stoppedAt / (5 * MINUTE)) * 5 * MINUTE - 10 * MINUTE,
        );
        for (let i = 1; i < oi.length; i++) expect(oi[i]! - oi[i - 1]!).toBe(5 * MINUTE);
      }
    }
    // The drops were events and error rows, once per dropped connection's return.
    expect(new Set(reconnects)).toEqual(new Set(['binance 1m candles', 'bybit 1m candles']));
    const wsRows = (await storage.listErrors()).filter((e) => e.code === 'WEBSOCKET');
    expect(wsRows.length).toBe(reconnects.length);
    expect(wsRows.every((e) => e.job === 'live' && /reconnected after \d+ ms down/.test(e.message))).toBe(
      true,
    );
    const status = await storage.listStatus();
    expect(status.find((s) => s.job === 'live' && s.series === undefined)?.status).toBe('stopped');
    // Each series row said `running` with its stored end while live, and says `stopped` with it now.
    const rows = status.filter((s) => s.job.startsWith('live:'));
    expect(rows.length).toBe(VENUES.length * SYMBOLS.length * 2);
    expect(rows.filter((s) => s.status !== 'stopped' || s.ts === undefined)).toEqual([]);
  }, 60_000);

  it('behavior: live() from the present, with nothing stored, writes streamed candles as they close', async () => {
    const { sim, storage, sync } = await binanceOnly({ symbols: ['BTC'], kinds: ['candles'] });
    const live = sync.live();
    cleanup.push(() => live.stop());
    const start = sim.clock.now();
    // Well before the 5-minute safety poll: only the stream can have stored these.
    await waitUntil(sim.clock, Math.ceil(start / MINUTE) * MINUTE + 3 * MINUTE + 20_000);
    const [h] = live.health();
    await live.stop();
    const key = { source: 'binance', exchange: 'binance', symbol: 'BTC', interval: '1m' } as const;
    const ts = await readTs(storage, 'candles', key);
    expect(ts.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBe(MINUTE);
    expect(ts[0]).toBe(Math.ceil(start / MINUTE) * MINUTE);
    expect(h?.state).toBe('live');
    expect(h?.lastTs).toBe(ts.at(-1));
  }, 30_000);

  it('behavior: a stream gone silent is a stalled event and error row; its missed minutes come over REST, no hole', async () => {
    const from = EPOCH - 30 * MINUTE;
    const { sim, storage, sync } = await binanceOnly({ symbols: ['BTC', 'ETH'], kinds: ['candles'], from });
    const stalls: string[] = [];
    const stalledAt: number[] = [];
    sync.on('stalled', (e) => {
      stalls.push(`${e.stream} ${e.symbol ?? ''}`);
      stalledAt.push(sim.clock.now());
    });
    const { live } = await sync.run();
    cleanup.push(() => live.stop());
    const server = sim.ws.binance!.server;
    await waitUntil(sim.clock, sim.clock.now() + 3 * MINUTE);
    // Silent for four minutes with the sockets open (cadence 1m + 6 s grace).
    const silentFrom = sim.clock.now();
    server.stalled = true;
    await waitUntil(sim.clock, silentFrom + 4 * MINUTE);
    server.stalled = false;
    await waitUntil(sim.clock, sim.clock.now() + 3 * MINUTE);
    const stoppedAt = sim.clock.now();
    await live.stop();
    // Noticed while silent (a stall outside the window would be the fast clock's jitter, not this).
    expect(stalledAt.some((t) => t > silentFrom && t <= silentFrom + 4 * MINUTE)).toBe(true);
    expect(stalls.every((s) => s.startsWith('binance 1m candles'))).toBe(true);
    const rows = (await storage.listErrors()).filter((e) => /stalled/.test(e.message));
    expect(rows.length).toBe(stalls.length);
    expect(rows[0]).toMatchObject({ job: 'live', code: 'WEBSOCKET' });
    for (const symbol of ['BTC', 'ETH']) {
      const ts = await readTs(storage, 'candles', {
        source: 'binance',
        exchange: 'binance',
        symbol,
        interval: '1m',
      });
      const first = Math.ceil(from / MINUTE) * MINUTE;
      const expected: number[] = [];
      for (let t = first; t <= (ts.at(-1) as number); t += MINUTE)
        if (sim.market.has(symbol, t)) expected.push(t);
      expect(ts, symbol).toEqual(expected);
      expect(ts.at(-1), symbol).toBeGreaterThanOrEqual(Math.floor(stoppedAt / MINUTE) * MINUTE - 2 * MINUTE);
    }
  }, 30_000);

  it('behavior: liquidations, which only a stream serves, are stored per period; quiet periods are marked empty, a drop leaves a hole', async () => {
    const { sim, storage, sync } = await binanceOnly({ symbols: ['BTC', 'ETH'], kinds: ['liquidations'] });
    const errors: string[] = [];
    sync.on('error', (e) => errors.push(e.error.message));
    const live = sync.live();
    cleanup.push(() => live.stop());
    const server = sim.ws.binance!;
    // Events pushed before the stream has subscribed would reach no one.
    while (![...server.server.topics()].some((t) => t.includes('forceOrder')))
      await new Promise((resolve) => setTimeout(resolve, 5));
    const m0 = Math.ceil(sim.clock.now() / MINUTE) * MINUTE + MINUTE;
    await waitUntil(sim.clock, m0 + 10_000);
    server.pushForceOrder('BTCUSDT', 'SELL', '0.5', '60000', m0 + 10_000);
    server.pushForceOrder('BTCUSDT', 'BUY', '0.1', '60000', m0 + 20_000);
    await waitUntil(sim.clock, m0 + 2 * MINUTE + 5_000);
    server.pushForceOrder('ETHUSDT', 'SELL', '2', '3000', m0 + 2 * MINUTE + 5_000);
    await waitUntil(sim.clock, m0 + 4 * MINUTE + 30_000);
    const dropAt = sim.clock.now();
    server.server.dropAll();
    await waitUntil(sim.clock, m0 + 8 * MINUTE + 10_000);
    const health = live.health();
    await live.stop();
    expect(errors).toEqual([]);
    expect(health.map((h) => `${h.series.id} ${h.state}`)).toEqual([
      'binance:liquidations:BTC:1m live',
      'binance:liquidations:ETH:1m live',
    ]);
    const rows = async (symbol: string) => {
      const out: { ts: number; longUsd: number; shortUsd: number }[] = [];
      const key = { source: 'binance', exchange: 'binance', symbol, interval: '1m' } as const;
      for await (const page of storage.read('liquidations', key, 0, Number.MAX_SAFE_INTEGER))
        out.push(...page);
      return { out, ledger: await storage.coverage('liquidations', key) };
    };
    const btc = await rows('BTC');
    expect(btc.out.map((r) => [r.ts, r.longUsd, r.shortUsd])).toEqual([[m0, 30_000, 6_000]]);
    const eth = await rows('ETH');
    expect(eth.out.map((r) => [r.ts, r.longUsd, r.shortUsd])).toEqual([[m0 + 2 * MINUTE, 6_000, 0]]);
    const dropMinute = Math.floor(dropAt / MINUTE) * MINUTE;
    for (const [symbol, { out, ledger }] of [
      ['BTC', btc],
      ['ETH', eth],
    ] as const) {
      // Stored exactly where a row is; empty (no liquidations) around it while the stream was up.
      expect(
        ledger.filter((c) => c.state === 'stored').map((c) => [c.from, c.to]),
        symbol,
      ).toEqual(out.map((r) => [r.ts, r.ts + MINUTE]));
      expect(ledger.filter((c) => c.state === 'empty').every((c) => c.reason === 'no liquidations')).toBe(
        true,
      );
      expect(ledger[0]!.from, symbol).toBeLessThanOrEqual(m0);
      // The minute of the drop is unmarked: nothing can fetch it again.
      expect(
        ledger.some((c) => c.from <= dropMinute && c.to > dropMinute),
        symbol,
      ).toBe(false);
      // Marked again after the reconnect, up to the minutes closed before the stop.
      expect(ledger.at(-1)!.to, symbol).toBeGreaterThanOrEqual(m0 + 7 * MINUTE);
      expect(ledger.filter((c) => c.to <= dropMinute).at(-1)?.to, symbol).toBe(dropMinute);
    }
  }, 30_000);
});
