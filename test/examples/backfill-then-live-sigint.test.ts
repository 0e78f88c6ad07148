/**
 * SIGINT on `examples/backfill-then-live.ts` while it is live (`--duration forever`): it exits 0
 * within 5 s, the status rows say `live` `stopped`, and nothing buffered is lost: every candle series
 * is stored contiguous on the 1m grid under one ledger interval, up to the newest candle its health
 * reported at the stop, and up to within a couple of simulated minutes of the stop. PostgreSQL when
 * `PERPDATA_TEST_DATABASE_URL` is set (a schema of its own, dropped afterwards), embedded PGlite
 * otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  candleKey,
  type ExampleDatabase,
  exampleDatabase,
  MINUTE,
  parseIso,
  startExample,
  storedCandles,
  summaryRow,
} from './example-process.js';

const VENUES = ['binance', 'bybit', 'okx'] as const;
const SYMBOLS = ['BTC', 'ETH', 'PEPE'];

describe('examples/backfill-then-live.ts on SIGINT', () => {
  let db: ExampleDatabase;
  beforeAll(async () => {
    db = await exampleDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('stops cleanly within 5 s and leaves no hole in the stored candles', async () => {
    const run = startExample(
      'backfill-then-live.ts',
      ['--simulate', '--duration', 'forever', '--from', '2h', ...db.args],
      db.env,
    );
    try {
      await run.waitFor(/^live: all \d+ series are current/m, 70_000);
      // A few simulated minutes of streamed candles, then Ctrl-C.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      const sent = Date.now();
      run.child.kill('SIGINT');
      const exit = await Promise.race([
        run.exited,
        new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5_000)),
      ]);
      expect(exit, run.out.stdout + run.out.stderr).toEqual({ code: 0, signal: null });
      expect(Date.now() - sent).toBeLessThan(5_000);
    } finally {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    }
    const out = run.out.stdout;
    expect(run.out.stderr).toContain('SIGINT: stopping');
    const stopped = /^live stopped \(SIGINT\) at (\S+) \(simulated\)/m.exec(out);
    expect(stopped, out).not.toBeNull();
    const stoppedAt = parseIso(stopped?.[1] as string);
    expect(out).toMatch(/status: live stopped \(\d+ series stopped\)/);

    const storage = await db.open();
    try {
      for (const venue of VENUES)
        for (const symbol of SYMBOLS) {
          const id = `${venue}:candles:${symbol}:1m`;
          const { ts, ledger, steps } = await storedCandles(storage, candleKey(venue, symbol));
          const last = ts.at(-1) as number;
          expect(steps, `${id}: rows not one minute apart`).toBe(0);
          expect(
            ledger.map((c) => [c.state, c.from, c.to]),
            id,
          ).toEqual([['stored', ts[0], last + MINUTE]]);
          expect(last, id).toBeGreaterThanOrEqual(Math.floor(stoppedAt / MINUTE) * MINUTE - 2 * MINUTE);
          // The newest candle live had taken in by the stop was written.
          const row = summaryRow(out, id);
          expect(row?.last, id).toBe(last);
          expect(row?.rows, id).toBeGreaterThan(0);
        }
      const job = (await storage.listStatus('live')).find((s) => s.job === 'live' && s.series === undefined);
      expect(job?.status).toBe('stopped');
      // Every live series row says where it stopped, not `running`.
      const rows = (await storage.listStatus()).filter((s) => s.job.startsWith('live:'));
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((s) => s.status !== 'stopped').map((s) => `${s.job} ${s.status}`)).toEqual([]);
      expect(rows.every((s) => s.ts !== undefined)).toBe(true);
    } finally {
      await storage.close();
    }
  }, 90_000);
});
