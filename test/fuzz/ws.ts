/**
 * The WebSocket half of the fuzz suites: recorded frames (test/ws/fixtures), drifted, through the
 * frame decoder of a real stream (`BinanceStreams.candles()` and the others), reached without a socket:
 * each suite file mocks `openStream` to hand back the stream's plan, whose protocol decodes the text.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { WsProtocol } from '../../src/clients/ws/types.js';
import { SymbolRegistry } from '../../src/normalize/symbols.js';
import { applyDrift, drifts, expectContained, expectFiniteRecords, RUNS } from './drift.js';

/** The socket paths each venue's errors may name. */
export const SOCKET_PATHS = {
  binance: ['/market/ws'],
  bybit: ['/v5/public/linear'],
  okx: ['/ws/v5/business', '/ws/v5/public'],
} as const;

/** A recorded frame of test/ws/fixtures, parsed. */
export function frame(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../ws/fixtures/${name}.json`, import.meta.url), 'utf8'));
}

/** BTC on every venue (OKX: ctVal 0.01). */
export const registry = new SymbolRegistry([
  { exchange: 'binance', instrument: 'BTCUSDT', symbol: 'BTC', quote: 'USDT', multiplier: 1 },
  { exchange: 'bybit', instrument: 'BTCUSDT', symbol: 'BTC', quote: 'USDT', multiplier: 1 },
  {
    exchange: 'okx',
    instrument: 'BTC-USDT-SWAP',
    symbol: 'BTC',
    quote: 'USDT',
    multiplier: 1,
    contractSize: 0.01,
  },
]);

/** The protocol of a stream opened while `openStream` is mocked to return `{ plan }`. */
export async function protocolOf(stream: unknown): Promise<WsProtocol<unknown>> {
  const { plan } = stream as { plan: () => Promise<{ connections: { protocol: WsProtocol<unknown> }[] }> };
  const { connections } = await plan();
  return connections[0]!.protocol;
}

/** The frames' records, when `decode` yields data. */
function records(frames: readonly { type: string }[]): unknown[] {
  return frames.flatMap((f) => (f.type === 'data' ? (f as unknown as { records: unknown[] }).records : []));
}

/**
 * Drifts `base` (and cuts its text short) and decodes it: finite records, or a perpdata error naming
 * `venue` and one of its socket paths. `expectData`: the undrifted frame must yield records.
 */
export function fuzzFrames(
  protocol: WsProtocol<unknown>,
  venue: keyof typeof SOCKET_PATHS,
  base: unknown,
  expectData = true,
): void {
  const decode = (text: string): unknown => {
    try {
      expectFiniteRecords(records(protocol.decode(text)));
      return undefined;
    } catch (error) {
      return error;
    }
  };
  if (expectData && records(protocol.decode(JSON.stringify(base))).length === 0)
    throw new Error('the undrifted frame yields no records: the suite would test nothing');
  const seed = Number(process.env.PERPDATA_FUZZ_SEED ?? 20240601);
  fc.assert(
    fc.property(drifts, (plan) => {
      expectContained(decode(JSON.stringify(applyDrift(base, plan))), venue, SOCKET_PATHS[venue], []);
    }),
    { numRuns: RUNS * 5, seed },
  );
  const text = JSON.stringify(base);
  fc.assert(
    fc.property(fc.nat({ max: text.length - 1 }), (cut) => {
      expectContained(decode(text.slice(0, cut)), venue, SOCKET_PATHS[venue], []);
    }),
    { numRuns: RUNS, seed },
  );
}
