/**
 * The package's entry points and what each declares, read with the TypeScript compiler API (types
 * included, which `Object.keys(await import(…))` cannot see). Shared by the surface tests.
 */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Package subpath -> its source entry file, relative to `src/`. */
export const ENTRY_FILES = {
  perpdata: 'index.ts',
  'perpdata/clients': 'clients/index.ts',
  'perpdata/normalize': 'normalize/index.ts',
  'perpdata/derive': 'derive/index.ts',
  'perpdata/storage': 'storage/index.ts',
  'perpdata/pipeline': 'pipeline/index.ts',
  'perpdata/testing': 'testing/index.ts',
} as const;

/** A package subpath. */
export type EntryName = keyof typeof ENTRY_FILES;

/** One exported name of an entry point. */
export interface DeclaredExport {
  readonly name: string;
  /** `value` when it exists at runtime (class, function, const), `type` when only the compiler sees it. */
  readonly space: 'value' | 'type';
  /** The file that declares it, relative to the repo root. */
  readonly file: string;
  /** First line of its TSDoc comment, `''` when it has none. */
  readonly summary: string;
}

export const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const ROOT = fileURLToPath(new URL('../', import.meta.url));

let cache: Map<EntryName, DeclaredExport[]> | undefined;

/** Every export of every entry point, sorted by name; the program is built once per test file. */
export function declaredExports(): Map<EntryName, DeclaredExport[]> {
  if (cache) return cache;
  const config = ts.readConfigFile(`${ROOT}tsconfig.json`, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const files = Object.values(ENTRY_FILES).map((f) => SRC + f);
  const program = ts.createProgram(files, { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  cache = new Map();
  for (const [entry, file] of Object.entries(ENTRY_FILES) as [EntryName, string][]) {
    const source = program.getSourceFile(SRC + file);
    const module = source && checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`cannot read ${file}`);
    const out = checker.getExportsOfModule(module).map((symbol): DeclaredExport => {
      // `export type { X }` of a class keeps it out of the value space: look at every alias in the chain.
      let typeOnly = false;
      let target = symbol;
      while (target.flags & ts.SymbolFlags.Alias) {
        if (target.declarations?.some(isTypeOnly)) typeOnly = true;
        const next = checker.getImmediateAliasedSymbol(target);
        if (!next) break;
        target = next;
      }
      if (target.flags & ts.SymbolFlags.Alias) target = checker.getAliasedSymbol(target);
      const declaration = target.declarations?.[0];
      return {
        name: symbol.name,
        space: !typeOnly && target.flags & ts.SymbolFlags.Value ? 'value' : 'type',
        file: declaration ? relative(ROOT, declaration.getSourceFile().fileName) : '?',
        summary: ts.displayPartsToString(target.getDocumentationComment(checker)).split('\n')[0]!.trim(),
      };
    });
    cache.set(
      entry,
      out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    );
  }
  return cache;
}

/** Whether an export specifier (or the whole export declaration it is in) is `type`-only. */
function isTypeOnly(node: ts.Declaration): boolean {
  if (!ts.isExportSpecifier(node)) return false;
  return node.isTypeOnly || node.parent.parent.isTypeOnly;
}
