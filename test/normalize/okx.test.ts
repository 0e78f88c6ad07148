import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  fromOkxBar,
  fromOkxRubikPeriod,
  OKX_BARS,
  okxBar,
  okxRubikPeriod,
} from '../../src/clients/okx/intervals.js';
import * as raw from '../../src/clients/okx/schemas.js';
import { okxWsBar } from '../../src/clients/okx/ws.js';
import { InvalidArgumentError, UnsupportedError } from '../../src/core/errors.js';
import {
  okxCandles,
  okxFunding,
  okxInstruments,
  okxLongShortRatio,
  okxOpenInterest,
  okxPredictedFunding,
  okxServerTime,
  okxTakerVolume,
} from '../../src/normalize/okx.js';
import type { InstrumentInfo } from '../../src/normalize/symbols.js';
import { OKX_PEPE } from './instruments.js';

/** A recorded payload from test/fixtures/okx (copied from shared/reference/payloads/okx). */
function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/okx/${name}`, import.meta.url), 'utf8'));
}

/** Every number in the records is finite (no NaN, no Infinity). */
function expectFinite(records: readonly object[]): void {
  for (const record of records) {
    for (const [key, value] of Object.entries(record)) {
      if (typeof value === 'number') expect(Number.isFinite(value), `${key} = ${value}`).toBe(true);
    }
  }
}

const BTC: InstrumentInfo = {
  exchange: 'okx',
  instrument: 'BTC-USDT-SWAP',
  symbol: 'BTC',
  quote: 'USDT',
  multiplier: 1,
  contractSize: 0.01,
};
const PEPE = OKX_PEPE;

describe('okx candles', () => {
  const body = raw.candles.parse(fixture('candles-1H.json'));

  it('default: confirm "0" (the forming hour) yields nothing, the closed hour is pinned', () => {
    const candles = okxCandles(body.data, { instrument: BTC, interval: '1h' });
    expect(candles).toEqual([
      {
        source: 'okx',
        exchange: 'okx',
        symbol: 'BTC',
        interval: '1h',
        ts: 1786816800000,
        open: 63045.5,
        high: 63081.5,
        low: 63013.7,
        close: 63028,
        volume: 321.0118,
        quoteVolume: 20234523.14448,
      },
    ]);
    expectFinite(candles);
  });

  it('default: the history-candles row fragment (bare rows, no envelope)', () => {
    const rows = z.array(raw.candleRow).parse(fixture('history-candles-data-row-fragment.json'));
    expect(okxCandles(rows, { instrument: BTC, interval: '1h' })).toEqual([
      {
        source: 'okx',
        exchange: 'okx',
        symbol: 'BTC',
        interval: '1h',
        ts: 1788768000000,
        open: 79357.9,
        high: 79508,
        low: 79350.6,
        close: 79385.1,
        volume: 1482.6259,
        quoteVolume: 117753437.49,
      },
    ]);
  });

  it('behavior: the doc example repeats a ts; the first row is kept once', () => {
    const doc = raw.candles.parse(fixture('history-candles.doc-example.json'));
    const candles = okxCandles(doc.data, { instrument: BTC, interval: '1m' });
    expect(candles).toHaveLength(1);
    expect(candles[0]).toMatchObject({
      ts: 1597026383085,
      open: 3.721,
      close: 3.708,
      volume: 22698348.04828491,
    });
  });

  it('behavior: an empty volCcy falls back to contracts × ctVal, an empty volCcyQuote to undefined', () => {
    const row = raw.candleRow.parse([
      '1786816800000',
      '63045.5',
      '63081.5',
      '63013.7',
      '63028',
      '32101.18',
      '',
      '',
      '1',
    ]);
    const [candle] = okxCandles([row], { instrument: BTC, interval: '1h' });
    expect(candle?.volume).toBeCloseTo(321.0118, 10);
    expect(candle?.quoteVolume).toBeUndefined();
    expectFinite([candle!]);
  });

  it('behavior: PEPE volCcy is already in PEPE (contract size 10,000,000)', () => {
    const row = raw.candleRow.parse([
      '1786816800000',
      '0.00001012',
      '0.0000102',
      '0.00001',
      '0.0000101',
      '25',
      '250000000',
      '2530',
      '1',
    ]);
    const [candle] = okxCandles([row], { instrument: PEPE, interval: '1h' });
    expect(candle).toMatchObject({ open: 0.00001012, volume: 250_000_000, quoteVolume: 2530 });
  });

  it('error: an empty price or confirm fails the schema; 51001 is an error body', () => {
    expect(raw.candleRow.safeParse(['1786816800000', '', '1', '1', '1', '1', '1', '1', '1']).success).toBe(
      false,
    );
    expect(raw.candleRow.safeParse(['1786816800000', '1', '1', '1', '1', '1', '1', '1', '']).success).toBe(
      false,
    );
    const error = fixture('error-51001.json');
    expect(raw.candles.safeParse(error).success).toBe(false);
    expect(raw.envelopeError(error)).toEqual({
      code: '51001',
      msg: "Instrument ID, Instrument ID code, or Spread ID doesn't exist.",
      data: [],
    });
    expect(raw.envelopeError({ msg: 'Too Many Requests', code: '50011' })?.code).toBe('50011');
    expect(raw.envelopeError(fixture('candles-1H.json'))).toBeUndefined();
  });
});

describe('okx funding', () => {
  const body = raw.fundingHistory.parse(fixture('funding-rate-history.doc-example.json'));

  it('default: realizedRate is preferred, rows come out ascending', () => {
    const rates = okxFunding(body.data, { instrument: BTC });
    expect(rates).toEqual([
      { source: 'okx', exchange: 'okx', symbol: 'BTC', ts: 1703030400000, rate: 0.0002279755647389 },
      { source: 'okx', exchange: 'okx', symbol: 'BTC', ts: 1703059200000, rate: 0.0000746572360545 },
    ]);
    expectFinite(rates);
  });

  it('behavior: an empty realizedRate falls back to fundingRate', () => {
    const row = raw.fundingHistoryRow.parse({
      instId: 'BTC-USDT-SWAP',
      fundingRate: '0.0000746604960499',
      realizedRate: '',
      fundingTime: '1703059200000',
    });
    expect(okxFunding([row], { instrument: BTC })[0]?.rate).toBe(0.0000746604960499);
  });
});

describe('okx predicted funding', () => {
  const body = raw.fundingRate.parse(fixture('funding-rate.json'));

  it('default: fundingRate settles at fundingTime (not nextFundingTime), observed at ts', () => {
    const out = okxPredictedFunding(body.data, { instrument: BTC });
    expect(out).toEqual([
      {
        source: 'okx',
        exchange: 'okx',
        symbol: 'BTC',
        ts: 1785548167559,
        rate: 0.0000616430459607,
        nextFundingTime: 1785571200000,
      },
    ]);
    expect(body.data[0]?.nextFundingTime).toBe(1785600000000);
    expect(body.data[0]?.nextFundingRate).toBe('');
    expectFinite(out);
  });

  it('behavior: a row of another instrument yields nothing', () => {
    expect(okxPredictedFunding(body.data, { instrument: PEPE })).toEqual([]);
  });
});

describe('okx open interest (rubik)', () => {
  const body = raw.openInterestHistory.parse(fixture('rubik-open-interest-history.doc-example.json'));

  it('default: oiCcy in base units and oiUsd, ascending', () => {
    const out = okxOpenInterest(body.data, { instrument: BTC, interval: '5m' });
    expect(out).toEqual([
      {
        source: 'okx',
        exchange: 'okx',
        symbol: 'BTC',
        interval: '5m',
        ts: 1701417500000,
        openInterest: 111,
        openInterestUsd: 8888888,
      },
      {
        source: 'okx',
        exchange: 'okx',
        symbol: 'BTC',
        interval: '5m',
        ts: 1701417600000,
        openInterest: 111,
        openInterestUsd: 8888888,
      },
    ]);
    expectFinite(out);
  });

  it('behavior: an empty oiCcy falls back to contracts × ctVal; an empty oiUsd to undefined', () => {
    const row = raw.openInterestRow.parse(['1701417600000', '731377.57500501', '', '']);
    const [oi] = okxOpenInterest([row], { instrument: BTC, interval: '5m' });
    expect(oi?.openInterest).toBeCloseTo(7313.7757500501, 9);
    expect(oi?.openInterestUsd).toBeUndefined();
  });

  it('error: contracts without a contract size are a TypeError, not NaN', () => {
    const row = raw.openInterestRow.parse(['1701417600000', '731377.57500501', '', '']);
    const { contractSize: _, ...bare } = BTC;
    expect(() => okxOpenInterest([row], { instrument: bare, interval: '5m' })).toThrow(TypeError);
  });
});

describe('okx long/short ratios (rubik)', () => {
  it('default: the live global contract ratio', () => {
    const body = raw.longShortRatio.parse(fixture('long-short-account-ratio-contract.json'));
    const out = okxLongShortRatio(body.data, { instrument: BTC, interval: '5m', kind: 'global' });
    expect(out).toEqual([
      {
        source: 'okx',
        exchange: 'okx',
        symbol: 'BTC',
        interval: '5m',
        kind: 'global',
        ts: 1787372700000,
        ratio: 1.2740831113213653, // "1.2740831113213654" parses to this double
      },
    ]);
    expectFinite(out);
  });

  it('default: top-trader account and position ratios (doc rows repeat a ts: kept once)', () => {
    const accounts = raw.longShortRatio.parse(
      fixture('rubik-long-short-account-ratio-contract-top-trader.doc-example.json'),
    );
    const positions = raw.longShortRatio.parse(
      fixture('rubik-long-short-position-ratio-contract-top-trader.doc-example.json'),
    );
    expect(okxLongShortRatio(accounts.data, { instrument: BTC, interval: '5m', kind: 'topAccount' })).toEqual(
      [
        {
          source: 'okx',
          exchange: 'okx',
          symbol: 'BTC',
          interval: '5m',
          kind: 'topAccount',
          ts: 1701417600000,
          ratio: 1.1739,
        },
      ],
    );
    expect(
      okxLongShortRatio(positions.data, { instrument: BTC, interval: '5m', kind: 'topPosition' }),
    ).toEqual([
      {
        source: 'okx',
        exchange: 'okx',
        symbol: 'BTC',
        interval: '5m',
        kind: 'topPosition',
        ts: 1701417600000,
        ratio: 1.1739,
      },
    ]);
  });
});

describe('okx taker volume (rubik)', () => {
  const body = raw.takerVolume.parse(fixture('rubik-taker-volume-contract.doc-example.json'));
  const closed = 1701417600000 + 300_000;

  it('default: [ts, sellVol, buyVol] is read sell first; contracts × ctVal', () => {
    const out = okxTakerVolume(body.data, {
      instrument: BTC,
      interval: '5m',
      unit: 'contracts',
      now: closed,
    });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      source: 'okx',
      exchange: 'okx',
      symbol: 'BTC',
      interval: '5m',
      ts: 1701417600000,
    });
    expect(out[0]?.sellVolume).toBeCloseTo(2, 12);
    expect(out[0]?.buyVolume).toBeCloseTo(3.8, 12);
    expectFinite(out);
  });

  it('behavior: unit coin leaves the figures as they are', () => {
    const out = okxTakerVolume(body.data, { instrument: BTC, interval: '5m', unit: 'coin', now: closed });
    expect(out.map((r) => [r.sellVolume, r.buyVolume])).toEqual([[200, 380]]);
  });

  it('behavior: a period not ended by now yields nothing', () => {
    expect(
      okxTakerVolume(body.data, { instrument: BTC, interval: '5m', unit: 'coin', now: closed - 1 }),
    ).toEqual([]);
  });

  it('error: a unit other than coin or contracts is rejected', () => {
    const ctx = { instrument: BTC, interval: '5m', unit: 'usdt', now: closed } as unknown as Parameters<
      typeof okxTakerVolume
    >[1];
    expect(() => okxTakerVolume(body.data, ctx)).toThrow(InvalidArgumentError);
  });
});

describe('okx instruments', () => {
  const rows = z.array(raw.instrumentRow).parse(fixture('instruments-swap-data-rows.json'));

  it('default: linear USDT swaps with contractSize = ctVal; the inverse swap is left out', () => {
    expect(okxInstruments(rows)).toEqual([
      {
        exchange: 'okx',
        instrument: 'BTC-USDT-SWAP',
        symbol: 'BTC',
        quote: 'USDT',
        multiplier: 1,
        contractSize: 0.01,
        listedAt: 1573557408000,
        status: 'live',
      },
      {
        exchange: 'okx',
        instrument: 'ETH-USDT-SWAP',
        symbol: 'ETH',
        quote: 'USDT',
        multiplier: 1,
        contractSize: 0.1,
        listedAt: 1573557408000,
        status: 'live',
      },
    ]);
  });

  it('behavior: a preopen row with "" fields is left out', () => {
    const preopen = raw.instrumentRow.parse({
      instId: 'NEW-USDT-SWAP',
      instType: 'SWAP',
      instFamily: 'NEW-USDT',
      settleCcy: 'USDT',
      ctType: 'linear',
      ctVal: '',
      ctMult: '',
      ctValCcy: '',
      listTime: '',
      state: 'preopen',
    });
    expect(okxInstruments([preopen])).toEqual([]);
  });
});

describe('okx server time', () => {
  it('default: data[0].ts (reference sample)', () => {
    const body = raw.serverTime.parse({ code: '0', msg: '', data: [{ ts: '1597026383085' }] });
    expect(okxServerTime(body.data)).toBe(1597026383085);
  });
});

describe('okx intervals', () => {
  it('default: candle bars and rubik periods use the UTC-aligned forms from 6h up', () => {
    expect(okxBar('1m')).toBe('1m');
    expect(okxBar('1h')).toBe('1H');
    expect(okxBar('4h')).toBe('4H');
    expect(okxBar('6h')).toBe('6Hutc');
    expect(okxBar('1d')).toBe('1Dutc');
    expect(okxBar('1M')).toBe('1Mutc');
    expect(okxRubikPeriod('5m')).toBe('5m');
    expect(okxRubikPeriod('1h')).toBe('1H');
    expect(okxRubikPeriod('1d')).toBe('1Dutc');
    expect(fromOkxBar('1H')).toBe('1h');
    expect(fromOkxBar('1D')).toBeUndefined();
    expect(fromOkxRubikPeriod('12Hutc')).toBe('12h');
    expect(Object.values(OKX_BARS)).not.toContain('1h');
  });

  it('error: intervals OKX lacks throw UnsupportedError', () => {
    expect(() => okxBar('8h')).toThrow(UnsupportedError);
    expect(() => okxRubikPeriod('1m')).toThrow(UnsupportedError);
    expect(() => okxRubikPeriod('8h')).toThrow(UnsupportedError);
    expect(() => okxBar('8h')).toThrow('OKX candles has no 8h interval');
  });

  it('behavior: live candle channels use the same UTC-aligned bars as REST', () => {
    for (const interval of ['1m', '1h', '6h', '1d', '3d', '1w', '1M'] as const)
      expect(okxWsBar(interval)).toBe(okxBar(interval));
    expect(() => okxWsBar('8h')).toThrow(UnsupportedError);
  });
});
