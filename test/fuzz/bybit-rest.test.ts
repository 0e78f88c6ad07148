/** Fuzz: drifted Bybit REST answers, endpoint by endpoint, through `BybitClient`. */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { BybitClient } from '../../src/clients/bybit/rest.js';
import { all, fuzzPath, HOUR, restHarness, T } from './rest.js';

const h = restHarness();
let client: BybitClient;
beforeAll(async () => {
  client = new BybitClient(h.options('bybit'));
  await client.registry();
});
afterAll(() => client.close());

const range = { symbol: 'BTC', from: T - 2 * HOUR, to: T - HOUR };

describe('fuzz: bybit REST', () => {
  it('/v5/market/kline', () =>
    fuzzPath(h.sim(), 'bybit', '/v5/market/kline', () => all(client.candles({ ...range, interval: '1m' }))));
  it('/v5/market/funding/history', () =>
    fuzzPath(h.sim(), 'bybit', '/v5/market/funding/history', () =>
      all(client.funding({ symbol: 'BTC', from: T - 48 * HOUR, to: T })),
    ));
  it('/v5/market/tickers', () =>
    fuzzPath(h.sim(), 'bybit', '/v5/market/tickers', () => all(client.predictedFunding({ symbol: 'BTC' }))));
  it('/v5/market/open-interest', () =>
    fuzzPath(h.sim(), 'bybit', '/v5/market/open-interest', () =>
      all(client.openInterest({ ...range, interval: '5m' })),
    ));
  it('/v5/market/account-ratio', () =>
    fuzzPath(h.sim(), 'bybit', '/v5/market/account-ratio', () =>
      all(client.longShortRatio({ ...range, interval: '5m' })),
    ));
  it('/v5/market/instruments-info', () =>
    fuzzPath(h.sim(), 'bybit', '/v5/market/instruments-info', () => client.instruments()));
  it('/v5/market/time', () =>
    fuzzPath(h.sim(), 'bybit', '/v5/market/time', async () => [await client.serverTime()]));
});
