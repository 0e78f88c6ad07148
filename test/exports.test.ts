/** Guards the public surface: the export names of every entry point are pinned in a snapshot. */
import { describe, expect, it } from 'vitest';

const entries = {
  perpdata: () => import('../src/index.js'),
  'perpdata/clients': () => import('../src/clients/index.js'),
  'perpdata/normalize': () => import('../src/normalize/index.js'),
  'perpdata/derive': () => import('../src/derive/index.js'),
  'perpdata/storage': () => import('../src/storage/index.js'),
  'perpdata/pipeline': () => import('../src/pipeline/index.js'),
};

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
      if (name === 'perpdata') continue;
      for (const key of Object.keys(await load())) expect(root.has(key), `${name} exports ${key}`).toBe(true);
    }
  });
});
