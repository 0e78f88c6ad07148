/**
 * The README's "Testing your bot with perpdata/testing", kept here so the type checker compiles it.
 * Runs offline: `npx tsx examples/testing.ts`. In your own project import from `perpdata` and
 * `perpdata/testing` (with `msw` and `ws` installed as dev dependencies).
 */
import assert from 'node:assert/strict';
import { BinanceClient, type Candle, OkxClient, ValidationError } from '../src/index.js';
import { simulateVenues } from '../src/testing/index.js';

const MINUTE = 60_000;

/** The bot under test: the last `hours` of closed 1m candles. */
async function recentCandles(client: BinanceClient | OkxClient, symbol: string, to: number, hours: number) {
  const candles: Candle[] = [];
  for await (const page of client.candles({ symbol, interval: '1m', from: to - hours * 60 * MINUTE, to })) {
    candles.push(...page);
  }
  return candles;
}

const sim = await simulateVenues({ clock: { start: '2024-06-01T12:00:00Z', speed: 60 } }); // a minute a second
sim.faults.errorRate(0.05, { seed: 1 }); // 5% of requests answer 503: the clients retry them
sim.faults.resetNext(1, { venue: 'okx' }); // one connection reset
const binance = new BinanceClient(sim.clientOptions('binance'));
const okx = new OkxClient(sim.clientOptions('okx'));
try {
  const to = Math.floor(sim.clock.now() / MINUTE) * MINUTE; // the forming minute is never served
  for (const client of [binance, okx]) {
    const candles = await recentCandles(client, 'BTC', to, 6);
    assert.equal(candles.length, 360);
    for (const c of candles) assert.equal(c.close, sim.market.candle('BTC', c.ts, MINUTE).close);
  }
  // A venue that changes its payload: the client refuses it instead of storing garbage.
  sim.faults.drift('binance', '/fapi/v1/fundingRate', (rows) =>
    (rows as Record<string, unknown>[]).map(({ fundingRate: _, ...row }) => row),
  );
  await assert.rejects(async () => {
    for await (const _ of binance.funding({ symbol: 'BTC', from: to - 86_400_000, to }));
  }, ValidationError);
  console.log(
    `ok: ${sim.stats.requests()} requests, ${sim.stats.requests('binance', '/fapi/v1/klines')} kline pages`,
  );
} finally {
  await Promise.all([binance.close(), okx.close()]);
  await sim.close();
}
