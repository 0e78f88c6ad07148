/** Guards the public surface: the export names of every entry point are pinned in a snapshot. */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

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
