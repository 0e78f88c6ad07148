/**
 * The scenario once on embedded PGlite (the examples' default database), and stopping: aborting the
 * signal mid-run resolves within 2 s, flushes what was fetched with its ledger marks, and a second run
 * completes the database to what an uninterrupted run stores.
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MemoryStorage, PostgresStorage } from '../../src/storage/index.js';
import { type Simulation, simulateVenues } from '../../src/testing/index.js';
import { dumpSchema, HOLES, NOW, type ScenarioUrls, scenarioClients, scenarioSync } from './scenario.js';

let sim: Simulation;
let urls: ScenarioUrls;
beforeAll(async () => {
  sim = await simulateVenues({ now: () => NOW, holes: HOLES, ws: false });
  urls = {
    binance: sim.urls.binance.baseUrl,
    bybit: sim.urls.bybit.baseUrl,
    okx: sim.urls.okx.baseUrl,
    coinalyze: sim.urls.coinalyze.baseUrl,
    apiKey: sim.clientOptions('coinalyze').apiKey,
  };
});
afterAll(() => sim.close());

describe('Sync.backfill on PGlite and when stopped', () => {
  test('default: the whole scenario on PGlite completes, and a second run changes nothing', async () => {
    const db = new PGlite();
    const storage = new PostgresStorage({ db, schema: 'e2e' });
    await storage.migrate();
    const clients = scenarioClients(urls);
    try {
      const report = await scenarioSync(storage, clients).backfill();
      expect(report.series.filter((s) => s.outcome !== 'done').map((s) => s.id)).toEqual([]);
      expect(report.rowsWritten).toBeGreaterThan(200_000);
      const before = await dumpSchema(db, 'e2e');
      const again = await scenarioSync(storage, clients).backfill();
      expect(again.rowsWritten).toBe(0);
      expect(await dumpSchema(db, 'e2e')).toEqual(before);
    } finally {
      await Promise.all([...clients.map((c) => c.close()), storage.close()]);
      await db.close();
    }
  }, 180_000);

  test('behavior: abort stops within 2 s, flushes with ledger marks, and the next run completes the same data', async () => {
    const storage = new MemoryStorage();
    const clients = scenarioClients(urls);
    try {
      const controller = new AbortController();
      const sync = scenarioSync(storage, clients, { signal: controller.signal });
      let abortedAt = 0;
      let pages = 0;
      sync.on('progress', () => {
        if (++pages === 40) {
          abortedAt = Date.now();
          controller.abort();
        }
      });
      const report = await sync.backfill();
      const stoppedIn = Date.now() - abortedAt;
      expect(abortedAt).toBeGreaterThan(0);
      expect(report.aborted).toBe(true);
      expect(stoppedIn).toBeLessThan(2_000);
      // Every mark the ledger holds is backed by rows: each stored interval's grid points are all there
      // (outside the venues' holes).
      const key = { source: 'binance', exchange: 'binance', symbol: 'BTC', interval: '1m' } as const;
      for (const c of await storage.coverage('candles', key)) {
        if (c.state !== 'stored') continue;
        let n = 0;
        for await (const page of storage.read('candles', key, c.from, c.to)) n += page.length;
        expect(n).toBe((c.to - c.from) / 60_000);
      }
      const statuses = await storage.listStatus('backfill');
      expect(statuses.find((s) => s.series === undefined)).toMatchObject({
        status: 'stopped',
        message: expect.stringMatching(/^stopped/),
      });
      // The next run completes what the stopped one left, to what one run into a fresh storage stores.
      const resumed = await scenarioSync(storage, clients).backfill();
      expect(resumed.resumed).toBe(true);
      expect(resumed.series.filter((s) => s.outcome !== 'done')).toEqual([]);
      const fresh = new MemoryStorage();
      await scenarioSync(fresh, clients).backfill();
      for (const kind of ['candles', 'openInterest', 'indicators', 'takerVolume'] as const) {
        const a: unknown[] = [];
        const b: unknown[] = [];
        for await (const page of storage.read(
          kind,
          { ...key, ...(kind === 'indicators' ? { kind: 'rsi14' } : {}) },
          0,
          NOW,
        ))
          a.push(...page);
        for await (const page of fresh.read(
          kind,
          { ...key, ...(kind === 'indicators' ? { kind: 'rsi14' } : {}) },
          0,
          NOW,
        ))
          b.push(...page);
        expect(a).toEqual(b);
      }
      expect(await storage.coverage('candles', key)).toEqual(await fresh.coverage('candles', key));
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }, 180_000);
});
