/** Fuzz: drifted Bybit stream frames through the decoders of `BybitStreams`. */
import { describe, it, vi } from 'vitest';
import { BybitStreams } from '../../src/clients/bybit/ws.js';
import { frame, fuzzFrames, protocolOf, registry } from './ws.js';

vi.mock('../../src/clients/ws/venue.js', async (original) => ({
  ...(await original<typeof import('../../src/clients/ws/venue.js')>()),
  openStream: (_venue: unknown, _context: unknown, _params: unknown, plan: unknown) => ({ plan }),
}));

const streams = new BybitStreams({ registry });

describe('fuzz: bybit WebSocket', () => {
  it('kline', async () => {
    const protocol = await protocolOf(streams.candles({ symbols: ['BTC'], interval: '1m' }));
    const base = frame('bybit-ws-kline') as { data: Record<string, unknown>[] };
    base.data[0]!.confirm = true;
    fuzzFrames(protocol, 'bybit', base);
  });
  it('tickers (funding)', async () => {
    const protocol = await protocolOf(streams.funding({ symbols: ['BTC'] }));
    fuzzFrames(protocol, 'bybit', frame('bybit-ws-tickers-snapshot'));
    fuzzFrames(protocol, 'bybit', frame('bybit-ws-tickers-delta'), false);
  });
  it('tickers (open interest)', async () => {
    const protocol = await protocolOf(streams.openInterest({ symbols: ['BTC'] }));
    fuzzFrames(protocol, 'bybit', frame('bybit-ws-tickers-snapshot'));
  });
  it('allLiquidation', async () => {
    const protocol = await protocolOf(streams.liquidations({ symbols: ['BTC'] }));
    fuzzFrames(protocol, 'bybit', frame('bybit-ws-allLiquidation'));
  });
  it('op answers', async () => {
    const protocol = await protocolOf(streams.candles({ symbols: ['BTC'], interval: '1m' }));
    fuzzFrames(protocol, 'bybit', frame('bybit-ws-subscribe-error-testnet'), false);
  });
});
