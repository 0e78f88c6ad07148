/**
 * The API reference (`npm run docs`): TypeDoc documents exactly the package's entry points, and its
 * validation (undocumented exports and methods, broken links, types referenced but not exported) has
 * nothing to say, so a new export without a summary fails here and not only in `npm run docs:check`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Application, Logger, LogLevel } from 'typedoc';
import { describe, expect, it } from 'vitest';
import { ENTRY_FILES } from '../entry-points.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const config = JSON.parse(readFileSync(`${ROOT}typedoc.json`, 'utf8')) as {
  entryPoints: string[];
  out: string;
  validation: Record<string, boolean>;
};

/** Keeps TypeDoc's warnings and errors instead of printing them. */
class CollectingLogger extends Logger {
  readonly messages: string[] = [];
  override log(message: string, level: LogLevel): void {
    super.log(message, level);
    if (level >= LogLevel.Warn) this.messages.push(message);
  }
}

describe('typedoc', () => {
  it('default: the entry points are the package exports, and validation is on', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
      exports: Record<string, unknown>;
    };
    const subpaths = Object.keys(pkg.exports)
      .filter((p) => p !== './package.json')
      .map((p) => (p === '.' ? 'perpdata' : `perpdata/${p.slice(2)}`));
    expect(Object.keys(ENTRY_FILES).sort()).toEqual(subpaths.sort());
    expect([...config.entryPoints].sort()).toEqual(
      Object.values(ENTRY_FILES)
        .map((f) => `src/${f}`)
        .sort(),
    );
    expect(config.out).toBe('docs/api');
    expect(config.validation).toMatchObject({ notDocumented: true, notExported: true, invalidLink: true });
    expect(readFileSync(`${ROOT}.gitignore`, 'utf8').split('\n')).toContain('docs/api/');
  });

  it('default: converting the project raises no warning', { timeout: 120_000 }, async () => {
    const app = await Application.bootstrapWithPlugins({ options: `${ROOT}typedoc.json` });
    const logger = new CollectingLogger();
    app.logger = logger;
    const project = await app.convert();
    expect(project, logger.messages.join('\n')).toBeDefined();
    app.validate(project!);
    expect(logger.messages).toEqual([]);
  });
});
