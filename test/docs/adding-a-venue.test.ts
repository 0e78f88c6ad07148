/**
 * ADDING_A_VENUE.md and ARCHITECTURE.md name files and functions; this suite keeps them true. Every
 * path ADDING_A_VENUE.md names exists for an existing venue (`okx` for `<venue>`), every venue of the
 * registry has the files a venue must have (its own export lists and simulation descriptor included),
 * the files generated from the registry are what `scripts/venues.ts` writes, no other file of `src/`
 * names a venue's files (so a new venue is its files plus its registry line), and every path
 * ARCHITECTURE.md names exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { venueFiles } from '../../scripts/venues.js';
import { EXCHANGES, SOURCES } from '../../src/core/types.js';
import { VENUE_IDS, VENUES } from '../../src/core/venues.js';
import * as normalize from '../../src/normalize/index.js';
import * as testing from '../../src/testing/index.js';
import { clientClass, clientName } from '../venue-clients.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const adding = read('ADDING_A_VENUE.md');
const architecture = read('ARCHITECTURE.md');

/** Backticked repository paths of a Markdown text (`src/…`, `test/…`, `scripts/…`). */
function paths(markdown: string): string[] {
  const found = [...markdown.matchAll(/`((?:src|test|scripts)\/[^`\s]*)`/g)].map((m) => m[1] as string);
  return [...new Set(found)];
}

/** `path` with `<venue>` / `<Venue>` spelled for `venue`. */
const forVenue = (path: string, venue: string) =>
  path.replaceAll('<venue>', venue).replaceAll('<Venue>', venue[0]!.toUpperCase() + venue.slice(1));

/** Whether `path` exists; a `*` in its last segment matches any run of characters. */
function exists(path: string): boolean {
  if (!path.includes('*')) return existsSync(join(root, path));
  const dir = join(root, dirname(path));
  const pattern = new RegExp(`^${basename(path).split('*').map(escapeRegExp).join('.*')}$`);
  return existsSync(dir) && readdirSync(dir).some((f) => pattern.test(f));
}
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('ADDING_A_VENUE.md', () => {
  const named = paths(adding);

  it('default: names the registry and the per-venue files', () => {
    expect(named).toContain('src/core/venues.ts');
    for (const file of ['rest', 'ws', 'schemas', 'ws-schemas', 'intervals', 'index'])
      expect(named).toContain(`src/clients/<venue>/${file}.ts`);
    for (const path of [
      'scripts/venues.ts',
      ...Object.keys(venueFiles()),
      'src/normalize/<venue>.ts',
      'src/normalize/<venue>.public.ts',
      'src/testing/<venue>.ts',
      'src/testing/<venue>.public.ts',
      'src/testing/ws/<venue>.ts',
      'src/testing/simulate.ts',
      'test/clients/capabilities.test.ts',
      'test/fuzz/<venue>-rest.test.ts',
      'test/fuzz/<venue>-ws.test.ts',
    ])
      expect(named).toContain(path);
  });

  it('default: every path it names exists for okx', () => {
    const missing = named.map((p) => forVenue(p, 'okx')).filter((p) => !exists(p));
    expect(missing).toEqual([]);
  });

  it('default: every venue of the registry has the files every venue has (and the live ones their stream files)', () => {
    const always = [
      'src/clients/<venue>/rest.ts',
      'src/clients/<venue>/schemas.ts',
      'src/clients/<venue>/index.ts',
      'src/normalize/<venue>.ts',
      'src/normalize/<venue>.public.ts',
      'src/testing/<venue>.ts',
      'src/testing/<venue>.public.ts',
      'test/fixtures/<venue>/',
      'test/normalize/<venue>.test.ts',
      'test/clients/<venue>.test.ts',
      'test/fuzz/<venue>-rest.test.ts',
    ];
    const live = [
      'src/clients/<venue>/ws.ts',
      'src/clients/<venue>/ws-schemas.ts',
      'src/testing/ws/<venue>.ts',
      'test/ws/<venue>.test.ts',
      'test/fuzz/<venue>-ws.test.ts',
    ];
    for (const path of [...always, ...live]) expect(named, path).toContain(path);
    const missing: string[] = [];
    for (const [venue, entry] of Object.entries(VENUES)) {
      for (const path of [...always, ...(entry.live ? live : [])]) {
        const p = forVenue(path, venue);
        if (!exists(p)) missing.push(p);
      }
    }
    expect(missing).toEqual([]);
  });

  it('default: the one line goes where it says, and the lists derive from it', () => {
    const registry = read('src/core/venues.ts');
    expect(registry).toMatch(/export const VENUES = \{/);
    // One line per venue: `  <venue>: { role: …, title: …, live: … },`.
    const block = registry.slice(registry.indexOf('export const VENUES = {'));
    const lines = block.slice(0, block.indexOf('\n}')).split('\n').slice(1);
    expect(lines.map((line) => /^ {2}(\w+): \{ .* \},$/.exec(line)?.[1])).toEqual(VENUE_IDS);
    expect(SOURCES).toEqual(Object.keys(VENUES));
    expect(EXCHANGES).toEqual(
      Object.keys(VENUES).filter((v) => VENUES[v as keyof typeof VENUES].role === 'exchange'),
    );
    // The names the page tells a venue author to use exist where it says.
    const okx = read('src/clients/okx/rest.ts');
    expect(okx).toMatch(/class OkxClient extends LiveVenueClient\b/);
    expect(read('src/clients/coinalyze/rest.ts')).toMatch(/class CoinalyzeClient extends VenueClient\b/);
    expect(read('src/clients/base.ts')).toMatch(/protected abstract createStreams\(/);
    expect(okx).toMatch(/readonly venue = 'okx' as const/);
    const capabilities = read('src/clients/capabilities.ts');
    for (const builder of ['intervalKind', 'fundingKind', 'predictedSnapshot', 'liveOnly', 'latestRows'])
      expect(capabilities, builder).toMatch(new RegExp(`export (function|const) ${builder}\\b`));
    const simulate = read('src/testing/simulate.ts');
    expect(simulate).toMatch(/const SIMULATIONS = DESCRIPTORS satisfies \{/);
    const venue = read('src/testing/venue.ts');
    for (const name of ['venueSimulation', 'withClocks'])
      expect(venue, name).toMatch(new RegExp(`export function ${name}\\b`));
    expect(venue).toMatch(/export interface VenueSimulation\b/);
    for (const field of ['create', 'unlimited', 'serverError', 'banned', 'instruments', 'server'])
      expect(adding, field).toContain(`\`${field}\``);
    expect(read('test/venue-clients.ts')).toMatch(/export function simulatedClient\b/);
    expect(read('src/testing/okx.ts')).toMatch(/export function createOkxSimulator\b/);
    expect(read('src/testing/ws/okx.ts')).toMatch(/export class OkxWsServer\b/);
    expect(read('src/normalize/okx.ts')).toMatch(/export function okxInstruments\b/);
    expect(read('src/clients/interval-spellings.ts')).toMatch(/export function spellInterval\b/);
    expect(read('test/fuzz/rest.ts')).toMatch(/export async function fuzzPath\b/);
    expect(read('test/fuzz/ws.ts')).toMatch(/export function fuzzFrames\b/);
    expect(read('test/clients/capabilities.test.ts')).toContain('UPDATE_README');
  });

  it('default: the generated files are what scripts/venues.ts writes from the registry', () => {
    const stale = Object.entries(venueFiles(VENUE_IDS))
      .filter(([path, content]) => !existsSync(join(root, path)) || read(path) !== content)
      .map(([path]) => path);
    expect(stale, 'run npx tsx scripts/venues.ts').toEqual([]);
    // A venue more is one line more in each (the simulations' table: its import and its entry), each naming it.
    const now = venueFiles(VENUE_IDS);
    for (const [path, content] of Object.entries(venueFiles([...VENUE_IDS, 'kraken']))) {
      const before = new Set(now[path]!.split('\n'));
      const added = content.split('\n').filter((line) => !before.has(line));
      expect(added.length, path).toBe(path.endsWith('simulations.generated.ts') ? 2 : 1);
      for (const line of added) expect(line, path).toContain('kraken');
    }
  });

  it('default: every venue of the registry reaches the entry points through its own files', async () => {
    const missing: string[] = [];
    for (const venue of VENUE_IDS) {
      const Venue = venue[0]!.toUpperCase() + venue.slice(1);
      // Its simulation descriptor, in its own testing file (SIMULATIONS is generated from the registry).
      const own = (await import(/* @vite-ignore */ join(root, 'src/testing', `${venue}.ts`))) as Record<
        string,
        unknown
      >;
      const descriptor = own[`${venue}Simulation`] as { venue?: string; server?: unknown } | undefined;
      if (descriptor?.venue !== venue) missing.push(`src/testing/${venue}.ts: ${venue}Simulation`);
      else if (Boolean(descriptor.server) !== VENUES[venue].live)
        missing.push(`${venue}Simulation.server (live: ${VENUES[venue].live})`);
      if (`${venue}Simulation` in testing) missing.push(`perpdata/testing exports ${venue}Simulation`);
      // Its client, found by name in perpdata/clients (from src/clients/<venue>/index.ts).
      const client = new (clientClass(venue))({ apiKey: 'key', exchange: 'binance' });
      if (client.venue !== venue) missing.push(`${clientName(venue)}.venue is ${client.venue}`);
      await client.close();
      // Its export lists (src/normalize/<venue>.public.ts, src/testing/<venue>.public.ts).
      if (typeof (normalize as Record<string, unknown>)[`${venue}Instruments`] !== 'function')
        missing.push(`src/normalize/${venue}.public.ts: ${venue}Instruments`);
      if (typeof (testing as Record<string, unknown>)[`create${Venue}Simulator`] !== 'function')
        missing.push(`src/testing/${venue}.public.ts: create${Venue}Simulator`);
      if (
        VENUES[venue].live &&
        typeof (testing as Record<string, unknown>)[`${Venue}WsServer`] !== 'function'
      )
        missing.push(`src/testing/${venue}.public.ts: ${Venue}WsServer`);
    }
    expect(missing).toEqual([]);
  });

  it("default: no file of src/ but the generated ones imports a venue's files from outside the venue", () => {
    const src = join(root, 'src');
    const files = (readdirSync(src, { recursive: true }) as string[])
      .map((f) => f.split('\\').join('/'))
      .filter((f) => f.endsWith('.ts'));
    /** The venue whose own file `path` (relative to `src/`) is, if any. */
    const ownerOf = (path: string): string | undefined =>
      VENUE_IDS.find(
        (v) =>
          path.startsWith(`clients/${v}/`) ||
          [
            `normalize/${v}.ts`,
            `normalize/${v}.public.ts`,
            `testing/${v}.ts`,
            `testing/${v}.public.ts`,
          ].includes(path) ||
          path === `testing/ws/${v}.ts`,
      );
    const generated = new Set(Object.keys(venueFiles()).map((p) => p.slice('src/'.length)));
    expect(files.filter((f) => generated.has(f)).length).toBe(generated.size);
    const offending: string[] = [];
    for (const file of files) {
      if (generated.has(file) || ownerOf(file)) continue;
      const text = readFileSync(join(src, file), 'utf8');
      for (const [, specifier] of text.matchAll(/(?:from\s+|import\(\s*)'(\.[^']+)'/g)) {
        const target = relative(src, resolve(dirname(join(src, file)), specifier!.replace(/\.js$/, '.ts')));
        const owner = ownerOf(target.split('\\').join('/'));
        if (owner) offending.push(`${file} imports ${specifier} (${owner})`);
      }
    }
    expect(offending).toEqual([]);
    // Control: the walk does see a venue's file where one is imported.
    expect(ownerOf('testing/ws/okx.ts')).toBe('okx');
    // And simulate.ts names no venue in its code but the default underlying exchange of an aggregator.
    const code = read('src/testing/simulate.ts')
      .split('\n')
      .filter((line) => !/^\s*(\*|\/\*\*|\/\/)/.test(line));
    const named = code.filter((line) => VENUE_IDS.some((v) => line.includes(`'${v}'`)));
    expect(named).toEqual(["      exchange: Exchange = 'binance',"]);
  });

  it('default: the fixtures of the evidence table exist', () => {
    const table = adding.slice(adding.indexOf('## Evidence table'), adding.indexOf('## Checklist'));
    const names = [...table.matchAll(/`([\w.*-]+\.json)`/g)].map((m) => m[1] as string);
    expect(names.length).toBeGreaterThan(5);
    const missing = names.filter((n) => !exists(`test/fixtures/binance/${n}`));
    expect(missing).toEqual([]);
  });
});

describe('ARCHITECTURE.md', () => {
  it('default: every path it names exists', () => {
    const named = paths(architecture);
    expect(named.length).toBeGreaterThan(10);
    const missing = named
      .flatMap((p) => (p.includes('{') ? expand(p) : [p]))
      .filter((p) => !(exists(p) || (p.endsWith('/') && statSync(join(root, p), { throwIfNoEntry: false }))));
    expect(missing).toEqual([]);
  });
});

/** `a/{b,c}.ts` as `a/b.ts`, `a/c.ts`. */
function expand(path: string): string[] {
  const m = /^(.*)\{([^}]*)\}(.*)$/.exec(path);
  if (!m) return [path];
  return (m[2] as string).split(',').flatMap((part) => expand(`${m[1]}${part}${m[3]}`));
}
