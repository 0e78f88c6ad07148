/** Fuzz: drifted Coinalyze REST answers, endpoint by endpoint, through `CoinalyzeClient` (its API key is a secret). */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CoinalyzeClient } from '../../src/clients/coinalyze/rest.js';
import { all, fuzzPath, HOUR, restHarness, T } from './rest.js';

const h = restHarness();
let client: CoinalyzeClient;
beforeAll(async () => {
  client = new CoinalyzeClient(h.options('coinalyze'));
  await client.registry();
});
afterAll(() => client.close());

const range = { symbol: 'BTC', interval: '1h', from: T - 12 * HOUR, to: T - HOUR } as const;

describe('fuzz: coinalyze REST', () => {
  it('/ohlcv-history', () =>
    fuzzPath(h.sim(), 'coinalyze', '/ohlcv-history', () => all(client.candles(range))));
  it('/open-interest-history', () =>
    fuzzPath(h.sim(), 'coinalyze', '/open-interest-history', () =>
      all(client.openInterest({ ...range, usd: true })),
    ));
  it('/funding-rate-history', () =>
    fuzzPath(h.sim(), 'coinalyze', '/funding-rate-history', () =>
      all(client.funding({ ...range, interval: '4h', from: T - 48 * HOUR })),
    ));
  it('/predicted-funding-rate-history', () =>
    fuzzPath(h.sim(), 'coinalyze', '/predicted-funding-rate-history', () =>
      all(client.predictedFunding(range)),
    ));
  it('/liquidation-history', () =>
    fuzzPath(h.sim(), 'coinalyze', '/liquidation-history', () => all(client.liquidations(range))));
  it('/long-short-ratio-history', () =>
    fuzzPath(h.sim(), 'coinalyze', '/long-short-ratio-history', () => all(client.longShortRatio(range))));
  it('/open-interest', () =>
    fuzzPath(h.sim(), 'coinalyze', '/open-interest', () =>
      client.snapshot('openInterest', { symbol: 'BTC' }),
    ));
  it('/future-markets', () => fuzzPath(h.sim(), 'coinalyze', '/future-markets', () => client.instruments()));
});
