#!/usr/bin/env node
/**
 * Type-checks the documentation's code: every `@example` in the TSDoc of the public exports (the
 * declarations each entry point of package.json `exports` reaches, their members and the classes they
 * extend) and every ```ts block of README.md. Each block is one module of its own, importing from
 * `perpdata` and its subpaths, which resolve to `src/` (as tsconfig `paths` would), with top-level
 * `await` allowed and the repository's compiler options (strict, exactOptionalPropertyTypes, …).
 *
 * An `@example` is either a ```ts fenced block (text around it is its caption) or, without a fence,
 * the whole tag as code. `test/docs/examples.test.ts` runs this in `npm test`; `node
 * scripts/check-examples.mjs` prints each failure as `file:line: message` and exits 1 on any.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Package subpath -> source entry file, as package.json `exports` maps them through tsup. */
export const ENTRY_FILES = {
  perpdata: 'src/index.ts',
  'perpdata/clients': 'src/clients/index.ts',
  'perpdata/normalize': 'src/normalize/index.ts',
  'perpdata/derive': 'src/derive/index.ts',
  'perpdata/storage': 'src/storage/index.ts',
  'perpdata/pipeline': 'src/pipeline/index.ts',
  'perpdata/testing': 'src/testing/index.ts',
};

/** The repository's compiler options, with the package's subpaths mapped to their source. */
function compilerOptions() {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const paths = Object.fromEntries(Object.entries(ENTRY_FILES).map(([name, file]) => [name, [`./${file}`]]));
  return { ...options, noEmit: true, baseUrl: ROOT, paths };
}

/** The lines of a JSDoc comment without its `/**`, `*\/` and leading ` * `. */
function commentLines(text) {
  return text
    .replace(/^\/\*\*/, '')
    .replace(/\*\/$/, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, '').replace(/^\s+$/, ''));
}

/** The code of one `@example` tag's lines: its ```ts blocks, or all of it when it has no fence. */
function blocksOf(lines, firstLine) {
  const fenced = [];
  let open;
  lines.forEach((line, i) => {
    if (open === undefined && /^\s*```(ts|typescript)\s*$/.test(line)) open = { start: i + 1, body: [] };
    else if (open !== undefined && /^\s*```\s*$/.test(line)) {
      fenced.push({ line: firstLine + open.start, code: open.body.join('\n') });
      open = undefined;
    } else open?.body.push(line);
  });
  if (lines.some((line) => /^\s*```/.test(line))) return fenced;
  return [{ line: firstLine, code: lines.join('\n').trim() }];
}

/** Every `@example` of one JSDoc comment, with the 1-based line of its code in the file. */
function examplesOfComment(doc, source) {
  const startLine = source.getLineAndCharacterOfPosition(doc.getStart(source)).line + 1;
  const lines = commentLines(doc.getText(source));
  const out = [];
  let inFence = false;
  let current;
  lines.forEach((line, i) => {
    if (/^\s*```/.test(line)) inFence = !inFence;
    const tag = inFence ? undefined : /^@(\w+)\s?(.*)$/.exec(line);
    if (tag) {
      if (current) out.push(current);
      current = tag[1] === 'example' ? { start: startLine + i, lines: [tag[2]] } : undefined;
      if (current && tag[2].trim() === '') current = { start: startLine + i + 1, lines: [] };
    } else current?.lines.push(line);
  });
  if (current) out.push(current);
  return out.flatMap((example) => blocksOf(example.lines, example.start));
}

/** The declaration's name as the docs show it: `Sync`, `Sync.backfill`, `VenueClient.watchCandles`. */
function nameOf(node) {
  const own = node.name && ts.isIdentifier(node.name) ? node.name.text : undefined;
  const parent = node.parent;
  if (parent && (ts.isClassDeclaration(parent) || ts.isInterfaceDeclaration(parent)) && parent.name)
    return `${parent.name.text}.${own ?? 'constructor'}`;
  return own ?? '?';
}

/** The declarations a symbol exported by an entry point stands for (aliases followed). */
function targetsOf(checker, symbol) {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  return target.declarations ?? [];
}

/** The class or interface declarations a type alias names (`type VenueClient = VenueClientClass`). */
function aliasedClasses(checker, node) {
  if (!ts.isTypeAliasDeclaration(node)) return [];
  const symbol = checker.getTypeAtLocation(node).getSymbol();
  return (symbol?.declarations ?? []).filter((d) => ts.isClassDeclaration(d) || ts.isInterfaceDeclaration(d));
}

/** The classes a class extends, as declarations. */
function baseClasses(checker, node) {
  if (!ts.isClassDeclaration(node)) return [];
  const type = checker.getTypeAtLocation(node);
  return checker
    .getBaseTypes(type)
    .flatMap((base) => base.getSymbol()?.declarations ?? [])
    .filter((d) => ts.isClassDeclaration(d));
}

/** Every declaration the public surface documents: the exports, their members and their bases. */
function publicDeclarations(program) {
  const checker = program.getTypeChecker();
  const queue = [];
  for (const file of Object.values(ENTRY_FILES)) {
    const source = program.getSourceFile(join(ROOT, file));
    const module = source && checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`cannot read ${file}`);
    for (const symbol of checker.getExportsOfModule(module)) queue.push(...targetsOf(checker, symbol));
  }
  const seen = new Set();
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i];
    if (seen.has(node)) continue;
    seen.add(node);
    queue.push(...aliasedClasses(checker, node), ...baseClasses(checker, node));
    if (ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node)) queue.push(...node.members);
  }
  return [...seen];
}

/** The JSDoc comments attached to a declaration (a variable's sit on its statement). */
function docsOf(node) {
  const host = ts.isVariableDeclaration(node) ? node.parent.parent : node;
  return (host.jsDoc ?? []).filter((doc) => ts.isJSDoc(doc));
}

/**
 * Every `@example` of the public exports' TSDoc, in file order, once each.
 * @returns `{ file, line, owner, code }`: the file relative to the repository, the 1-based line the
 * code starts on, the declaration it documents.
 */
export function collectTsdocExamples(program = ts.createProgram(entryPaths(), compilerOptions())) {
  const examples = [];
  for (const node of publicDeclarations(program)) {
    const source = node.getSourceFile();
    if (!source.fileName.startsWith(join(ROOT, 'src'))) continue;
    for (const doc of docsOf(node))
      for (const block of examplesOfComment(doc, source))
        examples.push({ file: relative(ROOT, source.fileName), owner: nameOf(node), ...block });
  }
  const unique = new Map(examples.map((e) => [`${e.file}:${e.line}`, e]));
  return [...unique.values()].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

/** Every ```ts block of a Markdown file (README.md by default). */
export function collectMarkdownExamples(file = 'README.md') {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  if (!lines.some((line) => /^\s*```/.test(line))) return [];
  return blocksOf(lines, 1).map((block) => ({ file, owner: file, ...block }));
}

function entryPaths() {
  return Object.values(ENTRY_FILES).map((f) => join(ROOT, f));
}

/** The virtual module of one example: its code, made a module so that top-level `await` compiles. */
function moduleText(example) {
  return `${example.code}\nexport {};\n`;
}

/**
 * Type-checks the examples in one program over the sources; each example is a virtual file beside
 * the repository root.
 * @returns one `{ example, line, message }` per diagnostic, `line` in the documented file.
 */
export function checkExamples(examples) {
  const options = compilerOptions();
  const virtual = new Map(examples.map((e, i) => [join(ROOT, `.examples/example-${i}.ts`), e]));
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f);
  host.readFile = (f) => (virtual.has(f) ? moduleText(virtual.get(f)) : readFile.call(host, f));
  host.getSourceFile = (f, language, ...rest) =>
    virtual.has(f)
      ? ts.createSourceFile(f, moduleText(virtual.get(f)), language, true)
      : getSourceFile.call(host, f, language, ...rest);
  const program = ts.createProgram([...virtual.keys()], options, host);
  const failures = [];
  for (const [path, example] of virtual) {
    const source = program.getSourceFile(path);
    const diagnostics = [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ];
    for (const d of diagnostics) {
      const at = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      failures.push({ example, line: example.line + at, message });
    }
  }
  return failures;
}

/** Every example of the docs: the TSDoc ones, then README.md's. */
export function collectExamples() {
  return [...collectTsdocExamples(), ...collectMarkdownExamples('README.md')];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const examples = collectExamples();
  const failures = checkExamples(examples);
  for (const f of failures) console.error(`${f.example.file}:${f.line}: (${f.example.owner}) ${f.message}`);
  console.log(`${examples.length} examples type-checked, ${failures.length} errors`);
  process.exitCode = failures.length > 0 ? 1 : 0;
}
