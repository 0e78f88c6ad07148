#!/usr/bin/env node
/**
 * Fails when an emitted declaration file (`dist/**\/*.d.ts`, `*.d.cts`) refers to zod: an import of
 * `zod`, a `z.` type (`z.ZodObject`, `z.core.$strip`, `z.infer`) or a `Zod…` type name. Raw schemas
 * stay private next to their clients; only canonical types may leave the package. Comments are
 * ignored (prose may say "zod-like").
 *
 * Fails too on an `any` in them: every `any` keyword in a type position, found by TypeScript's parser
 * (so not in comments or strings). The public types are precise; `unknown` is for what is not known.
 * Run after `npm run build`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

/** Every declaration file under `dir`. */
function declarations(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return declarations(path);
    return /\.d\.c?ts$/.test(entry.name) ? [path] : [];
  });
}

/** The text with block and line comments blanked (string literals in .d.ts never hold `/*`). */
function withoutComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/\/\/[^\n]*/g, '');
}

const PATTERNS = [
  /\bfrom\s+['"]zod(?:\/[^'"]*)?['"]/,
  /\bimport\s+['"]zod(?:\/[^'"]*)?['"]/,
  /\bimport\(\s*['"]zod/,
  /\bz\.[A-Za-z_$]/,
  /\bZod[A-Z]\w*/,
];

let files;
try {
  files = declarations(dist);
} catch {
  console.error('check-dts: no dist/ (run `npm run build` first)');
  process.exit(1);
}
if (files.length === 0) {
  console.error('check-dts: no .d.ts files in dist/');
  process.exit(1);
}
/** Every `any` keyword of a declaration file, as `file:line: text of the line`. */
function anys(file, text) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lines = text.split('\n');
  const found = [];
  const visit = (node) => {
    if (node.kind === ts.SyntaxKind.AnyKeyword) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
      found.push(`${relative(root, file)}:${line + 1}: ${lines[line].trim().slice(0, 160)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const hits = [];
const anyHits = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const lines = withoutComments(text).split('\n');
  lines.forEach((line, i) => {
    if (PATTERNS.some((p) => p.test(line)))
      hits.push(`${relative(root, file)}:${i + 1}: ${line.trim().slice(0, 160)}`);
  });
  anyHits.push(...anys(file, text));
}
/** Prints at most 50 of `list` under `title`. */
function report(title, list) {
  console.error(`check-dts: ${list.length} ${title}:`);
  for (const hit of list.slice(0, 50)) console.error(`  ${hit}`);
  if (list.length > 50) console.error(`  … and ${list.length - 50} more`);
}
if (hits.length > 0) report('zod type reference(s) in emitted declarations', hits);
if (anyHits.length > 0) report('`any` type(s) in emitted declarations', anyHits);
if (hits.length > 0 || anyHits.length > 0) process.exit(1);
console.log(`check-dts: ${files.length} declaration files, no zod types, no \`any\``);
