#!/usr/bin/env node
// Checks the package as users receive it: packs it once (after `npm run build`), then runs
// `publint --strict` and @arethetypeswrong/cli with no profile (every entry point under node10,
// node16 from CJS and from ESM, and bundler) on the tarball: the same as `npx publint --strict` and
// `npx attw --pack .`. The tarball installed in a consumer project (ESM imports, CJS requires, a
// type-checked consumer under each module resolution) is test/package/consumer.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'perpdata-pack-'));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args, cwd = root) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
try {
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work]));
  const tarball = join(work, packed.filename);
  console.log(
    `packed ${packed.filename}: ${(packed.size / 1024).toFixed(0)} kB, ` +
      `${(packed.unpackedSize / 1024).toFixed(0)} kB unpacked, ${packed.entryCount} files`,
  );
  console.log(run(bin('publint'), ['--strict', tarball]));
  // attw exits non-zero on any problem under any resolution.
  console.log(run(bin('attw'), [tarball]));
} finally {
  rmSync(work, { recursive: true, force: true });
}
