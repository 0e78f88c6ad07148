/** Guards the public surface: the export names of every entry point are pinned in a snapshot. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VENUE_IDS } from '../src/core/venues.js';
import { declaredExports } from './entry-points.js';

const entries = {
  perpdata: () => import('../src/index.js'),
  'perpdata/clients': () => import('../src/clients/index.js'),
  'perpdata/normalize': () => import('../src/normalize/index.js'),
  'perpdata/derive': () => import('../src/derive/index.js'),
  'perpdata/storage': () => import('../src/storage/index.js'),
  'perpdata/pipeline': () => import('../src/pipeline/index.js'),
  'perpdata/testing': () => import('../src/testing/index.js'),
};

/** Entry points that the root does not re-export (loaded only when imported by name). */
const standalone = new Set(['perpdata/testing']);

const src = fileURLToPath(new URL('../src', import.meta.url));
const entryFiles: Record<string, string> = {
  perpdata: 'index.ts',
  'perpdata/clients': 'clients/index.ts',
  'perpdata/normalize': 'normalize/index.ts',
  'perpdata/derive': 'derive/index.ts',
  'perpdata/storage': 'storage/index.ts',
  'perpdata/pipeline': 'pipeline/index.ts',
};

/** Every module `file` reaches through static and dynamic imports: source files and bare packages. */
function reach(file: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (path: string) => {
    if (files.has(path)) return;
    files.add(path);
    const text = readFileSync(path, 'utf8');
    const specifiers = [
      ...text.matchAll(/(?:^|\n)\s*(?:import|export)(?!\s+type\b)[^'";]*?from\s+'([^']+)'/g),
      ...text.matchAll(/import\(\s*'([^']+)'\s*\)/g),
      ...text.matchAll(/(?:^|\n)import\s+'([^']+)'/g),
    ].map((m) => m[1] as string);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) visit(resolve(dirname(path), specifier.replace(/\.js$/, '.ts')));
      else
        packages.add(
          specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!,
        );
    }
  };
  visit(join(src, file));
  return { files, packages };
}

describe('public surface', () => {
  for (const [name, load] of Object.entries(entries)) {
    it(`default: export names of ${name}`, async () => {
      const names = Object.keys(await load()).sort();
      expect(names).toMatchSnapshot();
    });
  }

  for (const [name, names] of declaredExports()) {
    it(`default: type-only export names of ${name}`, () => {
      expect(names.filter((n) => n.space === 'type').map((n) => n.name)).toMatchSnapshot();
    });
  }

  it('behavior: the compiler and the runtime agree on the value exports', async () => {
    for (const [name, names] of declaredExports()) {
      const runtime = Object.keys(await entries[name]()).sort();
      expect(
        names.filter((n) => n.space === 'value').map((n) => n.name),
        name,
      ).toEqual(runtime);
    }
  });

  it('default: LiveStream and VenueClient are types only (aliases, so the .d.ts exports no class either)', async () => {
    const clients = await import('../src/clients/index.js');
    // @ts-expect-error a type, not a value: streams come from `watch*()`
    expect(clients.LiveStream).toBeUndefined();
    // @ts-expect-error a type, not a value: clients come from their venue's constructor
    expect(clients.VenueClient).toBeUndefined();
  });

  it('behavior: barrels list their exports; only the root re-exports whole entry points, and an entry point its venues', () => {
    const files = (readdirSync(src, { recursive: true }) as string[]).map((f) => f.split('\\').join('/'));
    // Barrels, the venues' own export lists and the generated per-venue lines (scripts/venues.ts).
    const barrels = files.filter(
      (f) => f.endsWith('index.ts') || f.endsWith('.public.ts') || f.endsWith('venues.generated.ts'),
    );
    expect(barrels).toContain('clients/ws/index.ts');
    expect(barrels).toContain('normalize/okx.public.ts');
    const allowed = new Set([
      './clients/index.js',
      './core/index.js',
      './derive/index.js',
      './normalize/index.js',
      './pipeline/index.js',
      './storage/index.js',
    ]);
    expect(barrels).toContain('clients/venues.generated.ts');
    /** What `file` may `export *` from: the root, the entry points; an entry point, its generated venue lines; those, the venues' own lists. */
    const mayStar = (file: string, specifier: string): boolean => {
      if (file === 'index.ts') return allowed.has(specifier);
      if (['clients/index.ts', 'normalize/index.ts', 'testing/index.ts'].includes(file))
        return specifier === './venues.generated.js';
      if (file === 'clients/venues.generated.ts')
        return VENUE_IDS.some((v) => specifier === `./${v}/index.js`);
      if (file === 'normalize/venues.generated.ts' || file === 'testing/venues.generated.ts')
        return VENUE_IDS.some((v) => specifier === `./${v}.public.js`);
      return false;
    };
    for (const file of barrels) {
      const stars = [
        ...readFileSync(join(src, file), 'utf8').matchAll(/export\s*\*\s*(?:as\s+\w+\s+)?from\s*'([^']+)'/g),
      ];
      for (const [, specifier] of stars) {
        expect(mayStar(file, specifier!), `${file}: export * from '${specifier}'`).toBe(true);
      }
    }
  });

  it('behavior: the root re-exports every subpath export', async () => {
    const root = new Set(Object.keys(await import('../src/index.js')));
    for (const [name, load] of Object.entries(entries)) {
      if (name === 'perpdata' || standalone.has(name)) continue;
      for (const key of Object.keys(await load())) expect(root.has(key), `${name} exports ${key}`).toBe(true);
    }
  });

  it('behavior: no other entry point loads perpdata/testing, msw or ws', () => {
    for (const [name, file] of Object.entries(entryFiles)) {
      const { files, packages } = reach(file);
      const testing = [...files].map((f) => relative(src, f)).filter((f) => f.startsWith('testing'));
      expect(testing, `${name} reaches src/testing`).toEqual([]);
      expect(packages.has('msw') || packages.has('ws'), `${name} imports msw or ws`).toBe(false);
    }
    // Control: the walk does see them from perpdata/testing itself.
    const testing = reach('testing/index.ts');
    expect(testing.packages).toContain('msw');
    expect(testing.packages).toContain('ws');
    expect(testing.files.size).toBeGreaterThan(5);
  });
});
