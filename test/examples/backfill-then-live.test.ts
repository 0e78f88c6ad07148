/**
 * `examples/backfill-then-live.ts` (`npm run demo`) as a user runs it: a child process against the
 * simulated venues on a fast clock (60 simulated minutes a real minute), into PostgreSQL when
 * `PERPDATA_TEST_DATABASE_URL` is set (a schema of its own, dropped afterwards), embedded PGlite
 * otherwise: the backfill, 20 s of live, the summary, and what is stored: every venue x symbol candle
 * series contiguous up to the stop, one ledger interval, status rows `live` `stopped`, and
 * `examples/derive.ts` finding every derived row equal to a batch recompute. Also `--help`, bad flags
 * and a bad `--config` file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  candleKey,
  type ExampleDatabase,
  exampleDatabase,
  MINUTE,
  parseIso,
  runExample,
  storedCandles,
  summaryRow,
} from './example-process.js';

const VENUES = ['binance', 'bybit', 'okx'] as const;
const SYMBOLS = ['BTC', 'ETH', 'PEPE'];

describe('examples/backfill-then-live.ts', () => {
  let db: ExampleDatabase;
  beforeAll(async () => {
    db = await exampleDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('--help prints the usage and exits 0', async () => {
    const run = await runExample('backfill-then-live.ts', ['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: /);
    for (const flag of [
      '--venues',
      '--symbols',
      '--kinds',
      '--from',
      '--duration',
      '--config',
      '--simulate',
      '--data-dir',
      '--schema',
    ])
      expect(run.stdout).toContain(flag);
  });

  it('a bad flag, duration or config file exits 2 with a message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'perpdata-config-'));
    const config = join(dir, 'perpdata.json');
    await writeFile(config, JSON.stringify({ symbols: ['BTC'], interval: '1m' }));
    const [flag, duration, file, missing, coinalyze] = await Promise.all([
      runExample('backfill-then-live.ts', ['--bogus']),
      runExample('backfill-then-live.ts', ['--duration', 'soon']),
      runExample('backfill-then-live.ts', ['--config', config]),
      runExample('backfill-then-live.ts', ['--config', `${config}.missing`]),
      runExample('backfill-then-live.ts', ['--venues', 'binance,coinalyze']),
    ]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--bogus'");
    expect(duration.code).toBe(2);
    expect(duration.stderr).toContain('"soon" is not a duration');
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('unknown setting "interval"');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--config: cannot read');
    expect(coinalyze.code).toBe(2);
    expect(coinalyze.stderr).toContain('COINALYZE_API_KEY');
    await rm(dir, { recursive: true, force: true });
  });

  it('--simulate --duration 20s: backfill, 20 s of live, summary; candles stored contiguous up to the stop', async () => {
    const started = Date.now();
    const run = await runExample(
      'backfill-then-live.ts',
      ['--simulate', '--duration', '20s', '--from', '3h', ...db.args],
      db.env,
    );
    const out = run.stdout;
    expect(run.code, run.stderr + out).toBe(0);
    // The backfill's summary, then live, then the live summary and the job's status.
    expect(out).toMatch(/^venue\s+kind\s+series\s+rows\s+holes\s+errors$/m);
    expect(out).toMatch(/ 0 failed, 0 skipped; /);
    expect(out).toMatch(/^live: all \d+ series are current/m);
    expect(out).toMatch(/^series\s+live rows\s+last ts\s+lag\s+state$/m);
    expect(out).toMatch(/^live: [\d,]+ rows stored over \d+ series in /m);
    expect(out).toMatch(/status: live stopped \(\d+ series stopped\)/);
    const stopped = /^live stopped \(duration\) at (\S+) \(simulated\)/m.exec(out);
    expect(stopped, out).not.toBeNull();
    const stoppedAt = parseIso(stopped?.[1] as string);

    const storage = await db.open();
    try {
      for (const venue of VENUES)
        for (const symbol of SYMBOLS) {
          const id = `${venue}:candles:${symbol}:1m`;
          const { ts, ledger, steps } = await storedCandles(storage, candleKey(venue, symbol));
          const last = ts.at(-1) as number;
          // Up to the last minute that closed before the stop, give or take a simulated minute or two.
          expect(last, id).toBeGreaterThanOrEqual(Math.floor(stoppedAt / MINUTE) * MINUTE - 2 * MINUTE);
          expect(steps, `${id}: rows not one minute apart`).toBe(0);
          expect(
            ledger.map((c) => [c.state, c.from, c.to]),
            id,
          ).toEqual([['stored', ts[0], last + MINUTE]]);
          // What the summary says live stored is there.
          const row = summaryRow(out, id);
          expect(row?.rows, id).toBeGreaterThan(15);
          expect(row?.last, id).toBe(last);
        }
      const status = await storage.listStatus();
      const job = status.find((s) => s.job === 'live' && s.series === undefined);
      expect(job?.status).toBe('stopped');
      const candles = status.filter((s) => s.job === 'live:candles');
      expect(candles.length).toBe(VENUES.length * SYMBOLS.length);
      // Each series row says where it stopped.
      for (const s of candles) expect([s.status, s.ts !== undefined]).toEqual(['stopped', true]);
    } finally {
      await storage.close();
    }

    // examples/derive.ts: what the backfill derived equals a batch recompute of the stored inputs.
    const derive = await runExample('derive.ts', db.args, db.env);
    expect(derive.code, derive.stderr + derive.stdout).toBe(0);
    const verdict = derive.stdout.match(
      /^(\d+) derived series, [\d,]+ rows: every stored row equals a batch recompute from the stored inputs/m,
    );
    // 51 series whatever the hour, plus a funding MT per venue whose members had a funding event in the
    // simulated range (the range ends at the real present: which venues do depends on the hour).
    const fundingMt = (derive.stdout.match(/^\w+:funding:MT\s/gm) ?? []).length;
    expect(verdict?.[1], derive.stdout).toBe(String(51 + fundingMt));
    expect(derive.stdout).toMatch(/^binance:candles:MT:1m\s+[\d,]+\s+[\d,]+\s+\S+\s+0\s/m);
    expect(Date.now() - started).toBeLessThan(85_000);
  }, 90_000);

  it('examples/derive.ts --help prints the usage and exits 0', async () => {
    const run = await runExample('derive.ts', ['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: /);
    for (const flag of ['--venues', '--symbols', '--simulate', '--data-dir', '--schema'])
      expect(run.stdout).toContain(flag);
  });
});
