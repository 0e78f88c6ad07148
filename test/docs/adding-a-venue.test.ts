/**
 * ADDING_A_VENUE.md and ARCHITECTURE.md name files and functions; this suite keeps them true. Every
 * path ADDING_A_VENUE.md names exists for an existing venue (`okx` for `<venue>`), every venue of the
 * registry has the files a venue must have and the shared entries the page lists (its simulation
 * descriptor in `SIMULATIONS`, its exported `<Venue>Client`, its export lines), and every path
 * ARCHITECTURE.md names exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
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
      'src/normalize/<venue>.ts',
      'src/testing/<venue>.ts',
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
      'src/testing/<venue>.ts',
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
    expect(simulate).toMatch(/const SIMULATIONS = \{/);
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

  it('default: every venue of the registry has the shared entries of sections 3 and 4, and nothing else names it there', async () => {
    const simulate = read('src/testing/simulate.ts');
    const clients = read('src/clients/index.ts');
    const missing: string[] = [];
    for (const venue of VENUE_IDS) {
      const Venue = venue[0]!.toUpperCase() + venue.slice(1);
      // Section 3: one import and one entry in SIMULATIONS, the descriptor from the venue's own file.
      if (!simulate.includes(`import { ${venue}Simulation } from './${venue}.js';`))
        missing.push(`simulate.ts import of ${venue}Simulation`);
      if (!new RegExp(`^  ${venue}: ${venue}Simulation,$`, 'm').test(simulate))
        missing.push(`SIMULATIONS.${venue}`);
      const own = (await import(/* @vite-ignore */ join(root, 'src/testing', `${venue}.ts`))) as Record<
        string,
        unknown
      >;
      const descriptor = own[`${venue}Simulation`] as { venue?: string; server?: unknown } | undefined;
      if (descriptor?.venue !== venue) missing.push(`src/testing/${venue}.ts: ${venue}Simulation`);
      else if (Boolean(descriptor.server) !== VENUES[venue].live)
        missing.push(`${venue}Simulation.server (live: ${VENUES[venue].live})`);
      // Section 3: the client, found by name in perpdata/clients.
      if (!clients.includes(`${clientName(venue)}`))
        missing.push(`src/clients/index.ts: ${clientName(venue)}`);
      else {
        const client = new (clientClass(venue))({ apiKey: 'key', exchange: 'binance' });
        if (client.venue !== venue) missing.push(`${clientName(venue)}.venue is ${client.venue}`);
        await client.close();
      }
      // Section 4: the public export lines.
      if (typeof (normalize as Record<string, unknown>)[`${venue}Instruments`] !== 'function')
        missing.push(`src/normalize/index.ts: ${venue}Instruments`);
      if (typeof (testing as Record<string, unknown>)[`create${Venue}Simulator`] !== 'function')
        missing.push(`src/testing/index.ts: create${Venue}Simulator`);
      if (
        VENUES[venue].live &&
        typeof (testing as Record<string, unknown>)[`${Venue}WsServer`] !== 'function'
      )
        missing.push(`src/testing/index.ts: ${Venue}WsServer`);
    }
    expect(missing).toEqual([]);
    // The rest of simulate.ts is venue-agnostic: no venue key outside SIMULATIONS, its imports and comments.
    const code = simulate
      .split('\n')
      .filter((line) => !/^\s*(\*|\/\*\*|\/\/)/.test(line))
      .filter((line) => !VENUE_IDS.some((v) => line.includes(`${v}Simulation`)));
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
