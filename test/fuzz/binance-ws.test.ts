/** Fuzz: drifted Binance stream frames through the decoders of `BinanceStreams`. */
import { describe, it, vi } from 'vitest';
import { BinanceStreams } from '../../src/clients/binance/ws.js';
import { frame, fuzzFrames, protocolOf, registry } from './ws.js';

vi.mock('../../src/clients/ws/venue.js', async (original) => ({
  ...(await original<typeof import('../../src/clients/ws/venue.js')>()),
  openStream: (_venue: unknown, _context: unknown, _params: unknown, plan: unknown) => ({ plan }),
}));

const streams = new BinanceStreams({ registry });

describe('fuzz: binance WebSocket', () => {
  it('kline', async () => {
    const protocol = await protocolOf(streams.candles({ symbols: ['BTC'], interval: '1m' }));
    fuzzFrames(protocol, 'binance', frame('binance-ws-kline-combined'));
  });
  it('markPrice', async () => {
    const protocol = await protocolOf(streams.funding({ symbols: ['BTC'] }));
    fuzzFrames(protocol, 'binance', frame('binance-ws-markPrice-combined'));
  });
  it('forceOrder', async () => {
    const protocol = await protocolOf(streams.liquidations({ symbols: ['BTC'] }));
    fuzzFrames(protocol, 'binance', frame('binance-ws-forceOrder-combined'));
  });
  it('control answers', async () => {
    const protocol = await protocolOf(streams.candles({ symbols: ['BTC'], interval: '1m' }));
    fuzzFrames(protocol, 'binance', { error: { code: 2, msg: 'Invalid request' }, id: 7 }, false);
  });
});
