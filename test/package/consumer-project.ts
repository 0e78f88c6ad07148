/**
 * A consumer project of the packed package, outside the repo: `npm pack` of the current build, then an
 * app in a temporary directory that installs the tarball (with perpdata/testing's optional peers and
 * the types a TypeScript consumer adds). The app's lockfile is cut from the repo's: the tarball's own
 * dependencies at the versions the repo tests, so `npm ci --offline` installs them from the npm cache
 * that the repo's install filled (no registry request; `--prefer-offline` is the fallback when the
 * cache lacks one).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/** Packages the app installs beside the tarball: perpdata/testing's peers and the consumer's types. */
export const APP_EXTRAS = ['msw', 'ws', '@types/ws', '@types/node'] as const;

/** The entry points of `exports` as import specifiers (`perpdata`, `perpdata/clients`, …). */
export function entryPoints(): string[] {
  const { exports } = readJson(join(ROOT, 'package.json')) as { exports: Record<string, unknown> };
  return Object.keys(exports)
    .filter((k) => k !== './package.json')
    .map((k) => (k === '.' ? 'perpdata' : `perpdata/${k.slice(2)}`));
}

/** The environment of a nested npm: without the outer `npm run`'s package and prefix variables. */
export function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !/^npm_(package|lifecycle)_/i.test(k) && !/^npm_config_local_prefix$/i.test(k) && k !== 'INIT_CWD',
    ),
  );
}

/** Runs a command; its output on success, its output in the error on failure. */
export async function sh(
  cmd: string,
  args: string[],
  cwd: string,
  timeout = 120_000,
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(cmd, args, { cwd, env: npmEnv(), timeout, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}\n${e.message}`,
    );
  }
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function files(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

/**
 * Builds `dist/` when it is missing or older than its inputs (src, tsup and TypeScript config,
 * package.json); CI builds before the tests, so there this finds it current. Returns whether it built.
 */
export async function ensureBuilt(): Promise<boolean> {
  const entries = entryPoints().map((e) => (e === 'perpdata' ? '' : `${e.slice('perpdata/'.length)}/`));
  const outputs = entries.flatMap((dir) =>
    ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts'].map((f) => join(ROOT, 'dist', dir, f)),
  );
  const inputs = [
    ...files(join(ROOT, 'src')),
    ...['tsup.config.ts', 'tsconfig.json', 'package.json'].map((f) => join(ROOT, f)),
  ];
  const built =
    outputs.every((f) => existsSync(f)) &&
    Math.min(...outputs.map((f) => statSync(f).mtimeMs)) >=
      Math.max(...inputs.map((f) => statSync(f).mtimeMs));
  if (built) return false;
  await sh('npm', ['run', 'build'], ROOT, 180_000);
  return true;
}

/** What `npm pack --json` reports of the tarball. */
export interface Packed {
  readonly path: string;
  readonly filename: string;
  /** Bytes of the .tgz. */
  readonly size: number;
  readonly unpackedSize: number;
  readonly entryCount: number;
}

/** Packs the repo into `dir` (no lifecycle scripts: the build is `ensureBuilt`'s). */
export async function pack(dir: string): Promise<Packed> {
  const { stdout } = await sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], ROOT);
  const [info] = JSON.parse(stdout) as Omit<Packed, 'path'>[];
  if (!info) throw new Error(`npm pack said nothing: ${stdout}`);
  return { ...info, path: join(dir, info.filename) };
}

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

/**
 * The app's package.json and package-lock.json: `perpdata` from the tarball, `APP_EXTRAS` at the repo's
 * ranges, and every package either reaches at the place and version the repo's lockfile has it.
 */
export function appManifests(tarball: string, app: string): { manifest: object; lock: object } {
  const repo = readJson(join(ROOT, 'package.json')) as {
    name: string;
    version: string;
    devDependencies: Record<string, string>;
  } & LockEntry;
  const repoLock = readJson(join(ROOT, 'package-lock.json')) as { packages: Record<string, LockEntry> };
  const spec = `file:${relative(app, tarball)}`;
  const dependencies: Record<string, string> = { [repo.name]: spec };
  for (const name of APP_EXTRAS) {
    const range = repo.devDependencies[name];
    if (!range) throw new Error(`${name} is not a devDependency of the repo`);
    dependencies[name] = range;
  }

  const packages: Record<string, LockEntry> = {};
  /** Where node's resolution finds `name` from the package at `from` in the repo's tree. */
  const locate = (from: string, name: string): string | undefined => {
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const path = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
      if (repoLock.packages[path]) return path;
      if (!dir) return undefined;
    }
  };
  const visit = (from: string, entry: LockEntry) => {
    // Optional peers are not installed for a package (npm leaves them to the app): perpdata's own
    // (PGlite, msw, ws) come in only as the app's extras.
    const optionalPeers = new Set(
      Object.entries(entry.peerDependenciesMeta ?? {})
        .filter(([, m]) => m.optional)
        .map(([n]) => n),
    );
    const optional = new Set(Object.keys(entry.optionalDependencies ?? {}));
    const wanted = [
      ...Object.keys(entry.dependencies ?? {}),
      ...optional,
      ...Object.keys(entry.peerDependencies ?? {}).filter((n) => !optionalPeers.has(n)),
    ];
    for (const name of wanted) {
      const path = locate(from, name);
      if (!path) {
        if (optional.has(name)) continue;
        throw new Error(`the repo's lockfile has no ${name} for ${from || 'the root'}`);
      }
      if (packages[path]) continue;
      const { dev: _d, devOptional: _o, peer: _p, ...rest } = repoLock.packages[path] as LockEntry;
      packages[path] = rest;
      visit(path, rest);
    }
  };
  // perpdata sits where the repo root sits: its dependencies resolve from the top of the repo's tree.
  visit('', {
    dependencies: repo.dependencies ?? {},
    peerDependencies: repo.peerDependencies ?? {},
    peerDependenciesMeta: repo.peerDependenciesMeta ?? {},
  });
  // The extras as the repo's root has them.
  visit('', { dependencies: Object.fromEntries(APP_EXTRAS.map((n) => [n, repo.devDependencies[n]!])) });
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  packages[`node_modules/${repo.name}`] = {
    version: repo.version,
    resolved: spec,
    integrity,
    ...Object.fromEntries(
      (['license', 'dependencies', 'engines', 'peerDependencies', 'peerDependenciesMeta'] as const)
        .filter((k) => repo[k] !== undefined)
        .map((k) => [k, repo[k]]),
    ),
  };
  const manifest = {
    name: 'perpdata-consumer',
    version: '0.0.0',
    private: true,
    type: 'module',
    dependencies,
  };
  const lock = {
    name: manifest.name,
    version: manifest.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: manifest.name, version: manifest.version, dependencies },
      ...Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    },
  };
  return { manifest, lock };
}

/**
 * Writes the app into `app` and installs it: `npm ci --offline` from the cut lockfile, then (when the
 * npm cache lacks something) `npm ci --prefer-offline`. No install scripts (msw's postinstall copies
 * its browser worker into a public/ folder, which a Node consumer does not need).
 */
export async function installApp(tarball: string, app: string): Promise<'offline' | 'prefer-offline'> {
  const { manifest, lock } = appManifests(tarball, app);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(app, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  const args = ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel', 'error'];
  try {
    await sh('npm', [...args, '--offline'], app);
    return 'offline';
  } catch {
    await sh('npm', [...args, '--prefer-offline'], app);
    return 'prefer-offline';
  }
}

/** Bytes of the files under `dir` (apparent sizes, symlinks not followed). */
export function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = resolve(dir, entry.name);
    if (entry.isDirectory()) total += bytesUnder(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}
