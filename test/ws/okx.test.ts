import { afterEach, describe, expect, it } from 'vitest';
import { OkxStreams } from '../../src/clients/okx/ws.js';
import { UnknownSymbolError } from '../../src/core/errors.js';
import { SymbolRegistry } from '../../src/normalize/symbols.js';
import { SyntheticMarket } from '../../src/testing/market.js';
import { OkxWsServer } from '../../src/testing/ws/okx.js';
import {
  atLeast,
  expectCompleteSeries,
  instrument,
  MINUTE,
  marketFetcher,
  record,
  SPEED,
  STRICT_SPEED,
  TEST_TIMING,
  take,
  testClock,
} from './helpers.js';

const market = new SyntheticMarket();
const INSTRUMENTS = {
  'BTC-USDT-SWAP': { symbol: 'BTC', ctVal: 0.01 },
  'ETH-USDT-SWAP': { symbol: 'ETH', ctVal: 0.1 },
  'PEPE-USDT-SWAP': { symbol: 'PEPE', ctVal: 10_000_000 },
};
const SYMBOLS = ['BTC', 'ETH', 'PEPE'];

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

async function setup(extra: { SHIB?: boolean; speed?: number } = {}) {
  const clock = testClock(extra.speed);
  const ws = await new OkxWsServer({ clock, market, instruments: INSTRUMENTS }).start();
  cleanup.push(() => ws.close());
  const entries = Object.entries(INSTRUMENTS).map(([id, i]) => instrument('okx', id, i.symbol, 1, i.ctVal));
  if (extra.SHIB) entries.push(instrument('okx', 'SHIB-USDT-SWAP', 'SHIB', 1, 1_000_000));
  const calls: { symbol: string; from: number; to: number }[] = [];
  const streams = new OkxStreams({
    wsUrl: ws.url,
    registry: new SymbolRegistry(entries),
    fetchClosed: () => marketFetcher(market, 'okx', calls),
  });
  return { clock, ws, streams, calls };
}

describe('okx watchCandles', () => {
  it('default: closed candles (confirm "1") from /ws/v5/business; text ping/pong keeps the socket', async () => {
    const { streams, clock, ws } = await setup({ speed: STRICT_SPEED });
    const stream = streams.candles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    const candles = await take(stream, atLeast(SYMBOLS, 3));
    expectCompleteSeries(candles, SYMBOLS, market);
    expect(candles[0]).toMatchObject({ source: 'okx', exchange: 'okx', interval: '1m' });
    expect(ws.pings).toBeGreaterThanOrEqual(2);
    expect(ws.idleCuts).toBe(0);
    expect(events.error).toHaveLength(0); // the plain-text pong is not a malformed frame
    expect(events.reconnecting).toHaveLength(0);
  });

  it('behavior: the upgrade notice triggers an immediate reconnect, resubscribe and gap fill', async () => {
    const { streams, clock, ws } = await setup();
    const stream = streams.candles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    const two = atLeast(SYMBOLS, 2);
    const six = atLeast(SYMBOLS, 6);
    let noticed = false;
    const candles = await take(stream, (items) => {
      if (!noticed && two(items)) {
        noticed = true;
        ws.notice();
      }
      return six(items);
    });
    expectCompleteSeries(candles, SYMBOLS, market);
    expect(events.reconnecting[0]).toMatchObject({ reason: 'notice', delayMs: 0 });
    expect(events.reconnected.length).toBeGreaterThanOrEqual(1);
  });

  it('behavior: a stall and a drop both end in a complete series', async () => {
    const { streams, clock, ws } = await setup();
    const stream = streams.candles({ symbols: SYMBOLS, interval: '1m', clock, ...TEST_TIMING });
    const events = record(stream);
    const two = atLeast(SYMBOLS, 2);
    const four = atLeast(SYMBOLS, 4);
    const eight = atLeast(SYMBOLS, 8);
    let phase = 0;
    const candles = await take(stream, (items) => {
      if (phase === 0 && two(items)) {
        phase = 1;
        ws.server.stalled = true;
        setTimeout(
          () => {
            ws.server.stalled = false;
          },
          (3 * MINUTE) / SPEED,
        );
      }
      if (phase === 1 && four(items)) {
        phase = 2;
        ws.server.refuseNext(2);
        ws.server.dropAll();
      }
      return eight(items);
    });
    expectCompleteSeries(candles, SYMBOLS, market);
    // The unanswered ping (dead socket, 40 s) or the missed candle cadence (stall), whichever comes first.
    expect(events.reconnecting.some((e) => e.reason === 'dead' || e.reason === 'stall')).toBe(true);
    expect(events.gapFilled.length).toBeGreaterThan(0);
  });

  it('error: an instrument the venue does not list is refused (60018) as a typed error; others flow', async () => {
    const { streams, clock } = await setup({ SHIB: true });
    const stream = streams.candles({
      symbols: ['BTC', 'SHIB', 'ETH'],
      interval: '1m',
      clock,
      ...TEST_TIMING,
    });
    const events = record(stream);
    const candles = await take(stream, atLeast(['BTC', 'ETH'], 3));
    expectCompleteSeries(candles, ['BTC', 'ETH'], market);
    expect(events.error).toHaveLength(1);
    expect(events.error[0]!.error).toBeInstanceOf(UnknownSymbolError);
    expect(events.error[0]).toMatchObject({ symbol: 'SHIB', topic: 'candle1m:SHIB-USDT-SWAP' });
  });
});

describe('okx public channels', () => {
  it('watchFunding and watchOpenInterest on /ws/v5/public', async () => {
    const { streams, clock, ws } = await setup();
    const funding = streams.funding({ symbols: ['BTC'], clock, ...TEST_TIMING });
    const settle = Date.UTC(2024, 5, 1, 8);
    funding.on('connected', () => {
      setTimeout(() => {
        ws.pushFunding('BTC-USDT-SWAP', '0.0000263463215391', settle);
        ws.pushFunding('BTC-USDT-SWAP', '0.0000263463215391', settle);
        ws.pushFunding('BTC-USDT-SWAP', '-0.0001', settle);
      }, 30);
    });
    const rates = await take(funding, (items) => items.length >= 2);
    expect(rates.map((r) => r.rate)).toEqual([0.0000263463215391, -0.0001]);
    expect(rates[0]).toMatchObject({ exchange: 'okx', symbol: 'BTC', nextFundingTime: settle });

    const oi = streams.openInterest({ symbols: ['ETH'], clock, ...TEST_TIMING });
    oi.on('connected', () => {
      setTimeout(() => {
        const t = Math.floor(clock.now() / MINUTE) * MINUTE;
        ws.pushOpenInterest('ETH-USDT-SWAP', 1000, t + 1_000);
        ws.pushOpenInterest('ETH-USDT-SWAP', 1200, t + 2_000);
        ws.pushOpenInterest('ETH-USDT-SWAP', 1300, t + MINUTE + 1_000);
      }, 30);
    });
    const [row] = await take(oi, (items) => items.length >= 1);
    expect(row).toMatchObject({
      symbol: 'ETH',
      openInterest: 1200,
      openInterestUsd: 120_000,
      interval: '1m',
    });
    expect(row!.ts % MINUTE).toBe(0);
  });

  it('watchLiquidations: by instType, sz × ctVal × bkPx, side "sell" = longs liquidated', async () => {
    const { streams, clock, ws } = await setup();
    const stream = streams.liquidations({ symbols: ['BTC'], clock, ...TEST_TIMING });
    stream.on('connected', () => {
      setTimeout(() => {
        const t = clock.now();
        ws.pushLiquidation('BTC-USDT-SWAP', 'sell', '8.55', '80000', t);
        ws.pushLiquidation('BTC-USDT-SWAP', 'buy', '1', '80000', t);
        ws.pushLiquidation('ETH-USDT-SWAP', 'sell', '5', '3000', t); // not asked for
      }, 20);
    });
    const rows = await take(stream, (items) => items.length >= 1);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.longUsd).toBeCloseTo(8.55 * 0.01 * 80_000, 6);
    expect(rows[0]!.shortUsd).toBeCloseTo(800, 6);
  });
});
