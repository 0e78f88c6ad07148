/**
 * The files of the consumer project (see consumer-project.ts): what a user of the package writes. Kept
 * as text so that the repo's own type-check does not resolve `perpdata` to the repo itself.
 */

/** A consumer module: every entry point imported, and the main generic signatures checked on the emitted declarations. */
export function consumerSource(entries: readonly string[]): string {
  const names = entries.map((e, i) => [e, `entry${i}`] as const);
  return `${names.map(([e, n]) => `import * as ${n} from '${e}';`).join('\n')}
import { BinanceClient, type Candle, type FundingRate, type OpenInterest } from 'perpdata';
import type { StorageAdapter } from 'perpdata/storage';
import { Sync, type SyncEvents } from 'perpdata/pipeline';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type IsAny<T> = 0 extends 1 & T ? true : false;
/** The value exports of an entry point whose type is \`any\` (an unresolved import, a lost type). */
type AnyExports<M> = { [K in keyof M]: IsAny<M[K]> extends true ? K : never }[keyof M];
function assert<T extends true>(_?: T): void {}

${names.map(([, n]) => `assert<Equal<AnyExports<typeof ${n}>, never>>();`).join('\n')}

declare const storage: StorageAdapter;
declare const candles: Candle[];
declare const funding: FundingRate[];
export async function store(): Promise<number> {
  const written = await storage.write('candles', candles);
  await storage.write('funding', funding);
  // @ts-expect-error funding rows are not candles
  await storage.write('candles', funding);
  // @ts-expect-error candles are not open interest
  await storage.write('openInterest', candles);
  return written.written;
}

declare const client: BinanceClient;
export async function history(): Promise<void> {
  const range = { symbol: 'BTC', interval: '1m', from: 0, to: 60_000 } as const;
  assert<Equal<ReturnType<typeof client.history<'candles'>>, AsyncIterable<Candle[]>>>();
  for await (const page of client.history('openInterest', range)) {
    assert<Equal<typeof page, OpenInterest[]>>();
  }
  for await (const page of client.history('funding', range)) {
    const rate: number = page[0]!.rate;
    // @ts-expect-error a funding rate has no close
    page[0]!.close;
    void rate;
  }
  // @ts-expect-error indicators are derived, not fetched
  client.history('indicators', range);
}

declare const sync: Sync;
export function listen(): () => void {
  const off = sync.on('progress', (e) => {
    assert<Equal<typeof e, SyncEvents['progress']>>();
    const share: number = e.done / e.total;
    const id: string = e.series.id;
    void share;
    void id;
  });
  sync.on('reconnected', (e) => {
    assert<Equal<typeof e.downtimeMs, number>>();
  });
  // @ts-expect-error progress has no reason
  sync.on('progress', (e) => e.reason);
  // @ts-expect-error no such event
  sync.on('finished', () => {});
  return off;
}
`;
}

/** Runs every entry point as ESM: not empty, the root's values there, perpdata/testing's simulators answer. */
export function esmCheck(entries: readonly string[]): string {
  const testing = entries.indexOf('perpdata/testing');
  const pipeline = entries.indexOf('perpdata/pipeline');
  return `${entries.map((e, i) => `import * as m${i} from '${e}';`).join('\n')}
const counts = [${entries.map((_, i) => `Object.keys(m${i}).length`).join(', ')}];
if (counts.some((n) => n === 0)) throw new Error('empty entry point: ' + counts);
if (typeof m0.BinanceClient !== 'function' || typeof m0.rsi !== 'function') throw new Error('root exports missing');
if (typeof m${pipeline}.Sync !== 'function') throw new Error('perpdata/pipeline: no Sync');
const sim = await m${testing}.simulateVenues({ now: () => Date.UTC(2024, 0, 1) });
const time = await (await fetch(sim.urls.binance.baseUrl + '/fapi/v1/time')).json();
await sim.close();
if (time.serverTime !== Date.UTC(2024, 0, 1)) throw new Error('perpdata/testing: unexpected ' + JSON.stringify(time));
console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(entries)}.map((e, i) => [e, counts[i]]))));
`;
}

/**
 * Requires every entry point as CJS: the entries but perpdata/testing load neither pg, undici nor
 * perpdata/testing's peers, and leave no socket or timer open; perpdata/testing loads after them.
 */
export function cjsCheck(entries: readonly string[]): string {
  const others = entries.filter((e) => e !== 'perpdata/testing');
  return `const loaded = {};
${others.map((e) => `loaded[${JSON.stringify(e)}] = Object.keys(require('${e}')).length;`).join('\n')}
const root = require('perpdata');
if (typeof root.BinanceClient !== 'function' || typeof root.classifyError !== 'function') throw new Error('root exports missing');
if (Object.values(loaded).some((n) => n === 0)) throw new Error('empty entry point: ' + JSON.stringify(loaded));
const heavy = Object.keys(require.cache).filter((p) => /node_modules[\\\\/](pg|pg-copy-streams|undici|msw|ws)[\\\\/]/.test(p));
if (heavy.length > 0) throw new Error('requiring perpdata loaded ' + heavy.join(', '));
const handles = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
if (handles.length > 0) throw new Error('requiring perpdata left handles: ' + handles);
const testing = require('perpdata/testing');
if (typeof testing.simulateVenues !== 'function' || typeof testing.mswHandlers !== 'function') throw new Error('perpdata/testing exports missing');
loaded['perpdata/testing'] = Object.keys(testing).length;
console.log(JSON.stringify(loaded));
`;
}

/** A tsconfig of the app for one module resolution, checking `files`. */
export function tsconfig(module: string, moduleResolution: string, files: readonly string[]): string {
  return `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023', 'DOM'],
        module,
        moduleResolution,
        types: ['node'],
        strict: true,
        noEmit: true,
        esModuleInterop: true,
        // The package's declarations are checked too (an unresolved import there is an error, not an
        // \`any\`); typeCheck() ignores what other packages' declarations report.
        skipLibCheck: false,
      },
      files,
    },
    null,
    2,
  )}\n`;
}
