/**
 * The end-to-end scenario of the pipeline tests: 3 venues + Coinalyze x 3 symbols (PEPE is a
 * 1000-multiplier contract on Binance and Bybit) x every kind over two simulated days with venue-side
 * holes, on a frozen clock; and a dump of a database schema to compare two runs row for row.
 */
import type pg from 'pg';
import type { VenueClient } from '../../src/clients/base.js';
import { BinanceClient, BybitClient, CoinalyzeClient, OkxClient } from '../../src/clients/index.js';
import { Sync, type SyncOptions } from '../../src/pipeline/index.js';
import type { StorageAdapter } from '../../src/storage/index.js';
import type { SyntheticHole } from '../../src/testing/index.js';

export const MINUTE = 60_000;
/** The frozen "now" of the scenario: 30 s into a minute, so the forming minute must be left out. */
export const NOW = Date.UTC(2026, 10, 20, 12, 0, 30);
export const FROM = NOW - 2 * 86_400_000;
export const SYMBOLS = ['BTC', 'ETH', 'PEPE'] as const;
/** Venue-side outages (no rows on any venue): a 25-minute one for BTC, a 2-hour one for PEPE. */
export const HOLES: SyntheticHole[] = [
  { symbol: 'BTC', from: Date.UTC(2026, 10, 19, 3, 0), to: Date.UTC(2026, 10, 19, 3, 25) },
  { symbol: 'PEPE', from: Date.UTC(2026, 10, 20, 5, 0), to: Date.UTC(2026, 10, 20, 7, 0) },
];
export const DERIVE = {
  rsi: [14],
  marketAverage: true,
  expandTo1m: ['openInterest', 'longShortRatio'],
  takerTo1m: true,
} as const satisfies SyncOptions['derive'];

/** Where the simulated venues listen (passed to a child process as JSON). */
export interface ScenarioUrls {
  readonly binance: string;
  readonly bybit: string;
  readonly okx: string;
  readonly coinalyze: string;
  readonly apiKey: string;
}

/** The four clients of the scenario, pointed at the simulators, with fast retries. */
export function scenarioClients(urls: ScenarioUrls): VenueClient[] {
  const common = { now: () => NOW, retryDelayMs: 20, maxEgressWaitMs: 200 };
  return [
    new BinanceClient({ ...common, baseUrl: urls.binance }),
    new BybitClient({ ...common, baseUrl: urls.bybit }),
    new OkxClient({ ...common, baseUrl: urls.okx }),
    new CoinalyzeClient({ ...common, baseUrl: urls.coinalyze, apiKey: urls.apiKey, exchange: 'binance' }),
  ];
}

/** The scenario's `Sync`. */
export function scenarioSync(
  storage: StorageAdapter,
  clients: readonly VenueClient[],
  extra: Partial<SyncOptions> = {},
): Sync {
  return new Sync({
    storage,
    clients,
    symbols: [...SYMBOLS],
    from: FROM,
    now: () => NOW,
    derive: DERIVE,
    batchDelayMs: 200,
    ...extra,
  });
}

/** Tables compared between runs (status and error rows are a run's own diary, not data). */
export const DATA_TABLES = [
  'candles',
  'funding',
  'predicted_funding',
  'open_interest',
  'long_short_ratio',
  'taker_volume',
  'liquidations',
  'indicators',
  'coverage',
] as const;

/** Something that answers SQL: a `pg.Pool` or a PGlite instance. */
export interface Queryable {
  query<R>(text: string): Promise<{ rows: R[] }>;
}

/** Every row of every data table and the ledger of one schema, as sorted JSON lines per table. */
export async function dumpSchema(db: Queryable | pg.Pool, schema: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of DATA_TABLES) {
    const { rows } = await (db as Queryable).query<{ j: string }>(
      `SELECT (to_jsonb(t) - 'updated_at')::text AS j FROM "${schema}"."perp_${table}" t`,
    );
    out[table] = rows.map((r) => r.j).sort();
  }
  return out;
}
