import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Candle,
  type FundingRate,
  type IndicatorValue,
  InvalidArgumentError,
  type LongShortRatio,
  type OpenInterest,
} from '../../src/core/index.js';
import {
  createMarketAverage,
  type MarketAverageKind,
  MT_SYMBOL,
  marketAverage,
} from '../../src/derive/index.js';
import { allFinite, candle, close, MINUTE, T0 } from './helpers.js';

const HOUR = 60 * MINUTE;

function bar(symbol: string, minute: number, price: number, extra: Partial<Candle> = {}): Candle {
  return candle(T0 + minute * MINUTE, price, {
    symbol,
    open: price * 0.99,
    high: price * 1.02,
    low: price * 0.97,
    volume: 10,
    quoteVolume: 10 * price,
    ...extra,
  });
}

function funding(symbol: string, hour: number, rate: number): FundingRate {
  return { source: 'binance', exchange: 'binance', symbol, ts: T0 + hour * 8 * HOUR, rate, markPrice: 123 };
}

describe('marketAverage: rates and ratios average as they are', () => {
  it('default: funding rates are averaged per timestamp into MT records', () => {
    const mt = marketAverage(
      {
        BTC: [funding('BTC', 0, 0.0001), funding('BTC', 1, 0.0003)],
        ETH: [funding('ETH', 0, 0.0003), funding('ETH', 1, -0.0001)],
        SOL: [funding('SOL', 0, 0.0002), funding('SOL', 1, 0.0001)],
      },
      { kind: 'funding' },
    );
    expect(mt).toHaveLength(2);
    expect(mt[0]).toEqual({
      source: 'binance',
      exchange: 'binance',
      symbol: MT_SYMBOL,
      ts: T0,
      rate: expect.any(Number),
    });
    expect(mt[0]?.rate).toBeCloseTo(0.0002, 15);
    expect(mt[1]?.rate).toBeCloseTo(0.0001, 15);
    expect(mt[0]).not.toHaveProperty('markPrice');
  });

  it('behavior: long/short ratios average ratio and shares; a share is written only when every member has it', () => {
    const lsr = (symbol: string, ratio: number, shares?: [number, number]): LongShortRatio => ({
      source: 'binance',
      exchange: 'binance',
      symbol,
      ts: T0,
      interval: '5m',
      kind: 'global',
      ratio,
      ...(shares ? { longShare: shares[0], shortShare: shares[1] } : {}),
    });
    const both = marketAverage(
      { A: [lsr('A', 1, [0.5, 0.5])], B: [lsr('B', 3, [0.75, 0.25])] },
      { kind: 'longShortRatio' },
    );
    expect(both).toEqual([
      {
        source: 'binance',
        exchange: 'binance',
        symbol: 'MT',
        ts: T0,
        interval: '5m',
        kind: 'global',
        ratio: 2,
        longShare: 0.625,
        shortShare: 0.375,
      },
    ]);
    const partial = marketAverage(
      { A: [lsr('A', 1, [0.5, 0.5])], B: [lsr('B', 3)] },
      { kind: 'longShortRatio' },
    );
    expect(partial[0]).not.toHaveProperty('longShare');
    expect(partial[0]?.ratio).toBe(2);
    expect(() =>
      marketAverage(
        { A: [lsr('A', 1)], B: [{ ...lsr('B', 1), kind: 'topAccount' }] },
        { kind: 'longShortRatio' },
      ),
    ).toThrow(/mixed long\/short kinds/);
  });

  it('behavior: indicator values (the average RSI) average per name', () => {
    const ind = (symbol: string, value: number, name = 'rsi14'): IndicatorValue => ({
      source: 'binance',
      exchange: 'binance',
      symbol,
      ts: T0,
      interval: '1m',
      name,
      value,
    });
    expect(
      marketAverage({ A: [ind('A', 30)], B: [ind('B', 70)], C: [ind('C', 80)] }, { kind: 'indicators' }),
    ).toEqual([
      {
        source: 'binance',
        exchange: 'binance',
        symbol: 'MT',
        ts: T0,
        interval: '1m',
        name: 'rsi14',
        value: 60,
      },
    ]);
    expect(() =>
      marketAverage({ A: [ind('A', 30)], B: [ind('B', 70, 'rsi7')] }, { kind: 'indicators' }),
    ).toThrow(/mixed indicator names/);
  });
});

describe('marketAverage: prices as a rebased index', () => {
  it('behavior: with the same members throughout, O/H/L/C are the average of members rebased to 100 at the first common timestamp', () => {
    const btc = [60_000, 61_000, 59_500, 63_000].map((p, m) => bar('BTC', m, p));
    const pepe = [0.000012, 0.000011, 0.0000135, 0.000014].map((p, m) => bar('PEPE', m, p));
    const eth = [3000, 3050, 2990, 3100].map((p, m) => bar('ETH', m, p));
    const members = [btc, pepe, eth];
    const mt = marketAverage({ BTC: btc, PEPE: pepe, ETH: eth }, { kind: 'candles', minShare: 1 });
    expect(mt).toHaveLength(4);
    expect(mt[0]?.close).toBeCloseTo(100, 12);
    mt.forEach((r, t) => {
      for (const field of ['open', 'high', 'low', 'close'] as const) {
        const expected =
          members.reduce((s, m) => s + (100 * (m[t] as Candle)[field]) / (m[0] as Candle).close, 0) / 3;
        expect(close(r[field], expected, 1e-12)).toBe(true);
      }
      expect(r.symbol).toBe('MT');
      expect(r.interval).toBe('1m');
    });
  });

  it('behavior: quote volume is summed (volume x close for a member without one); volume = quoteVolume / close', () => {
    const mt = marketAverage(
      {
        A: [bar('A', 0, 50, { quoteVolume: 1000, trades: 5 })],
        B: [bar('B', 0, 2, { quoteVolume: undefined, volume: 300, trades: 7 })],
      },
      { kind: 'candles' },
    );
    const record = mt[0] as Candle;
    expect(record.quoteVolume).toBe(1600);
    expect(record.volume).toBeCloseTo(1600 / record.close, 12);
    expect(record.trades).toBe(12);
    expect(record).not.toHaveProperty('takerBuyVolume');
    const noTrades = marketAverage(
      { A: [bar('A', 0, 50, { trades: 5 })], B: [bar('B', 0, 2)] },
      { kind: 'candles' },
    );
    expect(noTrades[0]).not.toHaveProperty('trades');
  });

  it('behavior: a member that joins later does not make the MT jump', () => {
    const mt = marketAverage(
      {
        BTC: [bar('BTC', 0, 100), bar('BTC', 1, 110), bar('BTC', 2, 121)],
        PEPE: [bar('PEPE', 1, 0.001), bar('PEPE', 2, 0.002)],
      },
      { kind: 'candles', minShare: 0 },
    );
    // t1: PEPE joins at the basket's level; the move is BTC's (+10 %).
    // t2: equal stakes, BTC +10 % and PEPE +100 %: 110 * 1.55.
    expect(mt.map((r) => r.close)).toEqual([
      expect.closeTo(100, 12),
      expect.closeTo(110, 12),
      expect.closeTo(170.5, 12),
    ]);
  });

  it('behavior: a member that leaves does not make the MT jump; with no overlap the close carries over', () => {
    const mt = marketAverage(
      { A: [bar('A', 0, 100), bar('A', 1, 120), bar('A', 2, 120)], B: [bar('B', 0, 100), bar('B', 1, 80)] },
      { kind: 'candles', minShare: 0 },
    );
    // Naive averaging of rebased prices would give 120 at t2 when B disappears.
    expect(mt.map((r) => r.close)).toEqual([
      expect.closeTo(100, 12),
      expect.closeTo(100, 12),
      expect.closeTo(100, 12),
    ]);
    const disjoint = marketAverage(
      { A: [bar('A', 0, 100)], B: [bar('B', 1, 5)] },
      { kind: 'candles', minShare: 0 },
    );
    expect(disjoint.map((r) => r.close)).toEqual([expect.closeTo(100, 12), expect.closeTo(100, 12)]);
  });

  it('behavior: open interest becomes an index, USD open interest is summed', () => {
    const oi = (symbol: string, minute: number, openInterest: number, usd?: number): OpenInterest => ({
      source: 'binance',
      exchange: 'binance',
      symbol,
      ts: T0 + minute * 5 * MINUTE,
      interval: '5m',
      openInterest,
      ...(usd === undefined ? {} : { openInterestUsd: usd }),
    });
    const mt = marketAverage(
      { A: [oi('A', 0, 10, 100), oi('A', 1, 20, 250)], B: [oi('B', 0, 1000, 50), oi('B', 1, 1000, 50)] },
      { kind: 'openInterest', base: 1000 },
    );
    expect(mt.map((r) => r.openInterest)).toEqual([expect.closeTo(1000, 9), expect.closeTo(1500, 9)]);
    expect(mt.map((r) => r.openInterestUsd)).toEqual([150, 300]);
  });
});

describe('marketAverage: skipping policy', () => {
  // Four members present at 1, 2, 3 and 4 of the funding times 0..3 (D at all, A only at 3).
  const series = Object.fromEntries(
    ['A', 'B', 'C', 'D'].map((symbol, i) => [
      symbol,
      [0, 1, 2, 3].filter((m) => m >= 3 - i).map((m) => funding(symbol, m, 0.0001)),
    ]),
  );
  const written = (options: { minMembers?: number; minShare?: number }) =>
    marketAverage(series, { kind: 'funding', ...options }).map((r) => (r.ts - T0) / (8 * HOUR));

  it('default: a timestamp needs at least half of the members (minShare 0.5)', () => {
    expect(written({})).toEqual([1, 2, 3]);
  });

  it('behavior: minMembers and minShare both apply; the stricter one wins', () => {
    expect(written({ minShare: 0 })).toEqual([0, 1, 2, 3]);
    expect(written({ minShare: 1 })).toEqual([3]);
    expect(written({ minShare: 0, minMembers: 3 })).toEqual([2, 3]);
    expect(written({ minShare: 0.75, minMembers: 2 })).toEqual([2, 3]);
    expect(written({ minShare: 0.25, minMembers: 2 })).toEqual([1, 2, 3]);
    expect(marketAverage({}, { kind: 'funding' })).toEqual([]);
  });

  it('behavior: empty series count as members for minShare', () => {
    const mt = marketAverage({ A: [funding('A', 0, 1)], B: [] }, { kind: 'funding', minShare: 1 });
    expect(mt).toEqual([]);
  });
});

/** Random members: per timestamp presence and price, as candle series. */
const membersArb = fc
  .record({
    members: fc.integer({ min: 1, max: 5 }),
    steps: fc.integer({ min: 1, max: 12 }),
  })
  .chain(({ members, steps }) =>
    fc.record({
      cells: fc.array(
        fc.array(
          fc.record({
            here: fc.boolean(),
            price: fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
            wick: fc.double({ min: 0, max: 0.1, noNaN: true }),
          }),
          { minLength: steps, maxLength: steps },
        ),
        { minLength: members, maxLength: members },
      ),
      minMembers: fc.integer({ min: 1, max: members }),
    }),
  );

function buildSeries(
  cells: readonly (readonly { here: boolean; price: number; wick: number }[])[],
): Record<string, Candle[]> {
  const out: Record<string, Candle[]> = {};
  cells.forEach((row, i) => {
    const symbol = `S${i}`;
    out[symbol] = row.flatMap((cell, t) => {
      if (!cell.here) return [];
      const p = cell.price;
      return [
        bar(symbol, t, p, {
          open: p * (1 + cell.wick / 2),
          high: p * (1 + cell.wick),
          low: p * (1 - cell.wick),
        }),
      ];
    });
  });
  return out;
}

describe('marketAverage: properties with members appearing and disappearing', () => {
  it('property: identical price paths give that path rebased to 100, whoever is present', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.5, max: 2, noNaN: true }), { minLength: 1, maxLength: 15 }),
        fc.array(
          fc.record({
            scale: fc.double({ min: 1e-6, max: 1e5, noNaN: true }),
            here: fc.array(fc.boolean(), { minLength: 15, maxLength: 15 }),
          }),
          { maxLength: 4 },
        ),
        (path, others) => {
          // S0 is always present so consecutive timestamps share a member; the others come and go.
          const series: Record<string, Candle[]> = { S0: path.map((f, t) => bar('S0', t, 3 * f)) };
          others.forEach((o, i) => {
            series[`S${i + 1}`] = path.flatMap((f, t) =>
              o.here[t] ? [bar(`S${i + 1}`, t, o.scale * f)] : [],
            );
          });
          const mt = marketAverage(series, { kind: 'candles', minShare: 0 });
          expect(mt).toHaveLength(path.length);
          mt.forEach((r, t) => {
            expect(close(r.close, (100 * (path[t] as number)) / (path[0] as number), 1e-9)).toBe(true);
            expect(close(r.open, 0.99 * r.close, 1e-9)).toBe(true);
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('property: each step moves by a blend of the common members moves (no jumps), candles stay consistent, batch = incremental', () => {
    fc.assert(
      fc.property(membersArb, ({ cells, minMembers }) => {
        const series = buildSeries(cells);
        const symbols = Object.keys(series);
        const mt = marketAverage(series, { kind: 'candles', minShare: 0, minMembers });
        expect(allFinite(mt)).toBe(true);

        // Written timestamps: exactly those with at least minMembers members.
        const steps = cells[0]?.length ?? 0;
        const counts = Array.from({ length: steps }, (_, t) => cells.filter((row) => row[t]?.here).length);
        expect(mt.map((r) => (r.ts - T0) / MINUTE)).toEqual(
          counts.flatMap((c, t) => (c >= minMembers && c > 0 ? [t] : [])),
        );

        const priceAt = (symbol: string, ts: number) => series[symbol]?.find((c) => c.ts === ts)?.close;
        for (let k = 0; k < mt.length; k++) {
          const r = mt[k] as Candle;
          expect(r.low).toBeLessThanOrEqual(Math.min(r.open, r.close) * (1 + 1e-12));
          expect(r.high).toBeGreaterThanOrEqual(Math.max(r.open, r.close) * (1 - 1e-12));
          if (k === 0) {
            expect(close(r.close, 100, 1e-12)).toBe(true);
            continue;
          }
          const prev = mt[k - 1] as Candle;
          const ratios = symbols.flatMap((s) => {
            const a = priceAt(s, prev.ts);
            const b = priceAt(s, r.ts);
            return a !== undefined && b !== undefined ? [b / a] : [];
          });
          const step = r.close / prev.close;
          if (ratios.length === 0) expect(close(step, 1, 1e-12)).toBe(true);
          else {
            expect(step).toBeGreaterThanOrEqual(Math.min(...ratios) * (1 - 1e-9));
            expect(step).toBeLessThanOrEqual(Math.max(...ratios) * (1 + 1e-9));
          }
        }

        // The incremental form, fed timestamp by timestamp, writes the same records.
        const live = createMarketAverage({ kind: 'candles', minShare: 0, minMembers, members: symbols });
        const incremental = Array.from({ length: steps }, (_, t) => T0 + t * MINUTE).flatMap((ts) => {
          const at = new Map<string, Candle>();
          for (const s of symbols) {
            const c = series[s]?.find((x) => x.ts === ts);
            if (c) at.set(s, c);
          }
          const record = live.next(ts, at);
          return record ? [record] : [];
        });
        expect(incremental).toEqual(mt);
      }),
      { numRuns: 150 },
    );
  });

  it('property: rates are the plain mean of the members present; minShare counts all members', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(fc.option(fc.double({ min: -0.01, max: 0.01, noNaN: true }), { nil: undefined }), {
            minLength: 6,
            maxLength: 6,
          }),
          {
            minLength: 1,
            maxLength: 6,
          },
        ),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (rows, minShare) => {
          const series = Object.fromEntries(
            rows.map((row, i) => [
              `S${i}`,
              row.flatMap((rate, h) => (rate === undefined ? [] : [funding(`S${i}`, h, rate)])),
            ]),
          );
          const mt = marketAverage(series, { kind: 'funding', minShare });
          const need = Math.max(1, Math.ceil(minShare * rows.length - 1e-9));
          const expected = [0, 1, 2, 3, 4, 5].flatMap((h) => {
            const rates = rows.map((row) => row[h]).filter((r): r is number => r !== undefined);
            return rates.length >= need ? [{ h, rate: rates.reduce((s, r) => s + r, 0) / rates.length }] : [];
          });
          expect(mt.map((r) => (r.ts - T0) / (8 * HOUR))).toEqual(expected.map((e) => e.h));
          mt.forEach((r, k) => {
            expect(close(r.rate, (expected[k] as { rate: number }).rate, 1e-12)).toBe(true);
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('createMarketAverage', () => {
  it('behavior: records passed in any key order give the batch result bit for bit', () => {
    const series = {
      BTC: [bar('BTC', 0, 60_000), bar('BTC', 1, 60_500), bar('BTC', 2, 59_900)],
      ETH: [bar('ETH', 0, 3000), bar('ETH', 2, 3100)],
      PEPE: [bar('PEPE', 1, 0.000012), bar('PEPE', 2, 0.0000125)],
    };
    const batch = marketAverage(series, { kind: 'candles', minShare: 0 });
    const live = createMarketAverage({ kind: 'candles', minShare: 0, members: ['BTC', 'ETH', 'PEPE'] });
    const incremental = [0, 1, 2].map((m) => {
      const at: Record<string, Candle | undefined> = {};
      for (const symbol of ['PEPE', 'ETH', 'BTC'] as const)
        at[symbol] = series[symbol].find((c) => c.ts === T0 + m * MINUTE);
      return live.next(T0 + m * MINUTE, at);
    });
    expect(incremental).toEqual(batch);
    expect(live.members).toEqual(['BTC', 'ETH', 'PEPE']);
  });

  it('behavior: a skipped timestamp leaves the state unchanged', () => {
    const live = createMarketAverage({ kind: 'candles', members: ['A', 'B'], minShare: 1 });
    expect(live.next(T0, { A: bar('A', 0, 10), B: bar('B', 0, 20) })?.close).toBeCloseTo(100, 12);
    expect(live.next(T0 + MINUTE, { A: bar('A', 1, 50) })).toBeUndefined();
    expect(live.next(T0 + 2 * MINUTE, { A: bar('A', 2, 11), B: bar('B', 2, 22) })?.close).toBeCloseTo(
      110,
      12,
    );
  });
});

describe('marketAverage: bad input', () => {
  it('error: unsorted or duplicate series are refused with the symbol', () => {
    expect(() => marketAverage({ BTC: [bar('BTC', 1, 1), bar('BTC', 0, 1)] }, { kind: 'candles' })).toThrow(
      /Symbol: BTC/,
    );
    expect(() => marketAverage({ BTC: [bar('BTC', 0, 1), bar('BTC', 0, 1)] }, { kind: 'candles' })).toThrow(
      /ascending/,
    );
  });

  it('error: mixed intervals, sources or exchanges are refused unless overridden', () => {
    expect(() =>
      marketAverage({ A: [bar('A', 0, 1)], B: [bar('B', 0, 1, { interval: '5m' })] }, { kind: 'candles' }),
    ).toThrow(/mixed intervals/);
    const mixed = { A: [bar('A', 0, 1)], B: [bar('B', 0, 1, { exchange: 'okx', source: 'okx' })] };
    expect(() => marketAverage(mixed, { kind: 'candles' })).toThrow(/pass options\.source/);
    const mt = marketAverage(mixed, { kind: 'candles', source: 'binance', exchange: 'binance' });
    expect(mt[0]?.exchange).toBe('binance');
  });

  it('error: non-positive or non-finite values are refused, never passed on as NaN', () => {
    expect(() => marketAverage({ A: [bar('A', 0, 0)] }, { kind: 'candles' })).toThrow(/positive/);
    expect(() => marketAverage({ A: [bar('A', 0, Number.NaN)] }, { kind: 'candles' })).toThrow(/finite/);
    expect(() =>
      marketAverage({ A: [funding('A', 0, Number.POSITIVE_INFINITY)] }, { kind: 'funding' }),
    ).toThrow(/finite/);
  });

  it('error: unsupported kinds and out-of-range options are refused', () => {
    expect(() => marketAverage({}, { kind: 'takerVolume' as MarketAverageKind })).toThrow(
      /cannot be averaged/,
    );
    expect(() => marketAverage({}, { kind: 'funding', minShare: 1.5 })).toThrow(/minShare/);
    expect(() => marketAverage({}, { kind: 'funding', minMembers: 0 })).toThrow(/minMembers/);
    expect(() => marketAverage({}, { kind: 'candles', base: -1 })).toThrow(InvalidArgumentError);
  });

  it('error: the incremental form refuses unknown members, stale timestamps and misdated records', () => {
    expect(() => createMarketAverage({ kind: 'funding', members: ['A', 'A'] })).toThrow(/twice/);
    const live = createMarketAverage({ kind: 'funding', members: ['A', 'B'] });
    expect(() => live.next(T0, { C: funding('C', 0, 1) })).toThrow(/not a member/);
    expect(() => live.next(T0 + 1, { A: funding('A', 0, 1) })).toThrow(/expected/);
    expect(live.next(T0 + 8 * HOUR, { A: funding('A', 1, 0.5) })).toEqual(
      expect.objectContaining({ symbol: 'MT', rate: 0.5 }),
    );
    expect(() => live.next(T0 + 8 * HOUR, {})).toThrow(/increase/);
  });
});
