import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BYBIT_KLINE_INTERVALS,
  bybitKlineInterval,
  bybitStatsInterval,
  fromBybitKlineInterval,
  fromBybitStatsInterval,
} from '../../src/clients/bybit/intervals.js';
import * as raw from '../../src/clients/bybit/schemas.js';
import { bybitWsInterval } from '../../src/clients/bybit/ws.js';
import { UnsupportedError } from '../../src/core/errors.js';
import {
  bybitCandles,
  bybitFunding,
  bybitInstruments,
  bybitLongShortRatio,
  bybitOpenInterest,
  bybitPredictedFunding,
  bybitServerTime,
} from '../../src/normalize/bybit.js';
import type { InstrumentInfo } from '../../src/normalize/symbols.js';
import { BYBIT_PEPE } from './instruments.js';

/** A recorded payload from test/fixtures/bybit (copied from shared/reference/payloads/bybit). */
function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/bybit/${name}`, import.meta.url), 'utf8'));
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
  exchange: 'bybit',
  instrument: 'BTCUSDT',
  symbol: 'BTC',
  quote: 'USDT',
  multiplier: 1,
};
const ETH: InstrumentInfo = {
  exchange: 'bybit',
  instrument: 'ETHUSDT',
  symbol: 'ETH',
  quote: 'USDT',
  multiplier: 1,
};
const XTZ: InstrumentInfo = {
  exchange: 'bybit',
  instrument: 'XTZUSDT',
  symbol: 'XTZ',
  quote: 'USDT',
  multiplier: 1,
};
const PEPE = BYBIT_PEPE;

describe('bybit kline', () => {
  const body = raw.kline.parse(fixture('kline.json'));

  it('default: the forming hour (listed first) is dropped, the closed one is pinned', () => {
    const candles = bybitCandles(body.result.list, { instrument: BTC, interval: '1h', now: body.time });
    expect(candles).toEqual([
      {
        source: 'bybit',
        exchange: 'bybit',
        symbol: 'BTC',
        interval: '1h',
        ts: 1786816800000,
        open: 63044.4,
        high: 63089.6,
        low: 63000.1,
        close: 63027.8,
        volume: 385.721,
        quoteVolume: 24314058.6517,
      },
    ]);
    expectFinite(candles);
  });

  it('behavior: newest-first rows come out ascending once both hours are closed', () => {
    const candles = bybitCandles(body.result.list, { instrument: BTC, interval: '1h', now: 1786824000000 });
    expect(candles.map((c) => c.ts)).toEqual([1786816800000, 1786820400000]);
    expect(candles[1]).toMatchObject({
      open: 63027.8,
      close: 63032.3,
      volume: 4.591,
      quoteVolume: 289363.9178,
    });
  });

  it('behavior: a 1000PEPEUSDT row gives prices per PEPE and volume in PEPE', () => {
    const row = raw.klineRow.parse([
      '1786816800000',
      '0.010512',
      '0.0106',
      '0.0104',
      '0.01055',
      '1234567',
      '12987.1',
    ]);
    const [candle] = bybitCandles([row], { instrument: PEPE, interval: '1h', now: 1786824000000 });
    expect(candle?.open).toBeCloseTo(0.000010512, 15);
    expect(candle?.high).toBeCloseTo(0.0000106, 15);
    expect(candle?.low).toBeCloseTo(0.0000104, 15);
    expect(candle?.close).toBeCloseTo(0.00001055, 15);
    expect(candle?.volume).toBe(1234567000);
    expect(candle?.quoteVolume).toBe(12987.1);
  });

  it('error: an empty price field fails the schema and the number policy', () => {
    const row = ['1786816800000', '', '63089.6', '63000.1', '63027.8', '385.721', '24314058.6517'];
    expect(raw.klineRow.safeParse(row).success).toBe(false);
    expect(() =>
      bybitCandles([[1786816800000, '', '1', '1', '1', '1', '1']], {
        instrument: BTC,
        interval: '1h',
        now: 2e12,
      }),
    ).toThrow(TypeError);
  });

  it('error: a retCode 10001 body is an error, not data', () => {
    const body = fixture('error-10001-not-supported-symbols.json');
    expect(raw.kline.safeParse(body).success).toBe(false);
    expect(raw.envelopeError(body)).toEqual({
      retCode: 10001,
      retMsg: 'Not supported symbols',
      time: 1726147060461,
    });
    expect(raw.envelopeError(fixture('error-10001-params-private.json'))?.retMsg).toBe(
      'accountType only support UNIFIED.',
    );
    expect(raw.envelopeError(fixture('kline.json'))).toBeUndefined();
    expect(raw.envelopeError('<html>403</html>')).toBeUndefined();
  });
});

describe('bybit funding', () => {
  it('default: XTZUSDT history (newest first, mixed decimals) comes out ascending', () => {
    const body = raw.fundingHistory.parse(fixture('funding-history.json'));
    const rates = bybitFunding(body.result.list, { instrument: XTZ });
    expect(rates.map((r) => [r.ts, r.rate])).toEqual([
      [1752681600000, 0.0001],
      [1752710400000, 0.0001],
      [1752739200000, -0.00008311],
      [1752768000000, -0.00012402],
      [1752796800000, 0.0001],
      [1752825600000, 0.0001],
      [1752854400000, 0.0001],
      [1752883200000, 0.0001],
      [1752912000000, -0.00073488],
      [1752940800000, -0.00249093],
    ]);
    expect(rates[0]).toEqual({
      source: 'bybit',
      exchange: 'bybit',
      symbol: 'XTZ',
      ts: 1752681600000,
      rate: 0.0001,
    });
    expectFinite(rates);
  });

  it('default: BTCUSDT funding sits exactly on the 8 h grid', () => {
    const body = raw.fundingHistory.parse(fixture('funding-history-btcusdt.json'));
    const rates = bybitFunding(body.result.list, { instrument: BTC });
    expect(rates.map((r) => [r.ts, r.rate])).toEqual([
      [1786780800000, 0.00004737],
      [1786809600000, 0.00004403],
    ]);
    expect(rates.every((r) => r.ts % 28_800_000 === 0)).toBe(true);
  });

  it('error: an empty fundingRate fails the schema', () => {
    const row = { symbol: 'BTCUSDT', fundingRate: '', fundingRateTimestamp: '1786780800000' };
    expect(raw.fundingRow.safeParse(row).success).toBe(false);
  });
});

describe('bybit predicted funding (tickers)', () => {
  const body = raw.tickers.parse(fixture('tickers.json'));

  it('default: fundingRate settles at nextFundingTime, observed at the envelope time', () => {
    const out = bybitPredictedFunding(body.result.list, { instrument: BTC, time: body.time });
    expect(out).toEqual([
      {
        source: 'bybit',
        exchange: 'bybit',
        symbol: 'BTC',
        ts: 1788909273627,
        rate: 0.0000523,
        nextFundingTime: 1788912000000,
      },
    ]);
    expectFinite(out);
  });

  it('behavior: a ticker of another symbol yields nothing', () => {
    expect(bybitPredictedFunding(body.result.list, { instrument: ETH, time: body.time })).toEqual([]);
  });

  it('behavior: a pre-listing ticker with "" fields yields nothing', () => {
    const row = raw.tickerRow.parse({
      symbol: 'BTCUSDT',
      fundingRate: '',
      nextFundingTime: '',
      openInterest: '',
    });
    expect(bybitPredictedFunding([row], { instrument: BTC, time: body.time })).toEqual([]);
  });

  it('default: the ticker confirms singleOpenInterest = openInterest / 2 (to the venue rounding)', () => {
    const row = body.result.list[0]!;
    expect(row.openInterest).toBe('56399.823');
    expect(row.singleOpenInterest).toBe('28199.912');
    expect(Math.abs(Number(row.singleOpenInterest) - Number(row.openInterest) / 2)).toBeLessThanOrEqual(
      0.001,
    );
  });
});

describe('bybit open interest', () => {
  it('default: live rows without singleOpenInterest are halved (one side)', () => {
    const body = raw.openInterest.parse(fixture('open-interest-1h.json'));
    const out = bybitOpenInterest(body.result.list, { instrument: BTC, interval: '1h' });
    expect(out).toEqual([
      {
        source: 'bybit',
        exchange: 'bybit',
        symbol: 'BTC',
        interval: '1h',
        ts: 1786816800000,
        openInterest: 32520.784,
        openInterestUsd: undefined,
      },
      {
        source: 'bybit',
        exchange: 'bybit',
        symbol: 'BTC',
        interval: '1h',
        ts: 1786820400000,
        openInterest: 32496.027,
        openInterestUsd: undefined,
      },
    ]);
    expect(body.result.nextPageCursor).toBe('');
    expectFinite(out);
  });

  it('default: the 2025 body with 8 decimals and a cursor', () => {
    const body = raw.openInterest.parse(fixture('open-interest.json'));
    const out = bybitOpenInterest(body.result.list, { instrument: BTC, interval: '1h' });
    expect(out.map((r) => [r.ts, r.openInterest])).toEqual([[1739725200000, 31064.7275]]);
    expect(body.result.nextPageCursor).toBe('lastid%3D10860016%26lasttime%3D1739725200');
  });

  it('behavior: singleOpenInterest is used as is when present (reference sample)', () => {
    const row = raw.openInterestRow.parse({
      openInterest: '104552.118',
      singleOpenInterest: '52276.059',
      timestamp: '1780963200000',
    });
    expect(bybitOpenInterest([row], { instrument: BTC, interval: '1d' })[0]?.openInterest).toBe(52276.059);
  });

  it('behavior: a 1000PEPEUSDT figure counts bundles of 1000', () => {
    const row = raw.openInterestRow.parse({ openInterest: '7000000', timestamp: '1780963200000' });
    expect(bybitOpenInterest([row], { instrument: PEPE, interval: '1h' })[0]?.openInterest).toBe(
      3_500_000_000,
    );
  });
});

describe('bybit long/short ratio', () => {
  const body = raw.accountRatio.parse(fixture('account-ratio.json'));

  it('default: ratio = buyRatio / sellRatio, ascending, kind global', () => {
    const out = bybitLongShortRatio(body.result.list, { instrument: ETH, interval: '5m' });
    expect(out.map((r) => r.ts)).toEqual([1789459800000, 1789460100000, 1789460400000]);
    expect(out[0]).toMatchObject({
      source: 'bybit',
      exchange: 'bybit',
      symbol: 'ETH',
      interval: '5m',
      kind: 'global',
      longShare: 0.6772,
      shortShare: 0.3228,
    });
    expect(out[0]?.ratio).toBeCloseTo(2.0978934324659235, 12);
    expect(out[1]?.ratio).toBeCloseTo(2.108486167236556, 12);
    expect(out[2]?.ratio).toBeCloseTo(2.109452736318408, 12);
    expect(body.result.nextPageCursor).toBe('lastid%3D0%26lasttime%3D1789459800');
    expectFinite(out);
  });

  it('behavior: a row with sellRatio 0 yields nothing instead of Infinity', () => {
    const row = raw.accountRatioRow.parse({ buyRatio: '1', sellRatio: '0', timestamp: '1789460400000' });
    expect(bybitLongShortRatio([row], { instrument: ETH, interval: '5m' })).toEqual([]);
  });
});

describe('bybit instruments', () => {
  const entry = (over: Record<string, unknown>) =>
    raw.instrumentRow.parse({
      symbol: 'BTCUSDT',
      contractType: 'LinearPerpetual',
      status: 'Trading',
      baseCoin: 'BTC',
      quoteCoin: 'USDT',
      settleCoin: 'USDT',
      launchTime: '1585526400000',
      ...over,
    });

  it('default: the documented BTCUSDT entry', () => {
    const body = raw.instrumentsInfo.parse(fixture('instruments-info.doc-example.json'));
    expect(bybitInstruments(body.result.list)).toEqual([
      {
        exchange: 'bybit',
        instrument: 'BTCUSDT',
        symbol: 'BTC',
        quote: 'USDT',
        multiplier: 1,
        listedAt: 1585526400000,
        status: 'Trading',
      },
    ]);
    expect(body.result.nextPageCursor).toBe('');
  });

  it('behavior: prefix and suffix multiplier contracts map to the coin', () => {
    const list = [
      entry({ symbol: '1000PEPEUSDT', baseCoin: '1000PEPE' }),
      entry({ symbol: 'SHIB1000USDT', baseCoin: 'SHIB1000' }),
      entry({ symbol: '10000SATSUSDT', baseCoin: 'SATS' }),
      entry({ symbol: '1INCHUSDT', baseCoin: '1INCH' }),
    ];
    expect(bybitInstruments(list).map((i) => [i.instrument, i.symbol, i.multiplier])).toEqual([
      ['1000PEPEUSDT', 'PEPE', 1000],
      ['SHIB1000USDT', 'SHIB', 1000],
      ['10000SATSUSDT', 'SATS', 10000],
      ['1INCHUSDT', '1INCH', 1],
    ]);
  });

  it('behavior: USDC perpetuals, dated futures and launchTime 0 are handled', () => {
    const list = [
      entry({ symbol: 'BTCPERP', quoteCoin: 'USDC', settleCoin: 'USDC' }),
      entry({ symbol: 'BTC-26DEC25', contractType: 'LinearFutures' }),
      entry({ symbol: 'NEWUSDT', baseCoin: 'NEW', status: 'PreLaunch', launchTime: '0' }),
    ];
    expect(bybitInstruments(list)).toEqual([
      {
        exchange: 'bybit',
        instrument: 'NEWUSDT',
        symbol: 'NEW',
        quote: 'USDT',
        multiplier: 1,
        listedAt: undefined,
        status: 'PreLaunch',
      },
    ]);
  });
});

describe('bybit server time', () => {
  it('default: timeNano to whole milliseconds (reference sample)', () => {
    const body = raw.serverTime.parse({
      retCode: 0,
      retMsg: 'OK',
      result: { timeSecond: '1688639403', timeNano: '1688639403423213947' },
      retExtInfo: {},
      time: 1688639403423,
    });
    expect(bybitServerTime(body.result)).toBe(1688639403423);
  });
});

describe('bybit intervals', () => {
  it('default: kline and statistics spellings', () => {
    expect(bybitKlineInterval('1m')).toBe('1');
    expect(bybitKlineInterval('1h')).toBe('60');
    expect(bybitKlineInterval('1d')).toBe('D');
    expect(bybitKlineInterval('1w')).toBe('W');
    expect(bybitKlineInterval('1M')).toBe('M');
    expect(bybitStatsInterval('5m')).toBe('5min');
    expect(bybitStatsInterval('1h')).toBe('1h');
    expect(bybitStatsInterval('1d')).toBe('1d');
    expect(fromBybitKlineInterval('240')).toBe('4h');
    expect(fromBybitStatsInterval('15min')).toBe('15m');
    expect(fromBybitKlineInterval('4h')).toBeUndefined();
    expect(Object.keys(BYBIT_KLINE_INTERVALS)).toHaveLength(13);
  });

  it('error: intervals Bybit lacks throw UnsupportedError', () => {
    expect(() => bybitKlineInterval('8h')).toThrow(UnsupportedError);
    expect(() => bybitKlineInterval('3d')).toThrow(UnsupportedError);
    expect(() => bybitStatsInterval('1m')).toThrow(UnsupportedError);
    expect(() => bybitStatsInterval('2h')).toThrow(UnsupportedError);
  });

  it('behavior: live kline topics use the REST spellings', () => {
    for (const interval of ['1m', '1h', '12h', '1d', '1w', '1M'] as const)
      expect(bybitWsInterval(interval)).toBe(bybitKlineInterval(interval));
    expect(() => bybitWsInterval('3d')).toThrow('Bybit kline has no 3d interval');
  });
});
