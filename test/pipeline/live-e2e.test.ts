/**
 * `Sync.run()` end to end on PostgreSQL against the simulated venues on a fast clock (1 real second =
 * 2 simulated minutes): 3 venues + Coinalyze x 3 symbols (PEPE a 1000-multiplier contract on Bybit and
 * OKX) x every kind, 30 simulated minutes of live with 1% of REST answers 5xx, every socket dropped at
 * the hand-off and again 10 minutes later, and a 418 ban of Binance's egress during live. Every series
 * ends current, its ledger contiguous from its start to its newest row, candles equal to the market,
 * and the derived series (RSI, MT, 1m expansion, taker distribution) equal a batch recompute.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { VenueClient } from '../../src/clients/base.js';
import type { Interval } from '../../src/core/intervals.js';
import type { SeriesKey } from '../../src/core/types.js';
import { Sync } from '../../src/pipeline/index.js';
import { PostgresStorage } from '../../src/storage/index.js';
import { simulateVenues } from '../../src/testing/index.js';
import { simulatedClient } from '../venue-clients.js';
import { expectDerivedEqualRecompute } from './derived-check.js';
import { waitUntil } from './live-fixture.js';

const PG_URL = process.env.PERPDATA_TEST_DATABASE_URL;
const MINUTE = 60_000;
const SPEED = 120;
const EPOCH = Date.UTC(2024, 5, 1, 0, 0, 30);
const schema = `perpdata_live_e2e_${process.pid}`;

afterAll(async () => {
  if (!PG_URL) return;
  const pool = new pg.Pool({ connectionString: PG_URL });
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

describe.skipIf(!PG_URL)('Sync.run() end to end on PostgreSQL', () => {
  it('resilience: every kind stays current through dropped sockets, 5xx and a ban, with contiguous ledgers', async () => {
    const sim = await simulateVenues({ clock: { start: EPOCH, speed: SPEED } });
    const common = { retryDelayMs: 5, maxEgressWaitMs: 200 };
    const clients: VenueClient[] = [
      ...(['binance', 'bybit', 'okx'] as const).map((v) => simulatedClient(sim, v, common)),
      simulatedClient(sim, 'coinalyze', common, 'binance'),
    ];
    const storage = new PostgresStorage({ db: PG_URL as string, schema });
    await storage.migrate();
    try {
      sim.faults.errorRate(0.01);
      const from = EPOCH - 6 * 60 * MINUTE;
      const sync = new Sync({
        storage,
        clients,
        symbols: ['BTC', 'ETH', 'PEPE'],
        from,
        clock: sim.clock,
        // Batches wait on the real clock: 20 ms is 2.4 simulated seconds at 120x.
        batchDelayMs: 20,
        derive: { rsi: [14], marketAverage: true, expandTo1m: ['openInterest'], takerTo1m: true },
      });
      const errors: string[] = [];
      sync.on('error', (e) => errors.push(`${e.series?.id}: ${e.error.message}`));
      const { backfill, live } = await sync.run();
      // The hand-off: every socket dropped as the streams open.
      for (const ws of Object.values(sim.ws)) ws?.server.dropAll();
      const liveFrom = sim.clock.now();
      const failed = backfill.series.filter((s) => s.outcome === 'error');
      expect(failed.map((s) => `${s.id}: ${s.error?.message}`)).toEqual([]);
      await waitUntil(sim.clock, liveFrom + 10 * MINUTE);
      for (const ws of Object.values(sim.ws)) ws?.server.dropAll();
      sim.faults.ban('binance', { ms: 1_000 });
      await waitUntil(sim.clock, liveFrom + 30 * MINUTE);
      const health = live.health();
      await live.stop();
      const stoppedAt = sim.clock.now();
      expect(errors).toEqual([]);
      // Coinalyze's budget (40 requests a minute) runs on the real clock, as the venue's does: at 120x
      // it cannot poll 1m series every simulated minute, so only the exchanges must be live here.
      const exchanges = health.filter((h) => h.series.key.source !== 'coinalyze');
      expect(exchanges.filter((h) => h.state !== 'live').map((h) => `${h.series.id} ${h.state}`)).toEqual([]);
      for (const h of exchanges.filter((x) => x.series.kind === 'candles'))
        expect(h.lagMs, h.series.id).toBeLessThan(MINUTE + 30_000);
      expect(health.filter((h) => h.state === 'error').map((h) => h.series.id)).toEqual([]);
      // Every backfilled series, plus the exchanges' liquidations, which only their streams serve.
      expect(health.filter((h) => !h.derived && h.series.kind !== 'liquidations').length).toBe(
        backfill.series.filter((s) => s.outcome === 'done' && !s.derived && s.kind !== 'liquidations').length,
      );
      expect(
        health
          .filter((h) => h.series.kind === 'liquidations' && h.series.key.source !== 'coinalyze')
          .map((h) => h.series.id)
          .sort(),
      ).toEqual(
        ['binance', 'bybit', 'okx']
          .flatMap((v) => ['BTC', 'ETH', 'PEPE'].map((s) => `${v}:liquidations:${s}:1m`))
          .sort(),
      );

      for (const report of backfill.series.filter((s) => s.outcome === 'done' && !s.derived)) {
        const coverage = await storage.coverage(report.kind, report.key as SeriesKey);
        // Contiguous from the series' start: stored and empty intervals meet end to start. An event
        // series (funding) with no event yet in its range has nothing it may mark settled.
        if (coverage.length === 0 && report.key.interval === undefined) continue;
        expect(coverage[0]?.from, report.id).toBe(report.from);
        for (let i = 1; i < coverage.length; i++)
          expect(coverage[i]!.from, report.id).toBe(coverage[i - 1]!.to);
        const h = health.find((x) => x.series.id === report.id)!;
        expect(h.lastTs, report.id).toBeDefined();
      }
      for (const source of ['binance', 'bybit', 'okx'] as const) {
        for (const symbol of ['BTC', 'ETH', 'PEPE']) {
          const key = { source, exchange: source, symbol, interval: '1m' as Interval };
          const rows: { ts: number; open: number; close: number; volume: number }[] = [];
          for await (const page of storage.read('candles', key, 0, Number.MAX_SAFE_INTEGER))
            rows.push(...page);
          const first = Math.ceil(from / MINUTE) * MINUTE;
          const last = rows.at(-1)!.ts;
          expect(last, `${source} ${symbol}`).toBeGreaterThanOrEqual(
            Math.floor(stoppedAt / MINUTE) * MINUTE - 2 * MINUTE,
          );
          const expected: number[] = [];
          for (let t = first; t <= last; t += MINUTE) if (sim.market.has(symbol, t)) expected.push(t);
          expect(
            rows.map((r) => r.ts),
            `${source} ${symbol}`,
          ).toEqual(expected);
          for (const r of rows) {
            const m = sim.market.candle(symbol, r.ts, MINUTE);
            for (const [got, want] of [
              [r.open, m.open],
              [r.close, m.close],
              [r.volume, m.volume],
            ] as const)
              expect(Math.abs(got / want - 1), `${source} ${symbol} ${r.ts}`).toBeLessThan(1e-9);
          }
        }
      }
      // Derived series kept up live and equal a batch recompute over what is stored.
      await expectDerivedEqualRecompute(storage, {
        sources: ['binance', 'bybit', 'okx'],
        symbols: ['BTC', 'ETH', 'PEPE'],
        trailing: true,
        closedMinute: Math.floor(stoppedAt / MINUTE) * MINUTE,
        reach: Math.floor(stoppedAt / MINUTE) * MINUTE - 3 * MINUTE,
      });
    } finally {
      await storage.close();
      for (const c of clients) await c.close();
      await sim.close();
    }
  }, 180_000);
});
