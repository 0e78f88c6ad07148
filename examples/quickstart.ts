/** The README's quick start, kept here so the type checker compiles it. Talks to the real venues. */
import { BinanceClient, BybitClient, OkxClient, openPostgresStorage, Sync } from '../src/index.js';

// PostgreSQL when DATABASE_URL is set, else an embedded PGlite database in ./.perpdata/db.
const storage = await openPostgresStorage({ url: process.env.DATABASE_URL, dataDir: './.perpdata/db' });
const clients = [new BinanceClient(), new BybitClient(), new OkxClient()];
const sync = new Sync({
  storage,
  clients,
  symbols: ['BTC', 'ETH', 'PEPE'],
  from: Date.now() - 7 * 86_400_000, // clamped to listing and to what each venue keeps
  derive: { rsi: [14], marketAverage: true, expandTo1m: ['openInterest'] },
  signal: AbortSignal.timeout(15 * 60_000), // aborting flushes what was fetched; the next run goes on
});
sync.on('seriesDone', ({ report: s }) => console.log(s.id, s.outcome, s.rowsWritten, 'rows'));
sync.on('gap', (e) => console.log(e.series.id, 'has no data in', new Date(e.from), '..', new Date(e.to)));
const report = await sync.backfill(); // run it again: only what the coverage ledger lacks is fetched
console.log(`${report.rowsWritten} rows written, resumed: ${report.resumed}`);
await Promise.all([...clients.map((c) => c.close()), storage.close()]);
