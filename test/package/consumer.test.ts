/**
 * The package as a user receives it: `npm pack` of the build, installed from the tarball into a project
 * in a temporary directory outside the repo (no path back to the source tree), where every entry point
 * is imported as ESM, required as CJS, and a consumer file is type-checked under `node10`, `node16`
 * (ESM and CJS) and `bundler` with the repo's `tsc`. Runs on whichever Node runs vitest (.ci/run: 20,
 * 22 and 24). Builds `dist/` first when it is missing or stale.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cjsCheck, consumerSource, esmCheck, tsconfig } from './consumer-files.js';
import { bytesUnder, ensureBuilt, entryPoints, installApp, pack, ROOT, sh } from './consumer-project.js';

const entries = entryPoints();
const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
let work: string;
let app: string;

beforeAll(async () => {
  const built = await ensureBuilt();
  work = mkdtempSync(join(tmpdir(), 'perpdata-consumer-'));
  app = join(work, 'app');
  mkdirSync(app);
  const packed = await pack(work);
  const how = await installApp(packed.path, app);
  // Figures for the log, not for pass/fail.
  console.log(
    `perpdata consumer on Node ${process.version}: ${built ? 'built dist/, ' : ''}packed ${packed.filename} ` +
      `${(packed.size / 1024).toFixed(0)} kB (${(packed.unpackedSize / 1024).toFixed(0)} kB unpacked, ` +
      `${packed.entryCount} files); app installed (${how}), node_modules ${(bytesUnder(join(app, 'node_modules')) / 1024 / 1024).toFixed(1)} MB with msw, ws and types`,
  );
  writeFileSync(join(app, 'esm.mjs'), esmCheck(entries));
  writeFileSync(join(app, 'cjs.cjs'), cjsCheck(entries));
  const source = consumerSource(entries);
  writeFileSync(join(app, 'consumer.ts'), source);
  writeFileSync(join(app, 'consumer.cts'), source);
  writeFileSync(join(app, 'tsconfig.node10.json'), tsconfig('commonjs', 'node10', ['consumer.ts']));
  writeFileSync(join(app, 'tsconfig.node16-esm.json'), tsconfig('node16', 'node16', ['consumer.ts']));
  writeFileSync(join(app, 'tsconfig.node16-cjs.json'), tsconfig('node16', 'node16', ['consumer.cts']));
  writeFileSync(join(app, 'tsconfig.bundler.json'), tsconfig('esnext', 'bundler', ['consumer.ts']));
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * tsc's errors for one tsconfig of the app, but those in other packages' declarations (with
 * `skipLibCheck` off, msw's own `.d.ts` files do not pass node16 CJS): the consumer's files and
 * perpdata's declarations must be clean.
 */
async function typeCheck(project: string): Promise<string[]> {
  let output: string;
  try {
    output = (await sh(process.execPath, [tsc, '-p', project, '--pretty', 'false'], app, 120_000)).stdout;
  } catch (error) {
    output = (error as Error).message;
  }
  const errors = output.split('\n').filter((line) => /error TS\d+/.test(line));
  // A failure that reports no diagnostic (a crash, a time-out) is the consumer's failure too.
  if (errors.length === 0 && output.includes(' failed in ')) return [output];
  const theirs = errors.filter(
    (line) => /^node_modules\//.test(line) && !/^node_modules\/perpdata\//.test(line),
  );
  return errors.filter((line) => !theirs.includes(line));
}

describe('the packed package in a consumer project', () => {
  it('default: every entry point imports as ESM (perpdata/testing serves its simulators)', async () => {
    const { stdout } = await sh(process.execPath, ['esm.mjs'], app, 60_000);
    const counts = JSON.parse(stdout) as Record<string, number>;
    expect(Object.keys(counts)).toEqual(entries);
  }, 60_000);

  it('default: every entry point requires as CJS, without loading pg, undici, msw or ws or opening handles', async () => {
    const { stdout } = await sh(process.execPath, ['cjs.cjs'], app, 60_000);
    const counts = JSON.parse(stdout) as Record<string, number>;
    expect(Object.keys(counts).sort()).toEqual([...entries].sort());
  }, 60_000);

  for (const mode of ['node10', 'node16-esm', 'node16-cjs', 'bundler']) {
    it(`default: a consumer type-checks under moduleResolution ${mode}`, async () => {
      expect(await typeCheck(`tsconfig.${mode}.json`)).toEqual([]);
    }, 120_000);
  }

  it('behavior: the type-check fails when the consumer misuses a signature (control)', async () => {
    writeFileSync(
      join(app, 'bad.ts'),
      "import type { StorageAdapter } from 'perpdata/storage';\n" +
        "import type { FundingRate } from 'perpdata';\n" +
        'declare const s: StorageAdapter;\ndeclare const rows: FundingRate[];\n' +
        "export const p = s.write('candles', rows);\n",
    );
    writeFileSync(join(app, 'tsconfig.bad.json'), tsconfig('esnext', 'bundler', ['bad.ts']));
    const errors = await typeCheck('tsconfig.bad.json');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^bad\.ts\(5,\d+\): error TS2345: .*FundingRate\[\]/);
  }, 120_000);
});
