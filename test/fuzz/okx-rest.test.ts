/** Fuzz: drifted OKX REST answers, endpoint by endpoint, through `OkxClient`. */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { OkxClient } from '../../src/clients/okx/rest.js';
import { all, fuzzPath, HOUR, restHarness, T } from './rest.js';

const h = restHarness();
let client: OkxClient;
beforeAll(async () => {
  client = new OkxClient(h.options('okx'));
  await client.registry();
});
afterAll(() => client.close());

const range = { symbol: 'BTC', from: T - 2 * HOUR, to: T - HOUR };
const RUBIK = '/api/v5/rubik/stat/contracts';

describe('fuzz: okx REST', () => {
  it('/api/v5/market/history-candles', () =>
    fuzzPath(h.sim(), 'okx', '/api/v5/market/history-candles', () =>
      all(client.candles({ ...range, interval: '1m' })),
    ));
  it('/api/v5/public/funding-rate-history', () =>
    fuzzPath(h.sim(), 'okx', '/api/v5/public/funding-rate-history', () =>
      all(client.funding({ symbol: 'BTC', from: T - 48 * HOUR, to: T })),
    ));
  it('/api/v5/public/funding-rate', () =>
    fuzzPath(h.sim(), 'okx', '/api/v5/public/funding-rate', () =>
      all(client.predictedFunding({ symbol: 'BTC' })),
    ));
  it(`${RUBIK}/open-interest-history`, () =>
    fuzzPath(h.sim(), 'okx', `${RUBIK}/open-interest-history`, () =>
      all(client.openInterest({ ...range, interval: '5m' })),
    ));
  for (const [kind, path] of [
    ['global', `${RUBIK}/long-short-account-ratio-contract`],
    ['topAccount', `${RUBIK}/long-short-account-ratio-contract-top-trader`],
    ['topPosition', `${RUBIK}/long-short-position-ratio-contract-top-trader`],
  ] as const) {
    it(path, () =>
      fuzzPath(h.sim(), 'okx', path, () => all(client.longShortRatio({ ...range, interval: '5m', kind }))),
    );
  }
  it('/api/v5/rubik/stat/taker-volume-contract', () =>
    fuzzPath(h.sim(), 'okx', '/api/v5/rubik/stat/taker-volume-contract', () =>
      all(client.takerVolume({ ...range, interval: '5m' })),
    ));
  it('/api/v5/public/instruments', () =>
    fuzzPath(h.sim(), 'okx', '/api/v5/public/instruments', () => client.instruments()));
  it('/api/v5/public/time', () =>
    fuzzPath(h.sim(), 'okx', '/api/v5/public/time', async () => [await client.serverTime()]));
});
