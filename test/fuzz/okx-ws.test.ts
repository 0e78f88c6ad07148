/** Fuzz: drifted OKX stream frames through the decoders of `OkxStreams`. */
import { describe, it, vi } from 'vitest';
import { OkxStreams } from '../../src/clients/okx/ws.js';
import { frame, fuzzFrames, protocolOf, registry } from './ws.js';

vi.mock('../../src/clients/ws/venue.js', async (original) => ({
  ...(await original<typeof import('../../src/clients/ws/venue.js')>()),
  openStream: (_venue: unknown, _context: unknown, _params: unknown, plan: unknown) => ({ plan }),
}));

const streams = new OkxStreams({ registry });

describe('fuzz: okx WebSocket', () => {
  it('candle1m', async () => {
    const protocol = await protocolOf(streams.candles({ symbols: ['BTC'], interval: '1m' }));
    const base = frame('okx-ws-candle.doc-example') as { arg: Record<string, string>; data: string[][] };
    base.arg = { channel: 'candle1m', instId: 'BTC-USDT-SWAP' };
    base.data[0]![8] = '1';
    fuzzFrames(protocol, 'okx', base);
  });
  it('funding-rate', async () => {
    const protocol = await protocolOf(streams.funding({ symbols: ['BTC'] }));
    fuzzFrames(protocol, 'okx', frame('okx-ws-funding-rate'));
  });
  it('open-interest', async () => {
    const protocol = await protocolOf(streams.openInterest({ symbols: ['BTC'] }));
    fuzzFrames(protocol, 'okx', frame('okx-ws-open-interest'));
  });
  it('liquidation-orders', async () => {
    const protocol = await protocolOf(streams.liquidations({ symbols: ['BTC'] }));
    fuzzFrames(protocol, 'okx', frame('okx-ws-liquidation-orders'));
  });
  it('events', async () => {
    const protocol = await protocolOf(streams.candles({ symbols: ['BTC'], interval: '1m' }));
    fuzzFrames(protocol, 'okx', frame('okx-ws-error-60018-candle-on-public-socket'), false);
  });
});
