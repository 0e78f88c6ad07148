import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinanceClient } from '../../src/clients/index.js';
import { Sync } from '../../src/pipeline/index.js';
import { MemoryStorage } from '../../src/storage/index.js';
import { createBinanceSimulator } from '../../src/testing/binance.js';
import { type LocalServer, startLocalServer } from '../../src/testing/http.js';
import { SyntheticMarket } from '../../src/testing/market.js';

const MINUTE = 60_000;
const NOW = Date.UTC(2026, 10, 20, 12, 0, 30);
const FROM = NOW - 86_400_000;
const HOLE = { symbol: 'BTC', from: Date.UTC(2026, 10, 20, 3, 0), to: Date.UTC(2026, 10, 20, 3, 25) };

let server: LocalServer;
let requests: string[] = [];
beforeAll(async () => {
  const market = new SyntheticMarket({ holes: [HOLE] });
  const sim = createBinanceSimulator(market, {
    now: () => NOW,
    intercept: (url) => {
      requests.push(url.pathname);
      return undefined;
    },
  });
  server = await startLocalServer(sim.handler);
});
afterAll(() => server.close());

describe('Sync.backfill (unit, MemoryStorage)', () => {
  it('behavior: fills candles and funding, records the hole as empty, resumes with tail requests only', async () => {
    const storage = new MemoryStorage();
    const binance = new BinanceClient({ baseUrl: server.url, now: () => NOW });
    const sync = new Sync({
      storage,
      clients: [binance],
      symbols: ['BTC', 'ETH', 'NOPE'],
      kinds: ['candles', 'funding'],
      from: FROM,
      now: () => NOW,
      derive: { rsi: [14] },
    });
    const gaps: unknown[] = [];
    sync.on('gap', (g) => gaps.push(g));
    const report = await sync.backfill();
    const byId = new Map(report.series.map((s) => [s.id, s]));
    expect(byId.get('binance:candles:NOPE:1m')?.outcome).toBe('unlisted');
    const btc = byId.get('binance:candles:BTC:1m');
    expect(btc?.outcome).toBe('done');
    const key = { source: 'binance', exchange: 'binance', symbol: 'BTC', interval: '1m' } as const;
    const rows: number[] = [];
    for await (const page of storage.read('candles', key, FROM, NOW)) for (const c of page) rows.push(c.ts);
    const expected = (NOW - (NOW % MINUTE) - (FROM - (FROM % MINUTE) + MINUTE)) / MINUTE - 25;
    expect(rows.length).toBe(expected);
    const ledger = await storage.coverage('candles', key);
    expect(ledger.filter((c) => c.state === 'empty').map((c) => [c.from, c.to])).toEqual([
      [HOLE.from, HOLE.to],
    ]);
    expect(byId.get('binance:indicators:BTC:1m:rsi14')?.outcome).toBe('done');

    requests = [];
    const again = await new Sync({
      storage,
      clients: [binance],
      symbols: ['BTC', 'ETH'],
      kinds: ['candles', 'funding'],
      from: FROM,
      now: () => NOW,
      derive: { rsi: [14] },
    }).backfill();
    expect(again.resumed).toBe(true);
    expect(again.rowsWritten).toBe(0);
    expect(requests.filter((p) => p === '/fapi/v1/klines')).toEqual([]);
    await binance.close();
  });
});

describe('Sync.backfill derived series across resumes', () => {
  it('behavior: RSI and MT written by a resumed run equal a full recompute from the first stored close (1e-9)', async () => {
    const { rsiFromCandles, marketAverage } = await import('../../src/derive/index.js');
    let now = NOW - 86_400_000;
    const market = new SyntheticMarket();
    const sim = createBinanceSimulator(market, { now: () => now });
    const local = await startLocalServer(sim.handler);
    const storage = new MemoryStorage();
    const binance = new BinanceClient({ baseUrl: local.url, now: () => now });
    const run = () =>
      new Sync({
        storage,
        clients: [binance],
        symbols: ['BTC', 'ETH'],
        kinds: ['candles'],
        from: NOW - 4 * 86_400_000,
        now: () => now,
        derive: { rsi: [14], marketAverage: true },
      }).backfill();
    try {
      await run();
      now = NOW; // a day later: the resumed run fetches the tail and extends the derived series
      const again = await run();
      expect(again.resumed).toBe(true);
      const key = (symbol: string) =>
        ({ source: 'binance', exchange: 'binance', symbol, interval: '1m' }) as const;
      const read = async <K extends 'candles' | 'indicators'>(
        kind: K,
        k: ReturnType<typeof key> & { kind?: string },
      ) => {
        const out = [];
        for await (const page of storage.read(kind, k, 0, NOW)) out.push(...page);
        return out;
      };
      const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
      const candles = { BTC: await read('candles', key('BTC')), ETH: await read('candles', key('ETH')) };
      expect(candles.BTC.length).toBeGreaterThan(5_000);
      for (const symbol of ['BTC', 'ETH'] as const) {
        const stored = await read('indicators', { ...key(symbol), kind: 'rsi14' });
        const full = rsiFromCandles(candles[symbol] as never, 14);
        expect(stored.length).toBe(full.length);
        stored.forEach(
          (r, i) =>
            void expect(close((r as { value: number }).value, (full[i] as { value: number }).value)).toBe(
              true,
            ),
        );
      }
      const mt = await read('candles', key('MT'));
      const fullMt = marketAverage(candles as never, { kind: 'candles' });
      expect(mt.length).toBe(fullMt.length);
      mt.forEach(
        (r, i) =>
          void expect(close((r as { close: number }).close, (fullMt[i] as { close: number }).close)).toBe(
            true,
          ),
      );
    } finally {
      await binance.close();
      await local.close();
    }
  }, 60_000);
});
