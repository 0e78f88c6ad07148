#!/usr/bin/env node
/**
 * Fails when an emitted declaration file (`dist/**\/*.d.ts`, `*.d.cts`) refers to zod: an import of
 * `zod`, a `z.` type (`z.ZodObject`, `z.core.$strip`, `z.infer`) or a `Zod…` type name. Raw schemas
 * stay private next to their clients; only canonical types may leave the package. Run after
 * `npm run build`. Comments are ignored (prose may say "zod-like").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

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
const hits = [];
for (const file of files) {
  const lines = withoutComments(readFileSync(file, 'utf8')).split('\n');
  lines.forEach((line, i) => {
    if (PATTERNS.some((p) => p.test(line)))
      hits.push(`${relative(root, file)}:${i + 1}: ${line.trim().slice(0, 160)}`);
  });
}
if (hits.length > 0) {
  console.error(`check-dts: ${hits.length} zod type reference(s) in emitted declarations:`);
  for (const hit of hits.slice(0, 50)) console.error(`  ${hit}`);
  if (hits.length > 50) console.error(`  … and ${hits.length - 50} more`);
  process.exit(1);
}
console.log(`check-dts: ${files.length} declaration files, no zod types`);
