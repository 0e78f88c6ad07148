/**
 * README.md says what the code does: its budget table gives the clients' exported defaults, a newcomer
 * finds exactly two set-up commands, and its links lead to files that exist. (The venue × kind table is
 * test/clients/capabilities.test.ts's; the ts blocks are type-checked by test/docs/examples.test.ts.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BINANCE_DEFAULT_RATE_LIMIT,
  BYBIT_DEFAULT_RATE_LIMIT,
  COINALYZE_DEFAULT_RATE_LIMIT,
  OKX_RATE_LIMITS,
} from '../../src/clients/index.js';
import { SOURCES } from '../../src/core/types.js';
import { VENUES } from '../../src/core/venues.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(`${ROOT}README.md`, 'utf8');
const fmt = (n: number) => n.toLocaleString('en-US');

/** The cells of the budget table's row that starts with `venue`. */
function budgetRow(venue: string): string {
  const start = README.indexOf('<!-- budgets:');
  expect(start, 'README.md has the budget table').toBeGreaterThan(-1);
  const table = README.slice(start).split('\n\n')[0]!;
  const row = table.split('\n').find((line) => line.startsWith(`| ${venue}`));
  expect(row, `a budget row for ${venue}`).toBeDefined();
  return row!;
}

describe('README.md', () => {
  it('default: the budget table gives the clients’ default rate limits', () => {
    expect(BINANCE_DEFAULT_RATE_LIMIT.intervalMs).toBe(60_000);
    expect(budgetRow('Binance')).toContain(
      `${fmt(BINANCE_DEFAULT_RATE_LIMIT.limit)} request weight per minute`,
    );
    expect(BYBIT_DEFAULT_RATE_LIMIT.intervalMs).toBe(5_000);
    expect(budgetRow('Bybit')).toContain(`${fmt(BYBIT_DEFAULT_RATE_LIMIT.limit)} requests per 5 s`);
    expect(COINALYZE_DEFAULT_RATE_LIMIT.intervalMs).toBe(60_000);
    expect(budgetRow('Coinalyze')).toContain(`${COINALYZE_DEFAULT_RATE_LIMIT.limit} symbol-calls per minute`);

    const okx = (suffix: string) => {
      const entry = Object.entries(OKX_RATE_LIMITS).find(([path]) => path.endsWith(suffix));
      expect(entry, suffix).toBeDefined();
      expect(entry![1].intervalMs).toBe(2_000);
      return entry![1].limit;
    };
    const row = budgetRow('OKX');
    expect(row).toContain('per endpoint per 2 s');
    expect(row).toContain(`history candles ${okx('/market/history-candles')}`);
    expect(okx('/public/funding-rate-history')).toBe(okx('/open-interest-history'));
    expect(row).toContain(`funding and open interest ${okx('/open-interest-history')}`);
    expect(okx('/long-short-account-ratio-contract')).toBe(okx('/taker-volume-contract'));
    expect(row).toContain(`ratios and taker volume ${okx('/taker-volume-contract')}`);
  });

  it('default: the budget table has a row for every venue of the registry', () => {
    for (const venue of SOURCES) budgetRow(VENUES[venue].title.split(' ')[0]!);
  });

  it('default: a newcomer finds exactly two set-up commands: the demo and the tests', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(README)?.[1] ?? '';
    const commands = block
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => line.split('#')[0]!.trim());
    expect(commands).toEqual(['npm install && npm run demo', 'npm install && npm test']);
    const scripts = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).scripts as Record<string, string>;
    expect(scripts.demo).toMatch(/--simulate/);
  });

  it('default: the sections a user looks for are there, troubleshooting included', () => {
    const headings = README.split('\n').filter((line) => line.startsWith('## '));
    for (const title of [
      '## Quick start',
      '## What is supported today',
      '## Rate limits, proxies, retries',
      '## Live streams and gap fill',
      '## Storage, schema and the coverage ledger',
      '## Derivations (`perpdata/derive`)',
      '## Testing your bot with perpdata/testing',
      '## Troubleshooting',
      '## Documentation',
    ])
      expect(headings).toContain(title);
    for (const topic of ['418', 'Geo-blocked', 'PGlite', '0.8 GB', 'TimescaleDB']) {
      expect(README.slice(README.indexOf('## Troubleshooting')), topic).toContain(topic);
    }
  });

  it('default: every relative link points at a file of the repository', () => {
    const links = [...README.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]!);
    const local = links.filter((link) => !/^[a-z]+:/.test(link));
    expect(local).toEqual(expect.arrayContaining(['ARCHITECTURE.md', 'ADDING_A_VENUE.md']));
    expect(local.filter((link) => !existsSync(`${ROOT}${link}`))).toEqual([]);
  });
});
