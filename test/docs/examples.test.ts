/**
 * The documentation's code compiles: every `@example` of the public exports' TSDoc and every ```ts
 * block of README.md, each type-checked as a module of its own that imports from `perpdata` and its
 * subpaths (resolved to src/), with top-level await (scripts/check-examples.mjs). The main exports
 * must keep an example.
 */
import { describe, expect, it } from 'vitest';

interface Example {
  readonly file: string;
  readonly line: number;
  readonly owner: string;
  readonly code: string;
}
interface Failure {
  readonly example: Example;
  readonly line: number;
  readonly message: string;
}
/** What the plain ES module script exports (it has no declaration file). */
interface ExamplesScript {
  collectTsdocExamples(): Example[];
  collectMarkdownExamples(file: string): Example[];
  checkExamples(examples: readonly Example[]): Failure[];
}

const script = new URL('../../scripts/check-examples.mjs', import.meta.url).href;
const { checkExamples, collectMarkdownExamples, collectTsdocExamples } = (await import(
  script
)) as ExamplesScript;

/** Declarations that must carry an `@example`, as `Owner` or `Class.member`. */
const MAIN_EXPORTS = [
  'Sync',
  'Sync.backfill',
  'Sync.live',
  'Sync.run',
  'BinanceClient',
  'BybitClient',
  'OkxClient',
  'CoinalyzeClient',
  'VenueClient.history',
  'VenueClient.snapshot',
  'LiveVenueClient.watchCandles',
  'LiveVenueClient.watchFunding',
  'LiveVenueClient.watchOpenInterest',
  'LiveVenueClient.watchLiquidations',
  'LiveStream',
  'ClientOptions',
  'PostgresStorage',
  'openPostgresStorage',
  'MemoryStorage',
  'StorageAdapter',
  'simulateVenues',
  'rsi',
  'createRsi',
  'rsiFromCandles',
  'createCandleRsi',
  'marketAverage',
  'createMarketAverage',
  'expandTo1m',
  'distributeByVolume',
  'findGaps',
];

describe('docs examples', () => {
  const tsdoc: Example[] = collectTsdocExamples();
  const readme: Example[] = collectMarkdownExamples('README.md');

  it('default: every @example of the public exports and every ts block of README.md type-checks', () => {
    const failures: Failure[] = checkExamples([...tsdoc, ...readme]);
    expect(failures.map((f) => `${f.example.file}:${f.line} (${f.example.owner}): ${f.message}`)).toEqual([]);
    expect(tsdoc.length).toBeGreaterThanOrEqual(50);
    expect(readme.length).toBeGreaterThanOrEqual(2);
  });

  it('default: the main exports have an @example', () => {
    const owners = new Set(tsdoc.map((e) => e.owner));
    expect(MAIN_EXPORTS.filter((name) => !owners.has(name))).toEqual([]);
  });

  it('default: each example imports what it uses from the package (it is copyable as it stands)', () => {
    const bare = tsdoc.filter(
      (e) => !/^import .* from '(perpdata(\/\w+)?|@electric-sql\/pglite)';$/m.test(e.code),
    );
    expect(bare.map((e) => `${e.file}:${e.line} (${e.owner})`)).toEqual([]);
  });

  it('behavior: a block that does not compile is reported at its line in the documented file', () => {
    const broken: Example = {
      file: 'src/x.ts',
      line: 10,
      owner: 'x',
      code: "import { rsi } from 'perpdata/derive';\n\nconst n: string = rsi([1, 2, 3], 2).length;",
    };
    const failures: Failure[] = checkExamples([broken]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      line: 12,
      message: expect.stringMatching(/not assignable to type 'string'/),
    });
  });
});
