/** Docs in the code (style 17): every name an entry point exports, types included, has a TSDoc summary. */
import { describe, expect, it } from 'vitest';
import { declaredExports, type EntryName } from './entry-points.js';

describe('public surface docs', () => {
  const entries = declaredExports();

  for (const [entry, names] of entries) {
    it(`default: every export of ${entry} has a one-line TSDoc summary`, () => {
      expect(names.length).toBeGreaterThan(0);
      const missing = names.filter((n) => n.summary === '' || n.summary.startsWith('@'));
      expect(
        missing.map((n) => `${n.name} (${n.file})`),
        `exports of ${entry} without a summary`,
      ).toEqual([]);
    });

    it(`default: every export of ${entry} is declared in src/`, () => {
      const outside = names.filter((n) => !n.file.startsWith('src/')).map((n) => `${n.name} (${n.file})`);
      expect(outside).toEqual([]);
    });
  }

  it('behavior: a summary is read from the declaration, through re-export chains and `export type`', () => {
    const find = (entry: EntryName, name: string) => entries.get(entry)?.find((n) => n.name === name);
    // Through `export *` (root) -> `export type` (clients) -> the alias that keeps the class out of the .d.ts values.
    expect(find('perpdata', 'LiveStream')).toMatchObject({
      space: 'type',
      file: 'src/clients/type-exports.ts',
      summary: expect.stringMatching(/^A live stream of records/),
    });
    expect(find('perpdata/clients', 'BinanceClient')?.space).toBe('value');
    // Control: a const's summary comes from its variable statement.
    expect(find('perpdata/derive', 'MT_SYMBOL')?.summary).toMatch(/\S/);
  });
});
