import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  COINALYZE_INTERVALS,
  coinalyzeInterval,
  fromCoinalyzeInterval,
  isCoinalyzeIntraday,
} from '../../src/clients/coinalyze/intervals.js';
import * as raw from '../../src/clients/coinalyze/schemas.js';
import { InvalidArgumentError, UnsupportedError } from '../../src/core/errors.js';
import {
  COINALYZE_EXCHANGE_CODES,
  coinalyzeCandles,
  coinalyzeFunding,
  coinalyzeHistoryOf,
  coinalyzeInstruments,
  coinalyzeLiquidations,
  coinalyzeLongShortRatio,
  coinalyzeOpenInterest,
  coinalyzePredictedFunding,
} from '../../src/normalize/coinalyze.js';
import type { InstrumentInfo } from '../../src/normalize/symbols.js';

/** A recorded payload from test/fixtures/coinalyze (copied from shared/reference/payloads/coinalyze). */
function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/coinalyze/${name}`, import.meta.url), 'utf8'));
}

/** Every number in the records is finite (no NaN, no Infinity). */
function expectFinite(records: readonly object[]): void {
  for (const record of records) {
    for (const [key, value] of Object.entries(record)) {
      if (typeof value === 'number') expect(Number.isFinite(value), `${key} = ${value}`).toBe(true);
    }
  }
}

const BTC_A: InstrumentInfo = {
  exchange: 'binance',
  instrument: 'BTCUSDT_PERP.A',
  symbol: 'BTC',
  quote: 'USDT',
  multiplier: 1,
};
const PEPE_A: InstrumentInfo = {
  exchange: 'binance',
  instrument: '1000PEPEUSDT_PERP.A',
  symbol: 'PEPE',
  quote: 'USDT',
  multiplier: 1000,
};
const H4 = 4 * 3_600_000;
/** End of the last 4-hour bucket of the 2026-07-28 probe: every bucket closed. */
const AFTER_28 = (1785240000 + 14400) * 1000;
/** When the 2026-07-24 probe ran (`generated_at` 2026-07-24T13:38:51Z): its 12:00 bucket was still forming. */
const PROBE_24 = Date.UTC(2026, 6, 24, 13, 38, 51);

describe('coinalyze ohlcv', () => {
  const body = raw.ohlcvHistory.parse(fixture('ohlcv-history.json'));
  const items = coinalyzeHistoryOf(body, 'BTCUSDT_PERP.A');

  it('default: seconds to ms, bv as taker buy volume, tx as trades', () => {
    const candles = coinalyzeCandles(items, { instrument: BTC_A, interval: '4h', now: AFTER_28 });
    expect(candles.map((c) => c.ts)).toEqual([1785211200000, 1785225600000, 1785240000000]);
    expect(candles[0]).toEqual({
      source: 'coinalyze',
      exchange: 'binance',
      symbol: 'BTC',
      interval: '4h',
      ts: 1785211200000,
      open: 63310,
      high: 63642.2,
      low: 63187.2,
      close: 63476.8,
      volume: 17816.541000000874,
      takerBuyVolume: 9394.95300000063,
      trades: 108788,
    });
    expect(candles[2]).toMatchObject({
      open: 63430.7,
      close: 63330.7,
      volume: 28462.96800000029,
      trades: 229244,
    });
    expectFinite(candles);
  });

  it('behavior: the forming bucket (ends after now) yields nothing', () => {
    const candles = coinalyzeCandles(items, { instrument: BTC_A, interval: '4h', now: AFTER_28 - 1 });
    expect(candles.map((c) => c.ts)).toEqual([1785211200000, 1785225600000]);
  });

  it('behavior: a 1000PEPE market gives prices per PEPE and volumes in PEPE', () => {
    const [item] = raw.ohlcvItem
      .array()
      .parse([{ t: 1785211200, o: 0.0105, h: 0.011, l: 0.01, c: 0.0107, v: 2000, bv: 500, tx: 9, btx: 4 }]);
    const [candle] = coinalyzeCandles([item!], { instrument: PEPE_A, interval: '4h', now: AFTER_28 });
    expect(candle?.open).toBeCloseTo(0.0000105, 15);
    expect(candle?.volume).toBe(2_000_000);
    expect(candle?.takerBuyVolume).toBe(500_000);
  });

  it('behavior: null optional values become undefined, never NaN', () => {
    const [item] = raw.ohlcvItem
      .array()
      .parse([{ t: 1785211200, o: 1, h: 1, l: 1, c: 1, v: 0, bv: null, tx: null }]);
    const [candle] = coinalyzeCandles([item!], { instrument: BTC_A, interval: '4h', now: AFTER_28 });
    expect(candle?.takerBuyVolume).toBeUndefined();
    expect(candle?.trades).toBeUndefined();
    expectFinite([candle!]);
  });

  it('error: a millisecond t or a missing price fails the schema', () => {
    expect(raw.ohlcvItem.safeParse({ t: 1785211200000, o: 1, h: 1, l: 1, c: 1, v: 1 }).success).toBe(false);
    expect(raw.ohlcvItem.safeParse({ t: 1785211200, o: '1', h: 1, l: 1, c: 1, v: 1 }).success).toBe(false);
  });
});

describe('coinalyze open interest', () => {
  const usd = coinalyzeHistoryOf(
    raw.ohlcHistory.parse(fixture('open-interest-history.json')),
    'BTCUSDT_PERP.A',
  );

  it('default: the open o (base units) per bucket; the USD history fills openInterestUsd', () => {
    // The recorded probe asked with convert_to_usd=true; the base-unit series here is constructed with the same t.
    const base = [
      { t: 1785211200, o: 106_500.1, h: 0, l: 0, c: 0 },
      { t: 1785225600, o: 106_210.5, h: 0, l: 0, c: 0 },
      { t: 1785240000, o: 105_480.2, h: 0, l: 0, c: 0 },
    ];
    const out = coinalyzeOpenInterest(base, { instrument: BTC_A, interval: '4h', now: AFTER_28, usd });
    expect(out).toEqual([
      {
        source: 'coinalyze',
        exchange: 'binance',
        symbol: 'BTC',
        interval: '4h',
        ts: 1785211200000,
        openInterest: 106_500.1,
        openInterestUsd: 6741948814.0336,
      },
      {
        source: 'coinalyze',
        exchange: 'binance',
        symbol: 'BTC',
        interval: '4h',
        ts: 1785225600000,
        openInterest: 106_210.5,
        openInterestUsd: 6723907359.3792,
      },
      {
        source: 'coinalyze',
        exchange: 'binance',
        symbol: 'BTC',
        interval: '4h',
        ts: 1785240000000,
        openInterest: 105_480.2,
        openInterestUsd: 6678056299.992,
      },
    ]);
    expectFinite(out);
  });

  it('behavior: the 2026-07-24 probe ran inside its 12:00 bucket, which is dropped', () => {
    const body = raw.ohlcHistory.parse(fixture('open-interest-history-2026-07-24.json'));
    const out = coinalyzeOpenInterest(coinalyzeHistoryOf(body, 'BTCUSDT_PERP.A'), {
      instrument: BTC_A,
      interval: '4h',
      now: PROBE_24,
    });
    expect(out.map((r) => [r.ts, r.openInterest, r.openInterestUsd])).toEqual([
      [1784865600000, 6868193332.14, undefined],
      [1784880000000, 6718733747.7984, undefined],
    ]);
  });
});

describe('coinalyze funding', () => {
  const items = coinalyzeHistoryOf(
    raw.ohlcHistory.parse(fixture('funding-rate-history.json')),
    'BTCUSDT_PERP.A',
  );

  it('default: percent to a fraction, one record per 8 h funding time', () => {
    const out = coinalyzeFunding(items, { instrument: BTC_A, interval: '4h', now: AFTER_28 });
    expect(out).toEqual([
      { source: 'coinalyze', exchange: 'binance', symbol: 'BTC', ts: 1785225600000, rate: 0.00000125 },
    ]);
    expectFinite(out);
  });

  it('behavior: with a 4 h funding grid every 4-hour bucket is a settlement', () => {
    const out = coinalyzeFunding(items, {
      instrument: BTC_A,
      interval: '4h',
      now: AFTER_28,
      fundingIntervalMs: H4,
    });
    expect(out.map((r) => [r.ts, r.rate])).toEqual([
      [1785211200000, 0.00004208],
      [1785225600000, 0.00000125],
      [1785240000000, 0.00000125],
    ]);
  });

  it('behavior: normalised rates are on the scale Binance itself reports (raw values are percent)', () => {
    const body = raw.ohlcHistory.parse(fixture('funding-rate-history-2026-07-24.json'));
    const history = coinalyzeHistoryOf(body, 'BTCUSDT_PERP.A');
    const out = coinalyzeFunding(history, { instrument: BTC_A, interval: '4h', now: PROBE_24 });
    expect(out.map((r) => [r.ts, r.rate])).toEqual([[1784880000000, 0.00005149]]);
    // Binance's own BTCUSDT fundingRate three weeks later (shared/reference/payloads/binance/fundingRate.json,
    // recorded 2026-08-15). Raw Coinalyze values are ~100× that: they are percent.
    const binance = [0.00006523, 0.00005311];
    for (const b of binance) {
      expect(out[0]!.rate / b).toBeGreaterThan(0.1);
      expect(out[0]!.rate / b).toBeLessThan(10);
      expect(history[1]!.c / b).toBeGreaterThan(50);
    }
  });

  it('error: daily buckets cannot be placed on an 8 h funding grid', () => {
    expect(() => coinalyzeFunding(items, { instrument: BTC_A, interval: '1d', now: AFTER_28 })).toThrow(
      InvalidArgumentError,
    );
  });
});

describe('coinalyze predicted funding', () => {
  it('behavior: an exponent-form value (7.4e-05 in the recording) converts exactly', () => {
    const out = coinalyzePredictedFunding(
      [
        { t: 1785225600, o: 7.4e-5 },
        { t: 1785240000, o: -1e-7 },
      ],
      {
        instrument: BTC_A,
        interval: '4h',
        now: AFTER_28,
      },
    );
    expect(out.map((r) => r.rate)).toEqual([7.4e-7, -1e-9]);
  });

  it('default: the open o per bucket, percent to a fraction', () => {
    const body = raw.ohlcHistory.parse(fixture('predicted-funding-rate-history.json'));
    const out = coinalyzePredictedFunding(coinalyzeHistoryOf(body, 'BTCUSDT_PERP.A'), {
      instrument: BTC_A,
      interval: '4h',
      now: AFTER_28,
    });
    expect(out.map((r) => r.ts)).toEqual([1785211200000, 1785225600000, 1785240000000]);
    expect(out[0]).toEqual({
      source: 'coinalyze',
      exchange: 'binance',
      symbol: 'BTC',
      ts: 1785211200000,
      rate: -0.0000283,
    });
    expect(out[1]?.rate).toBe(0.00000152);
    expect(out[2]?.rate).toBe(0.00003918);
    expect(out[0]?.nextFundingTime).toBeUndefined();
    expectFinite(out);
  });
});

describe('coinalyze liquidations', () => {
  it('default: l = longs liquidated, s = shorts (USD)', () => {
    const body = raw.liquidationHistory.parse(fixture('liquidation-history.json'));
    const out = coinalyzeLiquidations(coinalyzeHistoryOf(body, 'BTCUSDT_PERP.A'), {
      instrument: BTC_A,
      interval: '4h',
      now: AFTER_28,
    });
    expect(out.map((r) => [r.ts, r.longUsd, r.shortUsd])).toEqual([
      [1785211200000, 39038.232, 642194.7856000002],
      [1785225600000, 451754.1575999999, 208497.03959999996],
      [1785240000000, 5641892.4843000015, 1611426.4757999997],
    ]);
    expect(out[0]).toMatchObject({ source: 'coinalyze', exchange: 'binance', symbol: 'BTC', interval: '4h' });
    expectFinite(out);
  });

  it('behavior: the partial 12:00 bucket of the 2026-07-24 probe is dropped', () => {
    const body = raw.liquidationHistory.parse(fixture('liquidation-history-2026-07-24.json'));
    const out = coinalyzeLiquidations(coinalyzeHistoryOf(body, 'BTCUSDT_PERP.A'), {
      instrument: BTC_A,
      interval: '4h',
      now: PROBE_24,
    });
    expect(out.map((r) => [r.ts, r.longUsd, r.shortUsd])).toEqual([
      [1784865600000, 281390.06, 1587451.0899999996],
      [1784880000000, 1768202.3088000002, 66866.97959999998],
    ]);
  });
});

describe('coinalyze long/short ratio', () => {
  it('default: r as ratio, l/s percent as fractions, kind global', () => {
    const body = raw.longShortHistory.parse(fixture('long-short-ratio-history.json'));
    const out = coinalyzeLongShortRatio(coinalyzeHistoryOf(body, 'BTCUSDT_PERP.A'), {
      instrument: BTC_A,
      interval: '4h',
      now: AFTER_28,
    });
    expect(out.map((r) => [r.ts, r.ratio])).toEqual([
      [1785211200000, 1.867],
      [1785225600000, 1.8868],
      [1785240000000, 1.8637],
    ]);
    expect(out[0]).toMatchObject({
      source: 'coinalyze',
      exchange: 'binance',
      symbol: 'BTC',
      interval: '4h',
      kind: 'global',
    });
    expect(out[0]?.longShare).toBe(0.6512);
    expect(out[0]?.shortShare).toBe(0.3488);
    expect(out[2]?.longShare).toBe(0.6508);
    expectFinite(out);
  });
});

describe('coinalyze history bodies', () => {
  it('default: coinalyzeHistoryOf picks one symbol; an absent symbol gives []', () => {
    const body = raw.liquidationHistory.parse([
      { symbol: 'BTCUSDT_PERP.A', history: [{ t: 1785211200, l: 1, s: 2 }] },
      { symbol: 'BTCUSDT.6', history: [{ t: 1785211200, l: 3, s: 4 }] },
    ]);
    expect(coinalyzeHistoryOf(body, 'BTCUSDT.6')).toEqual([{ t: 1785211200, l: 3, s: 4 }]);
    expect(coinalyzeHistoryOf(body, 'ETHUSDT.6')).toEqual([]);
  });

  it('error: 401 and 404 bodies are errors, not history', () => {
    const unauthorized = fixture('error-401-invalid-key.json');
    expect(raw.ohlcvHistory.safeParse(unauthorized).success).toBe(false);
    expect(raw.errorMessage(unauthorized)).toBe('Invalid/Missing API key');
    expect(raw.errorMessage(fixture('error-404-not-found.json'))).toBe('not found');
    expect(raw.errorMessage(fixture('ohlcv-history.json'))).toBeUndefined();
  });
});

describe('coinalyze instruments', () => {
  const markets = raw.futureMarkets.parse(fixture('future-markets.json'));

  it('default: one entry per (venue, symbol) from /future-markets, multiplier from base_asset', () => {
    expect(coinalyzeInstruments(markets)).toEqual([
      { exchange: 'bybit', instrument: 'MNTUSDT.6', symbol: 'MNT', quote: 'USDT', multiplier: 1 },
      { exchange: 'bybit', instrument: 'QNTUSDT.6', symbol: 'QNT', quote: 'USDT', multiplier: 1 },
      { exchange: 'bybit', instrument: 'SHIB1000USDT.6', symbol: 'SHIB', quote: 'USDT', multiplier: 1000 },
      { exchange: 'bybit', instrument: '1000PEPEUSDT.6', symbol: 'PEPE', quote: 'USDT', multiplier: 1000 },
      { exchange: 'bybit', instrument: 'BTCUSDT.6', symbol: 'BTC', quote: 'USDT', multiplier: 1 },
      { exchange: 'bybit', instrument: 'ETHUSDT.6', symbol: 'ETH', quote: 'USDT', multiplier: 1 },
      { exchange: 'binance', instrument: 'BTCUSDT_PERP.A', symbol: 'BTC', quote: 'USDT', multiplier: 1 },
      { exchange: 'binance', instrument: 'ETHUSDT_PERP.A', symbol: 'ETH', quote: 'USDT', multiplier: 1 },
      {
        exchange: 'binance',
        instrument: '1000PEPEUSDT_PERP.A',
        symbol: 'PEPE',
        quote: 'USDT',
        multiplier: 1000,
      },
      { exchange: 'okx', instrument: 'PEPEUSDT_PERP.3', symbol: 'PEPE', quote: 'USDT', multiplier: 1 },
      { exchange: 'okx', instrument: 'BTCUSDT_PERP.3', symbol: 'BTC', quote: 'USDT', multiplier: 1 },
      { exchange: 'okx', instrument: 'ETHUSDT_PERP.3', symbol: 'ETH', quote: 'USDT', multiplier: 1 },
    ]);
  });

  it('behavior: inverse, USDC, dated and other-venue markets are left out', () => {
    const kept = new Set(coinalyzeInstruments(markets).map((i) => i.instrument));
    for (const left of ['BTCUSD_PERP.A', 'BTCPERP.6', 'BTC-28AUG26.2', 'BTC-PERP.C', 'BTC-PERPETUAL.2']) {
      expect(kept.has(left)).toBe(false);
    }
  });

  it('default: the exchange codes agree with the recorded /exchanges list', () => {
    const list = raw.exchanges.parse(fixture('exchanges.json'));
    const code = (name: string) => list.find((e) => e.name === name)?.code;
    expect(COINALYZE_EXCHANGE_CODES).toEqual({
      binance: code('Binance'),
      bybit: code('Bybit'),
      okx: code('OKX'),
    });
    expect(code('Huobi')).toBe('4');
  });
});

describe('coinalyze intervals', () => {
  it('default: 1min … 12hour and daily', () => {
    expect(coinalyzeInterval('1m')).toBe('1min');
    expect(coinalyzeInterval('1h')).toBe('1hour');
    expect(coinalyzeInterval('4h')).toBe('4hour');
    expect(coinalyzeInterval('1d')).toBe('daily');
    expect(fromCoinalyzeInterval('12hour')).toBe('12h');
    expect(fromCoinalyzeInterval('weekly')).toBeUndefined();
    expect(isCoinalyzeIntraday('12h')).toBe(true);
    expect(isCoinalyzeIntraday('1d')).toBe(false);
    expect(Object.keys(COINALYZE_INTERVALS)).toHaveLength(10);
  });

  it('error: intervals Coinalyze lacks throw UnsupportedError', () => {
    for (const interval of ['3m', '8h', '3d', '1w', '1M'] as const) {
      expect(() => coinalyzeInterval(interval)).toThrow(UnsupportedError);
    }
  });
});
