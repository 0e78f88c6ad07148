/**
 * SIGKILL during `Sync.live()` on PostgreSQL, then a restart: the second run catches up from the
 * coverage ledger and the database ends complete, equal to the market on the 1m grid, with one
 * contiguous ledger interval per series (what an uninterrupted run stores), with 1% of REST answers 5xx
 * in both runs. The children share one simulated timeline (see `live-child.ts`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { Interval } from '../../src/core/intervals.js';
import { PostgresStorage } from '../../src/storage/index.js';
import { SyntheticMarket } from '../../src/testing/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const PG_URL = process.env.PERPDATA_TEST_DATABASE_URL;
const MINUTE = 60_000;
const SPEED = 60;
const schema = `perpdata_live_kill_${process.pid}`;

function child(config: object): { proc: ChildProcess; waitFor: (re: RegExp) => Promise<string> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(here, 'live-child.ts')], {
    env: { ...process.env, PERPDATA_CHILD: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) {
      const m = out.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m[0]);
      }
    }
  });
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const waitFor = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const m = out.match(re);
      if (m) return resolve(m[0]);
      waiters.push({ re, resolve });
      proc.once('exit', (code) =>
        reject(new Error(`child exited ${code} before ${re}: ${err.slice(-2000)}`)),
      );
    });
  return { proc, waitFor };
}

afterAll(async () => {
  if (!PG_URL) return;
  const pool = new pg.Pool({ connectionString: PG_URL });
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

describe.skipIf(!PG_URL)('Sync.live() on PostgreSQL', () => {
  it('resilience: SIGKILL during live, then a restart: candles complete and equal to the market, one ledger interval', async () => {
    const realStart = Date.now();
    const simStart = Date.UTC(2024, 5, 1, 0, 0, 30);
    const base = { db: PG_URL, schema, simStart, realStart, speed: SPEED, from: simStart - 2 * 60 * MINUTE };
    const first = child(base);
    // Live for at least 4 simulated minutes (candles written from the streams), then SIGKILL.
    await first.waitFor(/LIVE (2[4-9]\d{4}|[3-9]\d{5})/);
    first.proc.kill('SIGKILL');
    await new Promise((resolve) => first.proc.once('exit', resolve));
    const killedAt = Math.floor(simStart + (Date.now() - realStart) * SPEED);
    // Down for about 3 simulated minutes, then a run that stops cleanly after 4 minutes of live.
    await new Promise((resolve) => setTimeout(resolve, (3 * MINUTE) / SPEED));
    const second = child({ ...base, liveMs: 4 * MINUTE });
    await second.waitFor(/STOPPED/);
    const stoppedAt = Math.floor(simStart + (Date.now() - realStart) * SPEED);

    const market = new SyntheticMarket();
    const storage = new PostgresStorage({ db: PG_URL as string, schema });
    try {
      for (const source of ['binance', 'bybit', 'okx'] as const) {
        for (const symbol of ['BTC', 'ETH']) {
          const key = { source, exchange: source, symbol, interval: '1m' as Interval };
          const rows: { ts: number; close: number }[] = [];
          for await (const page of storage.read('candles', key, 0, Number.MAX_SAFE_INTEGER))
            rows.push(...page);
          const first = Math.ceil(base.from / MINUTE) * MINUTE;
          const last = rows.at(-1)!.ts;
          expect(last, `${source} ${symbol}`).toBeGreaterThan(killedAt + 2 * MINUTE);
          expect(last, `${source} ${symbol}`).toBeGreaterThanOrEqual(
            Math.floor(stoppedAt / MINUTE) * MINUTE - 3 * MINUTE,
          );
          const expected: number[] = [];
          for (let t = first; t <= last; t += MINUTE) if (market.has(symbol, t)) expected.push(t);
          expect(
            rows.map((r) => r.ts),
            `${source} ${symbol}`,
          ).toEqual(expected);
          for (const r of rows)
            expect(Math.abs(r.close / market.candle(symbol, r.ts, MINUTE).close - 1)).toBeLessThan(1e-12);
          const stored = (await storage.coverage('candles', key)).filter((c) => c.state === 'stored');
          expect(
            stored.map((c) => [c.from, c.to]),
            `${source} ${symbol}`,
          ).toEqual([[first, last + MINUTE]]);
        }
      }
      const status = await storage.listStatus('live');
      expect(status.find((s) => s.series === undefined)?.status).toBe('stopped');
    } finally {
      await storage.close();
    }
  }, 120_000);
});
