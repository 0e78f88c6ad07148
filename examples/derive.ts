/**
 * Checks the derived series a `Sync` stored against a batch recompute from the stored inputs, with the
 * pure functions of `perpdata/derive`: RSI 14 of every candle series (`rsiFromCandles`), the MT token
 * per venue for candles, funding and open interest (`marketAverage`) and its RSI, 5m open interest and
 * long/short ratios expanded to 1m (`expandTo1m`, `align: 'close'`), and Binance 5m taker volume
 * distributed over the 1m candles (`distributeByVolume`). Every stored derived row must equal its
 * recomputed row within 1e-9 (relative); rows the recompute has beyond a series' stored end are inputs
 * stored after the last derive pass (live runs one shortly after inputs arrive; minutes that closed
 * since the run stopped expand too) and are only counted.
 *
 *   npx tsx examples/derive.ts --simulate          # what `npm run demo` stored (./.perpdata/demo)
 *   npx tsx examples/derive.ts --symbols BTC,ETH   # ./.perpdata/db, or DATABASE_URL
 *   npx tsx examples/derive.ts --help
 *
 * Exit code 0 when every stored derived row matches, 1 when one does not.
 */
import { parseArgs } from 'node:util';
import {
  type AnyRecord,
  type Candle,
  type DataKind,
  distributeByVolume,
  expandTo1m,
  type FundingRate,
  type LongShortKind,
  MT_SYMBOL,
  marketAverage,
  type OpenInterest,
  PerpdataError,
  type PostgresStorage,
  type RecordOf,
  rsiFromCandles,
  rsiName,
  type SeriesKey,
  type Source,
  type StorageAdapter,
  type TakerVolume,
} from '../src/index.js';
import { checkDataDir, parseSchema, parseSymbols, parseVenues, UsageError, type Venue } from './lib/cli.js';
import { fmt, iso, plural, table } from './lib/format.js';
import { openStorage } from './lib/setup.js';

const USAGE = `Usage: npx tsx examples/derive.ts [options]

Recomputes the derived series (RSI 14, the MT token, 1m expansions, Binance taker volume at 1m) from
the stored inputs with perpdata/derive and compares them with what the pipeline stored (1e-9).

Options:
  --venues LIST     comma-separated: binance, bybit, okx, coinalyze (default: binance,bybit,okx)
  --symbols LIST    the symbols the MT was made of (default: BTC,ETH,PEPE)
  --simulate        check what the simulated examples stored (npm run demo): ./.perpdata/demo,
                    schema perpdata_demo
  --data-dir DIR    embedded PGlite folder when DATABASE_URL is unset
                    (default: ./.perpdata/demo with --simulate, else ./.perpdata/db)
  --schema NAME     PostgreSQL schema (default: perpdata_demo with --simulate, else public)
  -h, --help        print this help

Environment:
  DATABASE_URL       PostgreSQL connection string; unset: embedded PGlite in --data-dir

Exit code 0 when every stored derived row equals its recompute, 1 otherwise.`;

const RSI_PERIOD = 14;
const TOLERANCE = 1e-9;
const RATIO_KINDS: readonly LongShortKind[] = ['global', 'topAccount', 'topPosition'];

async function readAll<K extends DataKind>(
  storage: StorageAdapter,
  kind: K,
  key: SeriesKey,
): Promise<RecordOf<K>[]> {
  const out: RecordOf<K>[] = [];
  for await (const page of storage.read(kind, key, 0, Number.MAX_SAFE_INTEGER)) out.push(...page);
  return out;
}

/** Largest relative difference over the numeric fields of two rows (0 when equal). */
function difference(a: AnyRecord, b: AnyRecord): number {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  let worst = 0;
  for (const field of new Set([...Object.keys(x), ...Object.keys(y)])) {
    if (field === 'ts') continue;
    const u = x[field];
    const v = y[field];
    if (typeof u !== 'number' && typeof v !== 'number') continue;
    if (typeof u !== 'number' || typeof v !== 'number') return Number.POSITIVE_INFINITY;
    worst = Math.max(worst, Math.abs(u - v) / Math.max(1, Math.abs(u), Math.abs(v)));
  }
  return worst;
}

interface Check {
  readonly id: string;
  readonly stored: number;
  readonly compared: number;
  readonly mismatched: number;
  /** Stored rows the recompute does not have. */
  readonly extra: number;
  /** Recomputed rows after the stored end (inputs newer than the last derive). */
  readonly newer: number;
  readonly maxDiff: number;
  readonly first?: string;
}

/** Compares the stored rows of a derived series with the recomputed ones, by `ts`. */
function compare(id: string, stored: readonly AnyRecord[], recomputed: readonly AnyRecord[]): Check {
  const byTs = new Map(recomputed.map((r) => [r.ts, r]));
  let compared = 0;
  let mismatched = 0;
  let extra = 0;
  let maxDiff = 0;
  let first: string | undefined;
  for (const row of stored) {
    const other = byTs.get(row.ts);
    if (!other) {
      extra++;
      first ??= `${iso(row.ts)}: stored, not recomputed`;
      continue;
    }
    compared++;
    const d = difference(row, other);
    maxDiff = Math.max(maxDiff, d);
    if (d > TOLERANCE) {
      mismatched++;
      first ??= `${iso(row.ts)}: stored ${JSON.stringify(row)} vs ${JSON.stringify(other)}`;
    }
  }
  const end = stored.at(-1)?.ts ?? Number.NEGATIVE_INFINITY;
  const newer = recomputed.filter((r) => r.ts > end).length;
  return {
    id,
    stored: stored.length,
    compared,
    mismatched,
    extra,
    newer,
    maxDiff,
    ...(first ? { first } : {}),
  };
}

const keyOf = (venue: Venue, symbol: string, rest: Partial<SeriesKey> = {}): SeriesKey => ({
  source: venue as Source,
  exchange: venue === 'coinalyze' ? 'binance' : venue,
  symbol,
  ...rest,
});

async function checkAll(storage: StorageAdapter, venues: readonly Venue[], symbols: readonly string[]) {
  const checks: Check[] = [];
  const add = (id: string, stored: readonly AnyRecord[], recomputed: readonly AnyRecord[]) => {
    if (stored.length > 0) checks.push(compare(id, stored, recomputed));
  };
  const rsiKey = (key: SeriesKey): SeriesKey => ({ ...key, kind: rsiName(RSI_PERIOD) });
  for (const venue of venues) {
    const candles = new Map<string, Candle[]>();
    const funding = new Map<string, FundingRate[]>();
    const openInterest = new Map<string, OpenInterest[]>();
    for (const symbol of symbols) {
      const key = keyOf(venue, symbol, { interval: '1m' });
      const list = await readAll(storage, 'candles', key);
      if (list.length > 0) candles.set(symbol, list);
      const stored = await readAll(storage, 'indicators', rsiKey(key));
      add(`${venue}:indicators:${symbol}:1m:rsi14`, stored, rsiFromCandles(list, RSI_PERIOD));
      const f = await readAll(storage, 'funding', keyOf(venue, symbol));
      if (f.length > 0) funding.set(symbol, f);
      const oi = await readAll(storage, 'openInterest', keyOf(venue, symbol, { interval: '5m' }));
      if (oi.length > 0) openInterest.set(symbol, oi);

      // 5m -> 1m, the value landing on the minutes after each bucket closes.
      const oi1m = await readAll(storage, 'openInterest', keyOf(venue, symbol, { interval: '1m' }));
      add(`${venue}:openInterest:${symbol}:1m`, oi1m, expandTo1m(oi, { align: 'close' }));
      for (const ratio of RATIO_KINDS) {
        const five = await readAll(
          storage,
          'longShortRatio',
          keyOf(venue, symbol, { interval: '5m', kind: ratio }),
        );
        if (five.length === 0) continue;
        const one = await readAll(
          storage,
          'longShortRatio',
          keyOf(venue, symbol, { interval: '1m', kind: ratio }),
        );
        add(`${venue}:longShortRatio:${symbol}:1m:${ratio}`, one, expandTo1m(five, { align: 'close' }));
      }
      if (venue === 'binance') {
        const taker5m = await readAll(storage, 'takerVolume', keyOf(venue, symbol, { interval: '5m' }));
        const stored1m = await readAll(storage, 'takerVolume', keyOf(venue, symbol, { interval: '1m' }));
        add(
          `${venue}:takerVolume:${symbol}:1m`,
          stored1m,
          distributeByVolume(taker5m as TakerVolume[], list).volumes,
        );
      }
    }
    // The MT of the venue: an average of one symbol is that symbol, so none is stored.
    const { source, exchange } = keyOf(venue, MT_SYMBOL);
    if (candles.size >= 2) {
      const mt = marketAverage(candles, { kind: 'candles', source, exchange });
      const key = keyOf(venue, MT_SYMBOL, { interval: '1m' });
      add(`${venue}:candles:MT:1m`, await readAll(storage, 'candles', key), mt);
      add(
        `${venue}:indicators:MT:1m:rsi14`,
        await readAll(storage, 'indicators', rsiKey(key)),
        rsiFromCandles(mt, RSI_PERIOD),
      );
    }
    if (funding.size >= 2)
      add(
        `${venue}:funding:MT`,
        await readAll(storage, 'funding', keyOf(venue, MT_SYMBOL)),
        marketAverage(funding, { kind: 'funding', source, exchange }),
      );
    if (openInterest.size >= 2)
      add(
        `${venue}:openInterest:MT:5m`,
        await readAll(storage, 'openInterest', keyOf(venue, MT_SYMBOL, { interval: '5m' })),
        marketAverage(openInterest, { kind: 'openInterest', source, exchange }),
      );
  }
  return checks;
}

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      allowPositionals: false,
      options: {
        venues: { type: 'string' },
        symbols: { type: 'string' },
        simulate: { type: 'boolean', default: false },
        'data-dir': { type: 'string' },
        schema: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    console.error(`derive: ${(error as Error).message}\nRun with --help for the options.`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let storage: PostgresStorage | undefined;
  try {
    const simulate = values.simulate === true;
    const venues = parseVenues((values.venues as string | undefined) ?? 'binance,bybit,okx');
    const symbols = parseSymbols((values.symbols as string | undefined) ?? 'BTC,ETH,PEPE');
    const schema = parseSchema(values.schema as string | undefined);
    const databaseUrl = process.env.DATABASE_URL?.trim() || undefined;
    checkDataDir(databaseUrl, values['data-dir'] as string | undefined);
    const opened = await openStorage({
      databaseUrl,
      dataDir:
        (values['data-dir'] as string | undefined) ?? (simulate ? './.perpdata/demo' : './.perpdata/db'),
      schema: schema ?? (simulate && databaseUrl ? 'perpdata_demo' : undefined),
    });
    storage = opened.storage;
    console.log(opened.line.replace(' (kept for the next run; delete the folder to start over)', ''));

    const checks = await checkAll(storage, venues, symbols);
    if (checks.length === 0) {
      console.log(
        'No derived series stored for these venues and symbols: run examples/backfill.ts or examples/backfill-then-live.ts first.',
      );
      return 1;
    }
    const rows = checks.map((c) => [
      c.id,
      fmt(c.stored),
      fmt(c.compared),
      c.maxDiff === 0 ? '0' : c.maxDiff.toExponential(1),
      fmt(c.mismatched + c.extra),
      fmt(c.newer),
    ]);
    console.log('');
    console.log(
      table(['derived series', 'stored', 'compared', 'max diff', 'mismatched', 'newer inputs'], rows, [
        false,
        true,
        true,
        true,
        true,
        true,
      ]),
    );
    console.log('');
    const bad = checks.filter((c) => c.mismatched + c.extra > 0);
    for (const c of bad) console.log(`mismatch: ${c.id}: ${c.first ?? ''}`);
    const compared = checks.reduce((n, c) => n + c.compared, 0);
    const newer = checks.reduce((n, c) => n + c.newer, 0);
    console.log(
      bad.length === 0
        ? `${plural(checks.length, 'derived series', 'derived series')}, ${plural(compared, 'row')}: every stored row equals a batch recompute from the stored inputs (within ${TOLERANCE}).`
        : `${plural(bad.length, 'derived series', 'derived series')} of ${checks.length} differ from a batch recompute.`,
    );
    if (newer > 0)
      console.log(
        `${plural(newer, 'recomputed row')} lie after the stored derived series' ends: inputs stored after the last derive pass, or minutes closed since the run stopped.`,
      );
    return bad.length === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`derive: ${error.message}\nRun with --help for the options.`);
      return 2;
    }
    const message = error instanceof PerpdataError ? error.message : String((error as Error)?.stack ?? error);
    console.error(`derive failed: ${message}`);
    return 1;
  } finally {
    await storage?.close().catch(() => {});
  }
}

process.exitCode = await main();
