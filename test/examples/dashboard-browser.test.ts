/**
 * examples/dashboard in a real browser: `main.ts --simulate` in a child process fills a PostgreSQL
 * schema of its own (`dashboard_test_<pid>`, dropped afterwards) with the simulated pipeline (backfill of
 * BTC and ETH, then live) and serves the page; the test adds one candle series with a hole in its ledger
 * (the pipeline leaves none), then drives headless Chromium (Debian's `chromium`, through
 * `playwright-core`) over it: the status box, the coverage strips (stored, empty, missing), switching
 * kind and symbol, the table's pages, the chart with RSI; no console errors. Saves
 * `test-artifacts/dashboard.png` (and `dashboard-full.png`). Skipped when `PERPDATA_TEST_DATABASE_URL`
 * is unset.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStorage } from '../../src/index.js';
import { dropSchema, FIXTURE_SYMBOL, writeFixtureSeries } from './dashboard-fixture.js';
import { type ExampleRun, parseIso, ROOT, startExample } from './example-process.js';

const PG_URL = process.env.PERPDATA_TEST_DATABASE_URL || undefined;
const CHROMIUM = '/usr/bin/chromium';
const SCHEMA = `dashboard_test_${process.pid}`;
const ARTIFACTS = join(ROOT, 'test-artifacts');

describe.skipIf(!PG_URL)('examples/dashboard in headless Chromium', () => {
  let run: ExampleRun | undefined;
  let url: string;
  let context: BrowserContext | undefined;
  let userDataDir: string | undefined;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
    run = startExample(
      'dashboard/main.ts',
      ['--simulate', '--port', '0', '--symbols', 'BTC,ETH', '--from', '3h', '--schema', SCHEMA],
      { DATABASE_URL: PG_URL as string },
    );
    url = (await run.waitFor(/^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m, 30_000))[1] as string;
    const from = parseIso((await run.waitFor(/^backfill then live: .* from (\S+)$/m, 30_000))[1] as string);
    await run.waitFor(/^live: keeping every series current/m, 90_000);
    // A series with a hole: the pipeline leaves none.
    const storage = await openPostgresStorage({ url: PG_URL, schema: SCHEMA });
    try {
      await writeFixtureSeries(storage, Math.ceil(from / 60_000) * 60_000);
    } finally {
      await storage.close();
    }
    userDataDir = await mkdtemp(join(tmpdir(), 'perpdata-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
      viewport: { width: 1400, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
    });
  }, 150_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
    if (run && run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGINT');
      await run.exited;
    }
    if (PG_URL) await dropSchema(PG_URL, SCHEMA);
  }, 30_000);

  it('shows status, coverage, table and chart; switches kind and symbol; saves a screenshot', async () => {
    await page.goto(url);

    // The status box: database up, the backfill done, live running.
    await page.waitForSelector('#status[data-state="ok"]');
    expect(await page.textContent('#status-db')).toMatch(/^database up · schema dashboard_test_\d+ · v\d+$/);
    await page.waitForSelector('#status-jobs .job[data-job="backfill"][data-status="done"]');
    await page.waitForSelector('#status-jobs .job[data-job="live"][data-status="running"]');
    expect(await page.textContent('#status-clock')).toContain('(simulated, 60×)');
    await page.waitForSelector('#status-series:not(:empty)');
    expect(await page.textContent('#status-series')).toMatch(/^\d+ series(, \d+ behind)?$/);

    // The default series: Binance BTC 1m candles, with the outage the ledger recorded as empty.
    const btc = 'candles|binance|binance|BTC|1m|';
    await page.waitForSelector(`#data[data-series="${btc}"]`);
    expect(await page.inputValue('#pick-kind')).toBe('candles');
    expect(await page.inputValue('#pick-symbol')).toBe('BTC');
    const states = (selector: string) =>
      page.$$eval(`${selector} rect`, (rects) => rects.map((r) => r.getAttribute('data-state')));
    expect(await states('#selected-strip')).toEqual(['stored', 'empty', 'stored']);
    expect(await page.textContent('#selected-holes')).toBe('0');
    // A strip for every series in the list.
    const listed = await page.$$eval('#series tbody tr', (rows) => rows.length);
    expect(listed).toBeGreaterThan(50);
    expect(await page.$$eval('#series tbody tr .strip svg', (s) => s.length)).toBe(listed);

    // The chart: candles with RSI 14 below.
    await page.waitForSelector(`#chart[data-ready="true"][data-series="${btc}"]`);
    expect(Number(await page.getAttribute('#chart', 'data-rows'))).toBeGreaterThan(150);
    expect(Number(await page.getAttribute('#chart', 'data-rsi'))).toBeGreaterThan(100);
    expect(await page.textContent('#chart-note')).toContain('RSI 14 below');
    expect(await page.$$eval('#chart canvas', (c) => c.length)).toBeGreaterThan(2);

    // The table: 50 rows newest first; the next page goes on where it ended.
    expect(await page.$$eval('#data tbody tr', (r) => r.length)).toBe(50);
    const firstPage = await page.$$eval('#data tbody tr', (r) =>
      r.map((x) => Number(x.getAttribute('data-ts'))),
    );
    await page.click('#page-older');
    await page.waitForSelector('#data[data-offset="50"]');
    const secondPage = await page.$$eval('#data tbody tr', (r) =>
      r.map((x) => Number(x.getAttribute('data-ts'))),
    );
    expect(secondPage[0]).toBe((firstPage.at(-1) as number) - 60_000);
    expect(await page.textContent('#page-info')).toMatch(/^rows 51–100 of [\d,]+, newest first$/);
    await page.click('#page-newer');
    await page.waitForSelector('#data[data-offset="0"]');

    // Switch the kind: funding has no interval.
    await page.selectOption('#pick-kind', 'funding');
    await page.waitForSelector('#data[data-kind="funding"]');
    expect(await page.isDisabled('#pick-interval')).toBe(true);
    expect(Number(await page.getAttribute('#data', 'data-rows'))).toBeGreaterThan(0);
    expect(await page.textContent('#data thead')).toContain('rate');
    await page.waitForSelector('#chart[data-ready="true"][data-kind="funding"]');

    // And back to candles, then another symbol.
    await page.selectOption('#pick-kind', 'candles');
    await page.waitForSelector('#data[data-kind="candles"]');
    await page.selectOption('#pick-symbol', 'ETH');
    const venue = await page.inputValue('#pick-venue');
    const eth = `candles|${venue}|${venue}|ETH|1m|`;
    await page.waitForSelector(`#data[data-series="${eth}"]`);
    await page.waitForSelector(`#chart[data-ready="true"][data-series="${eth}"]`);
    expect(Number(await page.getAttribute('#chart', 'data-rsi'))).toBeGreaterThan(100);
    expect(await states('#selected-strip')).toEqual(['stored']);

    // The written series: stored, empty, the hole (missing), stored.
    await page.selectOption('#pick-venue', 'binance');
    await page.selectOption('#pick-symbol', FIXTURE_SYMBOL);
    await page.waitForSelector(`#data[data-series="candles|binance|binance|${FIXTURE_SYMBOL}|1m|"]`);
    expect(await states('#selected-strip')).toEqual(['stored', 'empty', 'stored', 'missing']);
    expect(await page.textContent('#selected-holes')).toBe('1');
    expect(await page.getAttribute('#selected-strip', 'title')).toMatch(/20m empty, 20m missing in 1 hole$/);
    await page.waitForSelector('#chart[data-ready="true"]');
    expect(await page.textContent('#chart-note')).toContain('no rsi14 stored');

    // The status box stays at the top of the window when the page scrolls.
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    const box = await page.locator('#status').boundingBox();
    expect(box?.y).toBe(0);
    expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(500);

    // Back to BTC for the screenshot.
    await page.selectOption('#pick-symbol', 'BTC');
    await page.waitForSelector(`#chart[data-ready="true"][data-series="${btc}"]`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png') });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-full.png'), fullPage: true });
    expect(existsSync(join(ARTIFACTS, 'dashboard.png'))).toBe(true);

    expect(problems).toEqual([]);
  }, 120_000);

  it('stops cleanly on SIGINT', async () => {
    const r = run as ExampleRun;
    r.child.kill('SIGINT');
    const { code } = await r.exited;
    expect(code, r.out.stderr).toBe(0);
    expect(r.out.stdout).toMatch(/^live stopped: status rows say stopped/m);
  }, 30_000);
});
