/**
 * Days-long operation of `Sync.live()` (26 simulated hours at 3,000x, in a child with `--expose-gc`,
 * see `live-days-child.ts`): after a full collection the heap, the active timers and sockets and the
 * listeners on the caller's signal are flat between hour 2 and hour 26, and the stored candles are the
 * market's, every minute once, at the end. At this speed a stream's 6 s stall grace is 2 real ms, so
 * besides Binance's 24-hour replacement and the silent server of hour 13 the streams see many
 * jitter stalls and reconnects: the run is also a churn test (every one of them must leave nothing
 * behind). The stall event itself is checked at a sane speed in `live.test.ts`.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

interface Sample {
  hour: number;
  heapMb: number;
  timers: number;
  sockets: number;
  signalListeners: number;
  binanceUpgrades: number;
  reconnected: number;
  stalled: number;
  errors: string[];
  health: string[];
}

function runChild(
  config: object,
): Promise<{ samples: Sample[]; done: { market: Record<string, { rows: number; equal: boolean }> } }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(here, 'live-days-child.ts')],
      {
        env: { ...process.env, PERPDATA_CHILD: JSON.stringify(config) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    proc.on('exit', (code) => {
      const lines = out.split('\n');
      const samples = lines
        .filter((l) => l.startsWith('SAMPLE '))
        .map((l) => JSON.parse(l.slice(7)) as Sample);
      const done = lines.find((l) => l.startsWith('DONE '));
      if (code !== 0 || !done) reject(new Error(`child exited ${code}: ${err.slice(-3000)}`));
      else resolve({ samples, done: JSON.parse(done.slice(5)) });
    });
  });
}

describe('Sync.live() for days', () => {
  it('behavior: 26 simulated hours with reconnect churn keep memory, timers, sockets and listeners flat and the candles exact', async () => {
    const { samples, done } = await runChild({
      speed: 3_000,
      hours: 26,
      at: [2, 8, 20, 26],
      stallMs: 10 * 60_000,
    });
    expect(samples.map((s) => s.hour)).toEqual([2, 8, 20, 26]);
    const [first, , , last] = samples as [Sample, Sample, Sample, Sample];
    expect(last.errors).toEqual([]);
    // Flat: what a live run holds does not grow with its age. A leak per reconnect would show in the
    // hundreds; a few are sockets and timers of a replacement under way when the sample was taken.
    expect(last.timers - first.timers, JSON.stringify(samples)).toBeLessThanOrEqual(6);
    expect(last.sockets - first.sockets, JSON.stringify(samples)).toBeLessThanOrEqual(4);
    expect(last.signalListeners).toBe(first.signalListeners);
    // The stored rows of a day (a few thousand small records) are all a live run may add to the heap.
    expect(last.heapMb - first.heapMb, JSON.stringify(samples)).toBeLessThan(12);
    // Connections were replaced over and over (the 24 h limit, the silence, the jitter) and each
    // replacement's missed minutes came over REST: the candles below are still exact.
    expect(last.binanceUpgrades).toBeGreaterThan(first.binanceUpgrades);
    expect(last.reconnected).toBeGreaterThan(first.reconnected);
    // Candles (streamed) and their RSI are live. The venues' REST budgets run on the real clock, as
    // theirs do: at 3,000x a poller of 5m open interest asks 10 times a real second, more than OKX's
    // statistics budget allows, so polled series may be catching up here.
    const streamed = last.health.filter((h) => h.includes(':candles:') || h.includes(':indicators:'));
    expect(streamed.length).toBe(6);
    expect(streamed.filter((h) => !/ live \d+s$/.test(h))).toEqual([]);
    console.log(JSON.stringify(samples.map(({ health, errors, ...s }) => s)));
    for (const [source, m] of Object.entries(done.market)) {
      expect(m.equal, source).toBe(true);
      expect(m.rows, source).toBeGreaterThan(27 * 60);
    }
  }, 150_000);
});
