/** Recorded Binance USDⓈ-M bodies through their schemas and normalisers, outputs pinned. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as raw from '../../src/clients/binance/schemas.js';
import {
  binanceCandles,
  binanceFunding,
  binanceInstruments,
  binanceLongShortRatio,
  binanceOpenInterest,
  binancePredictedFunding,
  binanceTakerVolume,
} from '../../src/normalize/binance.js';
import { BTC, PEPE } from './instruments.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/binance/${name}`, import.meta.url), 'utf8'));

function parse<T>(schema: { safeParse(d: unknown): { success: boolean; data?: T } }, name: string): T {
  const result = schema.safeParse(fixture(name));
  expect(result.success).toBe(true);
  return result.data as T;
}

function noNaN(records: object[]) {
  for (const r of records)
    for (const v of Object.values(r)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
}

describe('binance normalisers on recorded payloads', () => {
  it('default: klines (1h, live 2026-08-15) to candles with taker buy volume', () => {
    const candles = binanceCandles(parse(raw.klines, 'klines.json'), { instrument: BTC, interval: '1h' });
    expect(candles[0]).toEqual({
      source: 'binance',
      exchange: 'binance',
      symbol: 'BTC',
      interval: '1h',
      ts: 1786816800000,
      open: 63043.4,
      high: 63083,
      low: 63011.6,
      close: 63026.3,
      volume: 1116.068,
      quoteVolume: 70342488.017,
      trades: 16911,
      takerBuyVolume: 460.737,
    });
    noNaN(candles);
  });

  it('behavior: a 1000-multiplier contract divides prices and multiplies volumes', () => {
    const [c] = binanceCandles(parse(raw.klines, 'klines-1m.json'), { instrument: PEPE, interval: '1m' });
    expect(c!.open).toBeCloseTo(76.9362, 10);
    expect(c!.volume).toBeCloseTo(20680, 6);
    expect(c!.takerBuyVolume).toBeCloseTo(15190, 6);
    expect(c!.quoteVolume).toBeCloseTo(1591436.2714, 6);
  });

  it('error: blank or malformed kline fields are refused, never read as 0', () => {
    const row = [1789478160000, '', '1', '1', '1', '1', 1789478219999, '1', 1, '1', '1', '0'] as const;
    expect(() => binanceCandles([row], { instrument: BTC, interval: '1m' })).toThrow(
      /open is not a finite number/,
    );
    expect(raw.klines.safeParse([[1, '1', '1']]).success).toBe(false);
    expect(
      raw.klines.safeParse([
        [1789478160000, '1', '1', '1', '1', '1', 1789478219999, '1', 'many', '1', '1', '0'],
      ]).success,
    ).toBe(false);
  });

  it('default: funding times a few ms after the boundary are snapped to it (rateType tolerated)', () => {
    const a = binanceFunding(parse(raw.fundingRates, 'fundingRate.json'), { instrument: BTC });
    const b = binanceFunding(parse(raw.fundingRates, 'fundingRate-2.json'), { instrument: BTC });
    expect(a.map((r) => r.ts)).toEqual([1786780800000, 1786809600000]);
    expect(b.map((r) => [r.ts, r.rate, r.markPrice])).toEqual([
      [1789430400000, 0.00003563, 78178.3],
      [1789459200000, 0.00006188, 76907.97183333],
    ]);
  });

  it('default: premiumIndex is the predicted (accruing) rate for nextFundingTime', () => {
    expect(
      binancePredictedFunding(parse(raw.premiumIndex, 'premiumIndex.json'), { instrument: BTC }),
    ).toEqual({
      source: 'binance',
      exchange: 'binance',
      symbol: 'BTC',
      ts: 1789478303000,
      rate: 0.00008972,
      nextFundingTime: 1789488000000,
    });
  });

  it('default: open interest history with numeric timestamp and CMCCirculatingSupply', () => {
    const oi = binanceOpenInterest(parse(raw.openInterestHist, 'openInterestHist.json'), {
      instrument: BTC,
      interval: '1h',
    });
    expect(oi.map((r) => [r.ts, r.openInterest, r.openInterestUsd])).toEqual([
      [1786816800000, 111856.664, 7051831069.120872],
      [1786820400000, 111688.14, 7039340891.315014],
    ]);
  });

  it('default: long/short ratios in live key order and the doc example with string timestamps', () => {
    const global = binanceLongShortRatio(parse(raw.longShortRatios, 'globalLongShortAccountRatio.json'), {
      instrument: BTC,
      interval: '1h',
      kind: 'global',
    });
    expect(global).toEqual([
      {
        source: 'binance',
        exchange: 'binance',
        symbol: 'BTC',
        interval: '1h',
        kind: 'global',
        ts: 1788908400000,
        ratio: 1.2973,
        longShare: 0.5647,
        shortShare: 0.4353,
      },
    ]);
    const top = binanceLongShortRatio(
      parse(raw.longShortRatios, 'topLongShortAccountRatio.doc-example.json'),
      {
        instrument: BTC,
        interval: '5m',
        kind: 'topAccount',
      },
    );
    expect(top.map((r) => [r.ts, r.ratio])).toEqual([
      [1583139600000, 1.8105],
      [1583139900000, 0.5576],
    ]);
    const pos = binanceLongShortRatio(parse(raw.longShortRatios, 'topLongShortPositionRatio.json'), {
      instrument: BTC,
      interval: '5m',
      kind: 'topPosition',
    });
    expect(pos[0]).toMatchObject({ kind: 'topPosition', ratio: 1.9823, longShare: 0.6647 });
  });

  it('default: taker volume rows without a symbol, sell before buy', () => {
    expect(
      binanceTakerVolume(parse(raw.takerVolumes, 'takerlongshortRatio.json'), {
        instrument: BTC,
        interval: '1h',
      }),
    ).toEqual([
      {
        source: 'binance',
        exchange: 'binance',
        symbol: 'BTC',
        interval: '1h',
        ts: 1788904800000,
        buyVolume: 1383.444,
        sellVolume: 1092.271,
      },
    ]);
  });

  it('default: exchangeInfo entries, including a TradFi perpetual; filters in any key order', () => {
    const btc = raw.exchangeInfoSymbol.parse(fixture('exchangeInfo-symbols-entry-BTCUSDT.json'));
    const xau = raw.exchangeInfo.parse(fixture('exchangeInfo-XAUUSDT-tradfi-fragment.json'));
    const list = binanceInstruments([
      btc,
      ...xau.symbols,
      { ...btc, symbol: '1000PEPEUSDT', baseAsset: '1000PEPE' },
      { ...btc, symbol: 'BTCUSDC', quoteAsset: 'USDC' },
    ]);
    expect(list.map((i) => [i.instrument, i.symbol, i.multiplier])).toEqual([
      ['BTCUSDT', 'BTC', 1],
      ['XAUUSDT', 'XAU', 1],
      ['1000PEPEUSDT', 'PEPE', 1000],
    ]);
    expect(list[0]!.listedAt).toBe(1567965300000);
    const limits = raw.rateLimitEntry.array().parse(fixture('exchangeInfo-rateLimits-fragment.json'));
    expect(limits.find((l) => l.rateLimitType === 'REQUEST_WEIGHT')?.limit).toBe(2400);
  });

  it('default: the error body of an unknown symbol', () => {
    expect(raw.errorBody.parse(fixture('error-1121-invalid-symbol.json'))).toEqual({
      code: -1121,
      msg: 'Invalid symbol.',
    });
  });
});
