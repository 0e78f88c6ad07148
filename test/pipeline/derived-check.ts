/**
 * Derived series compared with a batch recompute over the stored inputs: RSI per candle series, the MT
 * candles and their RSI per venue, Binance's 5m open interest expanded to 1m and 5m taker volume
 * distributed over the 1m candles. After a backfill they must be equal as a whole; after a live run
 * they may trail their inputs by the pass that had not run yet at the stop (`trailing`), and every
 * stored row must still equal the recompute at its `ts`.
 */
import { expect } from 'vitest';
import type { Interval } from '../../src/core/intervals.js';
import type { Candle, DataKind, RecordOf, SeriesKey } from '../../src/core/types.js';
import { distributeByVolume, expandTo1m, marketAverage, rsiFromCandles } from '../../src/derive/index.js';
import type { StorageAdapter } from '../../src/storage/index.js';

const MINUTE = 60_000;

export async function readAll<K extends DataKind>(
  storage: StorageAdapter,
  kind: K,
  key: SeriesKey,
): Promise<RecordOf<K>[]> {
  const out: RecordOf<K>[] = [];
  for await (const page of storage.read(kind, key, 0, Number.MAX_SAFE_INTEGER)) out.push(...page);
  return out;
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

/** `stored` equals `expected` (whole, or a prefix when `trailing`), field by field to 1e-9. */
function expectSeries<T extends { ts: number }>(
  what: string,
  stored: readonly T[],
  expected: readonly T[],
  fields: readonly (keyof T)[],
  trailing: boolean,
): void {
  const want = trailing ? expected.slice(0, stored.length) : expected;
  expect(
    stored.map((r) => r.ts),
    what,
  ).toEqual(want.map((r) => r.ts));
  stored.forEach((r, i) => {
    for (const f of fields) {
      const got = r[f] as number;
      const exp = (want[i] as T)[f] as number;
      expect(close(got, exp), `${what} ${new Date(r.ts).toISOString()} ${String(f)}: ${got} vs ${exp}`).toBe(
        true,
      );
    }
  });
}

export interface DerivedCheck {
  readonly sources: readonly ('binance' | 'bybit' | 'okx')[];
  readonly symbols: readonly string[];
  /** Live: derived series may stop short of their inputs' last rows. */
  readonly trailing: boolean;
  /** Minutes at or after this are still forming: the 1m expansion stops before it. */
  readonly closedMinute: number;
  /** Every derived series must reach at least this `ts` (live: it kept up). */
  readonly reach?: number;
}

/** Checks every derived series the scenarios configure; returns how many rows were compared. */
export async function expectDerivedEqualRecompute(storage: StorageAdapter, c: DerivedCheck): Promise<number> {
  let compared = 0;
  const reached = (what: string, rows: readonly { ts: number }[], slack = 0) => {
    compared += rows.length;
    if (c.reach !== undefined)
      expect(rows.at(-1)?.ts ?? 0, `${what} reaches`).toBeGreaterThanOrEqual(c.reach - slack);
  };
  for (const source of c.sources) {
    const candles: Record<string, Candle[]> = {};
    for (const symbol of c.symbols) {
      const key = { source, exchange: source, symbol, interval: '1m' as Interval };
      candles[symbol] = await readAll(storage, 'candles', key);
      const stored = await readAll(storage, 'indicators', { ...key, kind: 'rsi14' });
      const recomputed = rsiFromCandles(candles[symbol] as Candle[], 14);
      expectSeries(`${source} ${symbol} rsi14`, stored, recomputed, ['value'], c.trailing);
      reached(`${source} ${symbol} rsi14`, stored);
    }
    const mtKey = { source, exchange: source, symbol: 'MT', interval: '1m' as Interval };
    const mt = await readAll(storage, 'candles', mtKey);
    const expected = marketAverage(candles, { kind: 'candles' });
    // Live: an MT period may go out before its last member arrived, after the deadline; a late member
    // recomputes it, so every stored one still equals the recompute.
    expectSeries(`${source} MT`, mt, expected, ['open', 'high', 'low', 'close', 'volume'], c.trailing);
    reached(`${source} MT`, mt);
    const mtRsi = await readAll(storage, 'indicators', { ...mtKey, kind: 'rsi14' });
    expectSeries(`${source} MT rsi14`, mtRsi, rsiFromCandles(mt, 14), ['value'], c.trailing);
    if (!c.trailing) expect(mtRsi.length).toBe(rsiFromCandles(expected, 14).length);
    reached(`${source} MT rsi14`, mtRsi);
  }
  for (const symbol of c.symbols) {
    const oiKey = { source: 'binance', exchange: 'binance', symbol, interval: '5m' } as const;
    const oi5 = await readAll(storage, 'openInterest', oiKey);
    const oi1 = await readAll(storage, 'openInterest', { ...oiKey, interval: '1m' });
    const expand = expandTo1m(oi5, { align: 'close' }).filter((r) => r.ts < c.closedMinute);
    expectSeries(`binance ${symbol} open interest 1m`, oi1, expand, ['openInterest'], c.trailing);
    reached(`binance ${symbol} open interest 1m`, oi1);
    const taker5 = await readAll(storage, 'takerVolume', oiKey);
    const minutes = await readAll(storage, 'candles', { ...oiKey, interval: '1m' });
    const taker1 = await readAll(storage, 'takerVolume', { ...oiKey, interval: '1m' });
    const { volumes } = distributeByVolume(taker5, minutes);
    expectSeries(
      `binance ${symbol} taker volume 1m`,
      taker1,
      volumes as typeof taker1,
      ['buyVolume', 'sellVolume'],
      c.trailing,
    );
    // Taker buckets go out once their five minutes are stored: up to two buckets behind the candles.
    reached(`binance ${symbol} taker volume 1m`, taker1, 10 * MINUTE);
  }
  return compared;
}
