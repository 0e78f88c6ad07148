/**
 * No function in `src/` runs over 60 lines unless a `// Long by design: <reason>` comment just before
 * it says why (issue: one place for each policy, readable files). Arrow functions and methods count.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const MAX_LINES = 60;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function longFunctions(file: string): { name: string; line: number; lines: number; reason: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: { name: string; line: number; lines: number; reason: boolean }[] = [];
  const visit = (n: ts.Node) => {
    if (
      (ts.isFunctionDeclaration(n) ||
        ts.isMethodDeclaration(n) ||
        ts.isArrowFunction(n) ||
        ts.isFunctionExpression(n) ||
        ts.isConstructorDeclaration(n)) &&
      n.body
    ) {
      const start = sf.getLineAndCharacterOfPosition(n.getStart()).line;
      const lines = sf.getLineAndCharacterOfPosition(n.end).line - start;
      if (lines > MAX_LINES) {
        // The reason sits on the line before the declaration (or before the statement holding an arrow).
        const before = text
          .split('\n')
          .slice(Math.max(0, start - 2), start)
          .join('\n');
        const name =
          ts.isArrowFunction(n) || ts.isFunctionExpression(n) ? '(function)' : (n.name?.getText() ?? '');
        out.push({ name, line: start + 1, lines, reason: /\/\/ Long by design: \S/.test(before) });
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe('function length in src/', () => {
  it(`default: every function over ${MAX_LINES} lines says why it is long`, () => {
    const found = sources('src').flatMap((f) => longFunctions(f).map((x) => ({ ...x, file: f })));
    expect(found.length).toBeGreaterThan(0); // the scan sees the simulators' closures, at least
    expect(
      found.filter((x) => !x.reason).map((x) => `${x.file}:${x.line} ${x.name} (${x.lines} lines)`),
    ).toEqual([]);
  });
});
