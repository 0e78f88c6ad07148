import fc from 'fast-check';
import { averagegain, averageloss, rsi as referenceRsi } from 'technicalindicators';
import { describe, expect, it } from 'vitest';
import { type Candle, InvalidArgumentError } from '../../src/core/index.js';
import { createCandleRsi, createRsi, RSI_FLAT_VALUE, rsi, rsiFromCandles } from '../../src/derive/index.js';
import { allFinite, candle, MINUTE, randomCloses, T0 } from './helpers.js';

describe('rsi: TA-Lib definition checked by hand', () => {
  it('behavior: period 3 on a short series matches the hand calculation', () => {
    // changes: +1 +1 -1 +2 0 -1 0
    // index 3: avgGain = (1+1+0)/3 = 2/3, avgLoss = 1/3          -> 100 * (2/3) / 1     = 200/3
    // index 4: gain 2:  g = (2/3*2 + 2)/3 = 10/9,  l = (1/3*2)/3 = 2/9   -> 100 * 10/12 = 250/3
    // index 5: flat:    g = 20/27,  l = 4/27                      -> 100 * 20/24 = 250/3
    // index 6: loss 1:  g = 40/81,  l = (4/27*2 + 1)/3 = 35/81    -> 100 * 40/75 = 160/3
    // index 7: flat:    g = 80/243, l = 70/243                    -> 100 * 80/150 = 160/3
    const values = rsi([10, 11, 12, 11, 13, 13, 12, 12], 3);
    const expected = [200 / 3, 250 / 3, 250 / 3, 160 / 3, 160 / 3];
    expect(values).toHaveLength(expected.length);
    values.forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i] as number, 12);
    });
  });

  it('behavior: the first value is at index period (length n - period)', () => {
    expect(rsi(randomCloses(100), 14)).toHaveLength(86);
    expect(rsi(randomCloses(15), 14)).toHaveLength(1);
    expect(rsi(randomCloses(14), 14)).toEqual([]);
    expect(rsi([], 14)).toEqual([]);
  });

  it('behavior: only gains give 100, only losses give 0', () => {
    expect(rsi([1, 2, 3, 4, 5, 6], 3)).toEqual([100, 100, 100]);
    expect(rsi([6, 5, 4, 3, 2, 1], 3)).toEqual([0, 0, 0]);
  });

  it('behavior: a flat series gives the neutral value 50, never NaN', () => {
    expect(RSI_FLAT_VALUE).toBe(50);
    expect(rsi(new Array(30).fill(42), 14)).toEqual(new Array(16).fill(50));
    // Flat start, then a move: the averages leave zero and the ordinary formula takes over.
    expect(rsi([5, 5, 5, 5, 6], 3)).toEqual([50, 100]);
  });

  it('behavior: period 1 follows the sign of each change', () => {
    expect(rsi([1, 2, 1, 1], 1)).toEqual([100, 0, 50]);
  });

  it('behavior: accepts typed arrays', () => {
    const closes = randomCloses(200, 3);
    expect(rsi(Float64Array.from(closes), 14)).toEqual(rsi(closes, 14));
  });
});

describe('rsi: against technicalindicators on 10,000 closes', () => {
  const closes = randomCloses(10_000, 42);
  const ours = rsi(closes, 14);

  it('behavior: agrees to 1e-9 with RSI = 100 - 100 / (1 + RS) from the reference Wilder averages', () => {
    // The reference's RSI class rounds to 2 decimals, so the oracle uses its unrounded Wilder averages.
    const gains = averagegain({ period: 14, values: closes });
    const losses = averageloss({ period: 14, values: closes });
    expect(gains).toHaveLength(ours.length);
    expect(losses).toHaveLength(ours.length);
    let worst = 0;
    for (let k = 0; k < ours.length; k++) {
      const g = gains[k] as number;
      const l = losses[k] as number;
      const expected = l === 0 ? 100 : 100 - 100 / (1 + g / l);
      worst = Math.max(worst, Math.abs((ours[k] as number) - expected));
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it('behavior: agrees with the reference RSI to its 2-decimal rounding', () => {
    const reference = referenceRsi({ period: 14, values: closes });
    expect(reference).toHaveLength(ours.length);
    for (let k = 0; k < ours.length; k++) {
      expect(Math.abs((ours[k] as number) - (reference[k] as number))).toBeLessThanOrEqual(0.005 + 1e-9);
    }
  });

  it('behavior: other periods agree too', () => {
    for (const period of [2, 7, 30]) {
      const values = rsi(closes, period);
      const gains = averagegain({ period, values: closes });
      const losses = averageloss({ period, values: closes });
      for (let k = 0; k < values.length; k++) {
        const g = gains[k] as number;
        const l = losses[k] as number;
        const expected = l === 0 ? 100 : 100 - 100 / (1 + g / l);
        expect(Math.abs((values[k] as number) - expected)).toBeLessThan(1e-9);
      }
    }
  });
});

describe('createRsi', () => {
  const closes = randomCloses(10_000, 7);

  it('behavior: fed one close at a time, reproduces the batch output exactly', () => {
    const batch = rsi(closes, 14);
    const live = createRsi(14);
    const values: number[] = [];
    closes.forEach((c, i) => {
      const v = live.next(c);
      if (i < 14) expect(v).toBeUndefined();
      else values.push(v as number);
    });
    expect(values).toEqual(batch); // toEqual on numbers is Object.is: bit-for-bit
    expect(live.value).toBe(batch.at(-1));
    expect(live.count).toBe(closes.length);
  });

  it('behavior: peek gives the next value without consuming the close', () => {
    const live = createRsi(5);
    for (const c of closes.slice(0, 50)) live.next(c);
    const before = live.snapshot();
    const peeked = live.peek(closes[50] as number);
    expect(live.snapshot()).toEqual(before);
    expect(live.next(closes[50] as number)).toBe(peeked);
    expect(createRsi(5).peek(1)).toBeUndefined();
  });

  it('behavior: resuming from a snapshot continues exactly, during warm-up and after', () => {
    const batch = rsi(closes.slice(0, 500), 14);
    for (const cut of [0, 1, 7, 14, 15, 300]) {
      const first = createRsi(14);
      for (const c of closes.slice(0, cut)) first.next(c);
      const resumed = createRsi(14, JSON.parse(JSON.stringify(first.snapshot())));
      const rest = closes
        .slice(cut, 500)
        .map((c) => resumed.next(c))
        .filter((v) => v !== undefined);
      expect(rest).toEqual(batch.slice(Math.max(0, cut - 14)));
    }
  });

  it('property: batch and incremental agree exactly and stay within [0, 100]', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 80 }),
        fc.integer({ min: 1, max: 20 }),
        (closes, period) => {
          const batch = rsi(closes, period);
          const live = createRsi(period);
          const inc = closes.map((c) => live.next(c)).filter((v) => v !== undefined);
          expect(inc).toEqual(batch);
          for (const v of batch) expect(v >= 0 && v <= 100).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('error: a snapshot of another period or with bad numbers is refused', () => {
    const state = createRsi(14).snapshot();
    expect(() => createRsi(10, state)).toThrow(/period 14, not 10/);
    expect(() => createRsi(14, { ...state, gain: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => createRsi(14, { ...state, count: -1 })).toThrow(/count/);
  });

  it('error: a non-finite close is refused and not consumed', () => {
    const live = createRsi(3);
    live.next(1);
    expect(() => live.next(Number.NaN)).toThrow(InvalidArgumentError);
    expect(live.count).toBe(1);
  });
});

function candles(closes: readonly number[]): Candle[] {
  return closes.map((c, i) => candle(T0 + i * MINUTE, c));
}

describe('rsiFromCandles and createCandleRsi', () => {
  const closes = randomCloses(300, 11);

  it('behavior: records named rsi14 carry the ts and series of the candle they were computed at', () => {
    const records = rsiFromCandles(candles(closes));
    const values = rsi(closes, 14);
    expect(records).toHaveLength(values.length);
    expect(records[0]).toEqual({
      source: 'binance',
      exchange: 'binance',
      symbol: 'BTC',
      ts: T0 + 14 * MINUTE,
      interval: '1m',
      name: 'rsi14',
      value: values[0],
    });
    expect(records.map((r) => r.value)).toEqual(values);
    expect(rsiFromCandles(candles(closes), 7)[0]?.name).toBe('rsi7');
    expect(rsiFromCandles([])).toEqual([]);
  });

  it('behavior: the incremental form yields the same records', () => {
    const list = candles(closes);
    const live = createCandleRsi(14);
    const records = list.map((c) => live.next(c)).filter((r) => r !== undefined);
    expect(records).toEqual(rsiFromCandles(list));
  });

  it('error: unsorted, duplicate, mixed-interval or mixed-symbol candles are refused', () => {
    const list = candles(closes.slice(0, 20));
    const swapped = [...list];
    [swapped[3], swapped[4]] = [swapped[4] as Candle, swapped[3] as Candle];
    expect(() => rsiFromCandles(swapped)).toThrow(/ascending/);
    expect(() => rsiFromCandles([...list.slice(0, 5), list[4] as Candle])).toThrow(/ascending/);
    expect(() => rsiFromCandles([...list, candle(T0 + 30 * MINUTE, 1, { interval: '5m' })])).toThrow(
      /mixed intervals/,
    );
    expect(() => rsiFromCandles([...list, candle(T0 + 30 * MINUTE, 1, { symbol: 'ETH' })])).toThrow(
      /more than one series/,
    );
    const live = createCandleRsi(14);
    live.next(list[1] as Candle);
    expect(() => live.next(list[0] as Candle)).toThrow(/ascending/);
  });
});

describe('rsi: bad input', () => {
  it('error: a period that is not a positive integer is refused', () => {
    for (const period of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => rsi([1, 2, 3], period)).toThrow(InvalidArgumentError);
      expect(() => createRsi(period)).toThrow(/positive integer/);
      expect(() => rsiFromCandles([], period)).toThrow(/positive integer/);
    }
  });

  it('error: NaN or infinite closes are refused with their index', () => {
    expect(() => rsi([1, Number.NaN, 3], 2)).toThrow(/Index: 1/);
    expect(() => rsi([Number.POSITIVE_INFINITY], 2)).toThrow(InvalidArgumentError);
    expect(() => rsi([1, 2, Number.NEGATIVE_INFINITY, 3], 2)).toThrow(InvalidArgumentError);
  });

  it('error: closes so large that changes overflow are refused instead of giving NaN', () => {
    expect(() => rsi([1.7e308, -1.7e308, 1.7e308], 1)).toThrow(/too large/);
    expect(() => rsi([1e308, -1e308, 1e308, -1e308, 1e308, -1e308], 2)).toThrow(/too large/);
  });

  it('property: any finite input gives only finite values or a clear error', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 40 }),
        (closes) => {
          try {
            expect(allFinite(rsi(closes, 3))).toBe(true);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidArgumentError);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
