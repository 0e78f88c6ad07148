/**
 * `examples/live.ts` (live only, from now): `--help`, and a short run against the simulated venues on a
 * fast clock: rows printed as they are stored, the summary, the status row `live` `stopped`, and candles
 * stored contiguous from the start (a quarter of an hour back) up to the stop. PostgreSQL when
 * `PERPDATA_TEST_DATABASE_URL` is set (a schema of its own, dropped afterwards), embedded PGlite otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  candleKey,
  type ExampleDatabase,
  exampleDatabase,
  MINUTE,
  parseIso,
  runExample,
  storedCandles,
} from './example-process.js';

describe('examples/live.ts', () => {
  let db: ExampleDatabase;
  beforeAll(async () => {
    db = await exampleDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('--help prints the usage and exits 0', async () => {
    const run = await runExample('live.ts', ['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: /);
    for (const flag of [
      '--venues',
      '--symbols',
      '--kinds',
      '--duration',
      '--config',
      '--simulate',
      '--schema',
    ])
      expect(run.stdout).toContain(flag);
    expect(run.stdout).not.toContain('--from');
  });

  it('--simulate --duration 12s prints candles as they are stored and keeps them contiguous', async () => {
    const run = await runExample(
      'live.ts',
      [
        '--simulate',
        '--duration',
        '12s',
        '--symbols',
        'BTC,ETH',
        '--kinds',
        'candles,openInterest',
        ...db.args,
      ],
      db.env,
    );
    const out = run.stdout;
    expect(run.code, run.stderr + out).toBe(0);
    const start = /^live: .* from (\S+) for 12 s$/m.exec(out);
    expect(start, out).not.toBeNull();
    const from = parseIso(start?.[1] as string);
    const stopped = /^live stopped at (\S+) \(simulated\)/m.exec(out);
    expect(stopped, out).not.toBeNull();
    const stoppedAt = parseIso(stopped?.[1] as string);
    expect(out).toMatch(/^\S+Z\s+binance:candles:BTC:1m\s+o [\d.]+\s+h /m);
    expect(out).toMatch(/^\S+Z\s+okx:openInterest:ETH:5m\s+open interest /m);
    expect(out).toMatch(/^series\s+live rows\s+last ts\s+lag\s+state$/m);
    expect(out).toMatch(/status: live stopped \(\d+ series stopped\)/);

    const storage = await db.open();
    try {
      for (const venue of ['binance', 'bybit', 'okx'] as const)
        for (const symbol of ['BTC', 'ETH']) {
          const id = `${venue} ${symbol}`;
          const { ts, ledger, steps } = await storedCandles(storage, candleKey(venue, symbol));
          expect(ts[0], id).toBe(from);
          expect(steps, id).toBe(0);
          expect(ts.at(-1), id).toBeGreaterThanOrEqual(Math.floor(stoppedAt / MINUTE) * MINUTE - 2 * MINUTE);
          expect(
            ledger.map((c) => [c.state, c.from, c.to]),
            id,
          ).toEqual([['stored', from, (ts.at(-1) as number) + MINUTE]]);
        }
      const job = (await storage.listStatus('live')).find((s) => s.job === 'live' && s.series === undefined);
      expect(job?.status).toBe('stopped');
    } finally {
      await storage.close();
    }
  }, 60_000);
});
