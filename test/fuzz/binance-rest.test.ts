/** Fuzz: drifted Binance REST answers, endpoint by endpoint, through `BinanceClient`. */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { BinanceClient } from '../../src/clients/binance/rest.js';
import { all, fuzzPath, HOUR, restHarness, T } from './rest.js';

const h = restHarness();
let client: BinanceClient;
beforeAll(async () => {
  client = new BinanceClient(h.options('binance'));
  await client.registry();
});
afterAll(() => client.close());

const range = { symbol: 'BTC', from: T - 2 * HOUR, to: T - HOUR };

describe('fuzz: binance REST', () => {
  it('/fapi/v1/klines', () =>
    fuzzPath(h.sim(), 'binance', '/fapi/v1/klines', () => all(client.candles({ ...range, interval: '1m' }))));
  it('/fapi/v1/fundingRate', () =>
    fuzzPath(h.sim(), 'binance', '/fapi/v1/fundingRate', () =>
      all(client.funding({ symbol: 'BTC', from: T - 48 * HOUR, to: T })),
    ));
  it('/fapi/v1/premiumIndex', () =>
    fuzzPath(h.sim(), 'binance', '/fapi/v1/premiumIndex', () =>
      all(client.predictedFunding({ symbol: 'BTC' })),
    ));
  it('/futures/data/openInterestHist', () =>
    fuzzPath(h.sim(), 'binance', '/futures/data/openInterestHist', () =>
      all(client.openInterest({ ...range, interval: '5m' })),
    ));
  for (const [kind, path] of [
    ['global', '/futures/data/globalLongShortAccountRatio'],
    ['topAccount', '/futures/data/topLongShortAccountRatio'],
    ['topPosition', '/futures/data/topLongShortPositionRatio'],
  ] as const) {
    it(path, () =>
      fuzzPath(h.sim(), 'binance', path, () =>
        all(client.longShortRatio({ ...range, interval: '5m', kind })),
      ),
    );
  }
  it('/futures/data/takerlongshortRatio', () =>
    fuzzPath(h.sim(), 'binance', '/futures/data/takerlongshortRatio', () =>
      all(client.takerVolume({ ...range, interval: '5m' })),
    ));
  it('/fapi/v1/exchangeInfo', () =>
    fuzzPath(h.sim(), 'binance', '/fapi/v1/exchangeInfo', () => client.instruments()));
  it('/fapi/v1/fundingInfo', () =>
    fuzzPath(h.sim(), 'binance', '/fapi/v1/fundingInfo', async () => {
      const fresh = new BinanceClient(h.options('binance'));
      try {
        return [await fresh.fundingPeriod('BTC')];
      } finally {
        await fresh.close();
      }
    }));
});
