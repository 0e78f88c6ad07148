/**
 * `examples/backfill.ts` as a user runs it (`npm run example:backfill`): a child process against the simulated
 * venues and an embedded PGlite database in a temporary folder, twice, the second run resuming from the
 * coverage ledger and fetching only the tail; `--help` and bad flags.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the example with `npx tsx`, without a database URL or Coinalyze key from the environment. */
function backfill(args: readonly string[]): Promise<Run> {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.COINALYZE_API_KEY;
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'examples/backfill.ts', ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The `N requests to the simulators` of a run's closing line. */
const requestsOf = (stdout: string): number => {
  const m = /; ([\d,]+) requests? to the simulators/.exec(stdout);
  expect(m, stdout).not.toBeNull();
  return Number((m?.[1] ?? '').replaceAll(',', ''));
};

describe('examples/backfill.ts', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'perpdata-example-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--help prints the usage and exits 0', async () => {
    const run = await backfill(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: /);
    for (const flag of ['--venues', '--symbols', '--kinds', '--from', '--to', '--simulate', '--data-dir'])
      expect(run.stdout).toContain(flag);
  });

  it('an unknown flag or a bad value exits 2 with a message', async () => {
    const [flag, venue, from, coinalyze] = await Promise.all([
      backfill(['--bogus']),
      backfill(['--venues', 'binance,kraken']),
      backfill(['--from', 'yesterday']),
      backfill(['--venues', 'coinalyze']),
    ]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--bogus'");
    expect(venue.code).toBe(2);
    expect(venue.stderr).toContain('unknown venue "kraken"');
    expect(from.code).toBe(2);
    expect(from.stderr).toContain('"yesterday" is not a time');
    expect(coinalyze.code).toBe(2);
    expect(coinalyze.stderr).toContain('COINALYZE_API_KEY');
  });

  it('--simulate backfills 3 venues x 3 symbols x every kind, then resumes with the tail only', async () => {
    const first = await backfill(['--simulate', '--data-dir', dir]);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    const out = first.stdout;
    expect(out).toContain(`embedded PGlite in ${dir}`);
    expect(out).toMatch(/^venue\s+kind\s+series\s+rows\s+holes\s+errors$/m);
    for (const venue of ['binance', 'bybit', 'okx']) {
      expect(out).toMatch(new RegExp(`^${venue}\\s+candles 1m\\s+3/3\\s+[\\d,]+\\s+2\\s+0$`, 'm'));
      expect(out).toMatch(new RegExp(`^${venue}\\s+funding\\s+3/3\\s`, 'm'));
      expect(out).toMatch(new RegExp(`^${venue}\\s+MT token \\(derived\\)\\s+\\d+/\\d+\\s`, 'm'));
    }
    expect(out).toMatch(/^binance\s+takerVolume 1m \(derived\)\s+3\/3\s/m);
    expect(out).toMatch(/ 0 failed, 0 skipped; /);
    expect(out).toContain('Fresh start');
    const holes = Number(/([\d,]+) holes recorded/.exec(out)?.[1]?.replaceAll(',', ''));
    expect(holes).toBeGreaterThan(0);

    const second = await backfill(['--simulate', '--data-dir', dir]);
    expect(second.code, second.stderr + second.stdout).toBe(0);
    expect(second.stdout).toMatch(
      /Resumed from the coverage ledger: \d+ of 54 fetched series were already complete, \d+ fetched only the tail/,
    );
    expect(second.stdout).toContain('0 holes recorded');
    // The tail: a request or two per series that has a new period, against pages of two days.
    expect(requestsOf(second.stdout)).toBeLessThan(requestsOf(first.stdout) / 3);
    // Two full runs on embedded PGlite: about a minute on a quiet 2-core machine, more under load.
  }, 300_000);
});
