/**
 * The REST half of the fuzz suites: the simulated venues on localhost, reached through an
 * authenticating proxy (its password is a secret), with one path's answers drifted per property.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect } from 'vitest';
import type { ClientOptions } from '../../src/clients/types.js';
import type { Exchange } from '../../src/core/types.js';
import {
  type LocalProxy,
  type SimulatedVenue,
  type Simulation,
  simulateVenues,
  startProxy,
} from '../../src/testing/index.js';
import { applyDrift, type Drift, drifts, expectContained, expectFiniteRecords, RUNS } from './drift.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
/** The frozen venue clock of every REST suite. */
export const T = Date.UTC(2024, 5, 1, 12, 0, 30);
/** The proxy password and the Coinalyze API key: neither may appear in any error. */
export const PROXY_PASS = 'fuzz-Pr0xy-s3cret';
export const API_KEY = 'fuzz-api-key-5ecret';
export const SECRETS = [PROXY_PASS, API_KEY] as const;

/** Budgets out of the way: the suites measure what comes out, not how fast. */
const LIFTED = 1_000_000;
const OKX_PATHS = [
  '/api/v5/market/candles',
  '/api/v5/market/history-candles',
  '/api/v5/public/funding-rate',
  '/api/v5/public/funding-rate-history',
  '/api/v5/public/instruments',
  '/api/v5/public/time',
  '/api/v5/rubik/stat/taker-volume-contract',
  '/api/v5/rubik/stat/contracts/open-interest-history',
  '/api/v5/rubik/stat/contracts/long-short-account-ratio-contract',
  '/api/v5/rubik/stat/contracts/long-short-account-ratio-contract-top-trader',
  '/api/v5/rubik/stat/contracts/long-short-position-ratio-contract-top-trader',
];

/** The simulation and proxy one suite file shares; started before its tests, closed after. */
export function restHarness(): {
  sim: () => Simulation;
  /** Options for a client of `venue`: the simulator, through the proxy only, budgets lifted, no retries. */
  options: (venue: SimulatedVenue) => ClientOptions & { apiKey: string; exchange: Exchange };
} {
  let sim: Simulation | undefined;
  let proxy: LocalProxy | undefined;
  beforeAll(async () => {
    sim = await simulateVenues({
      now: () => T,
      ws: false,
      apiKey: API_KEY,
      budgets: {
        binance: { weightLimit: LIFTED },
        bybit: { requestLimit: LIFTED },
        okx: { rateLimits: Object.fromEntries(OKX_PATHS.map((p) => [p, LIFTED])) },
        coinalyze: { callLimit: LIFTED },
      },
    });
    proxy = await startProxy({ auth: { user: 'fuzz', pass: PROXY_PASS } });
  });
  afterAll(async () => {
    await proxy?.close();
    await sim?.close();
  });
  return {
    sim: () => sim!,
    options: (venue) => ({
      apiKey: API_KEY,
      exchange: 'binance',
      ...(venue === 'coinalyze' ? sim!.clientOptions('coinalyze', 'binance') : sim!.clientOptions(venue)),
      proxies: [proxy!.url],
      direct: false,
      retries: 0,
      rateLimit: { limit: LIFTED, intervalMs: MINUTE },
    }),
  };
}

/** Every record of every page of `pages`. */
export async function all(pages: AsyncIterable<readonly unknown[]>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const page of pages) out.push(...page);
  return out;
}

/**
 * Drifts the answers of `path` on `venue` and runs `call` once per drift: it yields finite records
 * or rejects with a perpdata error naming `venue` and `path`, with no secret anywhere in it.
 */
export async function fuzzPath(
  sim: Simulation,
  venue: SimulatedVenue,
  path: string,
  call: () => Promise<readonly unknown[]>,
): Promise<void> {
  let plan: Drift[] = [];
  const fault = sim.faults.drift(venue, path, (body) => applyDrift(body, plan));
  try {
    await fc.assert(
      fc.asyncProperty(drifts, async (p) => {
        plan = p;
        let error: unknown;
        let records: readonly unknown[] = [];
        try {
          records = await call();
        } catch (e) {
          error = e;
        }
        expectContained(error, venue, [path], SECRETS);
        if (error === undefined) expectFiniteRecords(records);
      }),
      { numRuns: RUNS, seed: Number(process.env.PERPDATA_FUZZ_SEED ?? 20240601) },
    );
    expect(fault.hits).toBeGreaterThanOrEqual(RUNS);
  } finally {
    fault.remove();
  }
}
