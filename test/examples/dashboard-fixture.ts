/**
 * What the dashboard tests share: a candle series written through the storage with a ledger of every
 * state (stored, empty, a hole between them), and a schema dropped at the end.
 */
import pg from 'pg';
import type { Candle, PostgresStorage } from '../../src/index.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** The fixture series' symbol: none of the simulated pipeline's. */
export const FIXTURE_SYMBOL = 'SOL';

/**
 * Writes `binance:candles:SOL:1m` from `from` on: rows and a stored mark over 40 minutes, 20 minutes
 * marked empty, 20 minutes missing (no mark), 40 more stored. Returns the ledger's pieces.
 */
export async function writeFixtureSeries(storage: PostgresStorage, from: number) {
  const key = { source: 'binance', exchange: 'binance', symbol: FIXTURE_SYMBOL, interval: '1m' } as const;
  const candles = (a: number, b: number): Candle[] => {
    const out: Candle[] = [];
    for (let ts = a; ts < b; ts += MINUTE) {
      const i = (ts - from) / MINUTE;
      const open = 150 + Math.sin(i / 5) * 3;
      const close = 150 + Math.sin((i + 1) / 5) * 3;
      out.push({
        ...key,
        ts,
        open,
        close,
        high: Math.max(open, close) + 0.5,
        low: Math.min(open, close) - 0.5,
        volume: 100 + i,
      });
    }
    return out;
  };
  const stored1 = { from, to: from + 40 * MINUTE };
  const empty = { from: stored1.to, to: stored1.to + 20 * MINUTE, reason: 'fixture: venue down' };
  const hole = { from: empty.to, to: empty.to + 20 * MINUTE };
  const stored2 = { from: hole.to, to: hole.to + 40 * MINUTE };
  await storage.write('candles', candles(stored1.from, stored1.to), {
    coverage: [
      { key, ...stored1, state: 'stored' },
      { key, ...empty, state: 'empty' },
    ],
  });
  await storage.write('candles', candles(stored2.from, stored2.to), {
    coverage: [{ key, ...stored2, state: 'stored' }],
  });
  return { key, stored1, empty, hole, stored2, rows: 80 };
}

/** Drops `schema` (and everything in it) on the server of `url`. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema.replaceAll('"', '""')}" CASCADE`);
  } finally {
    await client.end();
  }
}
