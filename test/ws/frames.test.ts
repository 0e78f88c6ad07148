/** The venue protocols against REAL recorded frames (copied from the shared reference payloads). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { binanceProtocol } from '../../src/clients/binance/ws.js';
import * as binanceRaw from '../../src/clients/binance/ws-schemas.js';
import { bybitProtocol } from '../../src/clients/bybit/ws.js';
import * as bybitRaw from '../../src/clients/bybit/ws-schemas.js';
import * as okxRestRaw from '../../src/clients/okx/schemas.js';
import { okxProtocol, okxTopic } from '../../src/clients/okx/ws.js';
import { backoffDelay } from '../../src/clients/transport/backoff.js';
import { TypedEmitter } from '../../src/clients/ws/emitter.js';
import { BoundedQueue } from '../../src/clients/ws/queue.js';
import { shardTopics } from '../../src/clients/ws/stream.js';
import type { WsFrame } from '../../src/clients/ws/types.js';
import { batchByLength } from '../../src/clients/ws/venue.js';
import { binanceWsCandle, binanceWsLiquidation } from '../../src/normalize/binance.js';
import { bybitWsCandle, bybitWsLiquidation } from '../../src/normalize/bybit.js';
import { decodeOkxCandles, okxCandles, okxWsCandle } from '../../src/normalize/okx.js';
import { instrument } from './helpers.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8');
/** The wire form: compact JSON. */
const wire = (name: string): string => JSON.stringify(JSON.parse(fixture(name)));

const btc = instrument('binance', 'BTCUSDT', 'BTC');
const passthrough = <T>(payload: Record<string, unknown>): WsFrame<T> =>
  ({ type: 'data', topic: 'x', records: [payload as T] }) as WsFrame<T>;

describe('binance frames', () => {
  const protocol = binanceProtocol<Record<string, unknown>>('wss://fstream.binance.com', passthrough);

  it('default: socket on the /market path; control answers are acks or refusals', () => {
    expect(protocol.url).toBe('wss://fstream.binance.com/market/ws');
    expect(protocol.decode('{"result":null,"id":1}')).toEqual([{ type: 'ack', id: '1' }]);
    expect(protocol.decode('{"error":{"code":2,"msg":"Invalid request"},"id":7}')).toEqual([
      { type: 'refused', id: '7', message: 'Invalid request', code: 2 },
    ]);
  });

  it('default: subscribe requests stay within 200 streams and name their ids', () => {
    let id = 0;
    const topics = Array.from({ length: 450 }, (_, i) => `s${i}usdt@kline_1m`);
    const requests = protocol.subscribe(topics, () => String(++id));
    expect(requests.map((r) => r.topics.length)).toEqual([200, 200, 50]);
    expect(JSON.parse(requests[0]!.message)).toMatchObject({ method: 'SUBSCRIBE', id: 1 });
  });

  it('default: the recorded closed kline, with its ", " separators inside k, to a candle', () => {
    // The recording notes the raw bytes carry ", " between keys inside `k` only.
    const text = wire('binance-ws-kline-combined').replace(
      /"k":\{(.*)\}\}\}$/,
      (_m, body: string) => `"k":{${body.split(',"').join(', "')}}}}`,
    );
    expect(text).toContain('"t":1786173300000, "T"');
    const [frame] = protocol.decode(text);
    const payload = (frame as unknown as { records: Record<string, unknown>[] }).records[0]!;
    const event = binanceRaw.klineEvent.parse(payload);
    expect(event.k.x).toBe(true);
    expect(binanceWsCandle(event.k, { instrument: btc, interval: '1m' })).toEqual({
      source: 'binance',
      exchange: 'binance',
      symbol: 'BTC',
      interval: '1m',
      ts: 1786173300000,
      open: 64970.8,
      high: 64970.9,
      low: 64969.4,
      close: 64969.4,
      volume: 9.09,
      quoteVolume: 590577.9688,
      trades: 194,
      takerBuyVolume: 3.46,
    });
  });

  it('default: markPrice frames with the undocumented ap/st validate', () => {
    for (const name of ['binance-ws-markPrice-combined', 'binance-ws-markPrice-combined-2']) {
      const payload = (JSON.parse(fixture(name)) as { data: unknown }).data;
      expect(binanceRaw.markPriceEvent.safeParse(payload).success).toBe(true);
    }
  });

  it('default: forceOrder SELL is a long liquidated; notional = filled qty × average price', () => {
    const payload = (JSON.parse(fixture('binance-ws-forceOrder-combined')) as { data: unknown }).data;
    const event = binanceRaw.forceOrderEvent.parse(payload);
    const liq = binanceWsLiquidation(event.o, btc);
    expect(liq.side).toBe('long');
    expect(liq.usd).toBeCloseTo(0.19 * 82651.9, 6);
    const rawEvent = binanceRaw.forceOrderEvent.parse(JSON.parse(fixture('binance-ws-forceOrder-raw')));
    expect(binanceWsLiquidation(rawEvent.o, instrument('binance', 'MANTAUSDT', 'MANTA')).side).toBe('long');
  });
});

describe('bybit frames', () => {
  const protocol = bybitProtocol<unknown>('wss://stream.bybit.com', (p) => ({
    type: 'data',
    topic: p.topic,
    records: [p],
  }));

  it('default: the recorded subscribe error names its topic; the pong is a pong', () => {
    expect(protocol.url).toBe('wss://stream.bybit.com/v5/public/linear');
    const [refused] = protocol.decode(wire('bybit-ws-subscribe-error-testnet'));
    expect(refused).toMatchObject({ type: 'refused', topics: ['liquidations:BTCUSDT'] });
    expect(
      protocol.decode('{"success":true,"ret_msg":"pong","conn_id":"x","req_id":"","op":"ping"}'),
    ).toEqual([{ type: 'pong' }]);
  });

  it('default: subscribe args stay under 21,000 characters', () => {
    const topics = Array.from({ length: 3_000 }, (_, i) => `kline.1.SYMBOL${i}USDT`);
    const requests = protocol.subscribe(topics, () => '1');
    for (const r of requests)
      expect(JSON.stringify(JSON.parse(r.message).args).length).toBeLessThanOrEqual(21_000);
    expect(requests.flatMap((r) => r.topics)).toEqual(topics);
  });

  it('default: recorded kline and allLiquidation rows normalise (Buy = long liquidated)', () => {
    const k = JSON.parse(fixture('bybit-ws-kline')) as { data: unknown[] };
    const row = bybitRaw.klineRow.parse(k.data[0]);
    expect(row.confirm).toBe(false);
    expect(
      bybitWsCandle(row, { instrument: instrument('bybit', 'BTCUSDT', 'BTC'), interval: '1m' }),
    ).toMatchObject({
      ts: 1719667560000,
      close: 61029.9,
      volume: 10.798,
    });
    const liq = JSON.parse(fixture('bybit-ws-allLiquidation')) as { data: unknown[] };
    const events = liq.data.map((r) =>
      bybitWsLiquidation(bybitRaw.liquidationRow.parse(r), instrument('bybit', 'BTCUSDT', 'BTC')),
    );
    expect(events.map((e) => e.side)).toEqual(['long', 'long']);
    expect(events[0]!.usd).toBeCloseTo(0.006 * 82396.9, 6);
  });

  it('default: recorded tickers snapshot and deltas validate', () => {
    for (const name of ['bybit-ws-tickers-snapshot', 'bybit-ws-tickers-delta', 'bybit-ws-tickers-delta-3']) {
      const push = bybitRaw.push.parse(JSON.parse(fixture(name)));
      expect(bybitRaw.tickerData.safeParse(push.data).success).toBe(true);
    }
  });
});

describe('okx frames', () => {
  const protocol = okxProtocol<unknown>('wss://ws.okx.com:8443', '/ws/v5/business', (p) => ({
    type: 'data',
    topic: okxTopic(p.arg),
    records: p.data,
  }));

  it('default: the plain-text pong is handled before JSON.parse', () => {
    expect(protocol.decode('pong')).toEqual([{ type: 'pong' }]);
    expect(protocol.heartbeat).toMatchObject({ mode: 'idle', message: 'ping' });
  });

  it('error: the recorded 60018 (candle channel on /public) names the refused topic', () => {
    const [frame] = protocol.decode(wire('okx-ws-error-60018-candle-on-public-socket'));
    expect(frame).toMatchObject({
      type: 'refused',
      code: '60018',
      topics: ['candle1m:BTC-USDT'],
      unknownSymbol: true,
    });
  });

  it('default: the recorded candle row normalises; volume from volCcy', () => {
    const [frame] = protocol.decode(wire('okx-ws-candle.doc-example'));
    const row = (
      frame as unknown as {
        records: [string, string, string, string, string, string, string, string, string][];
      }
    ).records[0]!;
    expect(
      okxWsCandle(row, { instrument: instrument('okx', 'BTC-USDT', 'BTC'), interval: '1d' }),
    ).toMatchObject({
      ts: 1597026383085,
      open: 8533.02,
      close: 8548.26,
      volume: 529.5858061,
    });
  });

  it('behavior: volCcy "" falls back to vol x ctVal on REST (rows and bytes) and live alike', () => {
    // candles-1H.json (recorded 2026-08-15) with volCcy blanked, as the venue leaves it on some instruments.
    const text = readFileSync(
      new URL('../fixtures/okx/candles-1H-volccy-empty.json', import.meta.url),
      'utf8',
    );
    const body = okxRestRaw.candles.parse(JSON.parse(text));
    const swap = { ...instrument('okx', 'BTC-USDT-SWAP', 'BTC'), contractSize: 0.01 };
    const ctx = { instrument: swap, interval: '1h' } as const;
    const rest = okxCandles(body.data, ctx);
    expect(rest).toEqual([
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
        volume: 32101.18 * 0.01,
        quoteVolume: 20234523.14448,
      },
    ]);
    expect(decodeOkxCandles(new TextEncoder().encode(text), ctx)).toEqual(rest);
    const business = okxProtocol<unknown>('wss://ws.okx.com:8443', '/ws/v5/business', (p) => ({
      type: 'data',
      topic: okxTopic(p.arg),
      records: p.data.map((row) => okxWsCandle(row as Parameters<typeof okxWsCandle>[0], ctx)),
    }));
    const push = JSON.stringify({
      arg: { channel: 'candle1H', instId: 'BTC-USDT-SWAP' },
      data: (JSON.parse(text) as { data: unknown[] }).data.slice(1),
    });
    expect(business.decode(push)).toEqual([{ type: 'data', topic: 'candle1H:BTC-USDT-SWAP', records: rest }]);
  });

  it('default: args of one request stay within 64 KB; 480 requests an hour', () => {
    const topics = Array.from({ length: 3_000 }, (_, i) => `candle1m:COIN${i}-USDT-SWAP`);
    const requests = protocol.subscribe(topics, () => '1');
    for (const r of requests)
      expect(JSON.stringify(JSON.parse(r.message).args).length).toBeLessThanOrEqual(64 * 1024);
    expect(requests.flatMap((r) => r.topics)).toEqual(topics);
    expect(protocol.sendLimits).toEqual([{ limit: 480, intervalMs: 3_600_000, subscribeOnly: true }]);
  });
});

describe('base pieces', () => {
  it('backoff: exponential, jittered between half and all of the ceiling, capped', () => {
    expect(backoffDelay(0, { initialMs: 1000 }, () => 0)).toBe(500);
    expect(backoffDelay(3, { initialMs: 1000 }, () => 1)).toBe(8000);
    expect(backoffDelay(20, { initialMs: 1000, maxMs: 60_000 }, () => 0.5)).toBe(45_000);
  });

  it('queue: bounded; push answers false when full; waiting readers get the next item', async () => {
    const q = new BoundedQueue<number>(2);
    const waiting = q.next();
    expect(q.push(1)).toBe(true);
    expect(await waiting).toEqual({ value: 1, done: false });
    expect([q.push(2), q.push(3), q.push(4)]).toEqual([true, true, false]);
    q.end();
    expect([await q.next(), await q.next(), await q.next()]).toEqual([
      { value: 2, done: false },
      { value: 3, done: false },
      { value: undefined, done: true },
    ]);
  });

  it('emitter: an error event without listeners is not fatal; a throwing listener is contained', () => {
    const caught: unknown[] = [];
    const emitter = new TypedEmitter<{ error: { message: string } }>((e) => caught.push(e));
    expect(() => emitter.emit('error', { message: 'x' })).not.toThrow();
    emitter.on('error', () => {
      throw new Error('listener');
    });
    expect(() => emitter.emit('error', { message: 'y' })).not.toThrow();
    expect(caught).toHaveLength(1);
  });

  it('sharding and batching', () => {
    expect(
      shardTopics(
        Array.from({ length: 2_000 }, (_, i) => i),
        1024,
      ).map((s) => s.length),
    ).toEqual([1024, 976]);
    expect(batchByLength(['aaaa', 'bbbb', 'cccc'], 15)).toEqual([['aaaa', 'bbbb'], ['cccc']]);
  });
});
