/** The README's quick start, kept here so the type checker compiles it. Needs DATABASE_URL and network. */
import { BinanceClient, PostgresStorage } from '../src/index.js';

const binance = new BinanceClient({ proxies: ['http://user:pass@proxy-1:3128'] }); // direct + 1 proxy = 2 egresses
const storage = new PostgresStorage({ db: process.env.DATABASE_URL! });
await storage.migrate();

const key = { source: 'binance', exchange: 'binance', symbol: 'PEPE', interval: '1m' } as const;
const from = (await storage.latest('candles', key)) ?? Date.parse('2024-01-01');
for await (const page of binance.candles({ symbol: 'PEPE', interval: '1m', from, to: Date.now() })) {
  await storage.write('candles', page); // prices per one PEPE, volumes in PEPE, idempotent
}
await Promise.all([binance.close(), storage.close()]);
