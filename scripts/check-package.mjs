// Checks the package as users receive it: publint and @arethetypeswrong/cli on the packed tarball,
// then a temporary project that installs the tarball (with `msw` and `ws`, the optional peers of
// perpdata/testing) and imports every entry point as ESM and CJS, and checks that importing the root
// and the other entries loads neither `pg`, `undici` nor perpdata/testing's peers, and opens no sockets or timers.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'perpdata-pack-'));
const run = (cmd, args, cwd = root) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
try {
  const tarball = join(
    work,
    run('npm', ['pack', '--silent', '--pack-destination', work]).trim().split('\n').at(-1),
  );
  console.log(`packed ${tarball}`);
  console.log(run('npx', ['publint', '--strict', tarball]));
  console.log(run('npx', ['attw', '--profile', 'node16', tarball]));

  const app = join(work, 'app');
  run('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const { exports, devDependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  // perpdata/testing needs its optional peers; the other entries must work without them (checked below
  // by requiring them first and finding neither in the module cache).
  const peers = ['msw', 'ws'].map((name) => `${name}@${devDependencies[name]}`);
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...peers], app);
  const entries = Object.keys(exports)
    .filter((k) => k !== './package.json')
    .map((k) => (k === '.' ? 'perpdata' : `perpdata/${k.slice(2)}`));
  writeFileSync(
    join(app, 'esm.mjs'),
    `${entries.map((e, i) => `import * as m${i} from '${e}';`).join('\n')}\n` +
      `const counts = [${entries.map((_, i) => `Object.keys(m${i}).length`).join(', ')}];\n` +
      `if (counts.some((n, i) => n === 0 && i !== ${entries.indexOf('perpdata/pipeline')})) throw new Error('empty entry point: ' + counts);\n` +
      `if (typeof m0.BinanceClient !== 'function' || typeof m0.rsi !== 'function') throw new Error('root exports missing');\n` +
      // perpdata/testing from the tarball: the simulated venues start, answer and stop.
      `const sim = await m${entries.indexOf('perpdata/testing')}.simulateVenues({ now: () => Date.UTC(2024, 0, 1) });\n` +
      `const time = await (await fetch(sim.urls.binance.baseUrl + '/fapi/v1/time')).json();\n` +
      `await sim.close();\n` +
      `if (time.serverTime !== Date.UTC(2024, 0, 1)) throw new Error('perpdata/testing: unexpected ' + JSON.stringify(time));\n` +
      `console.log('ESM ok', Object.fromEntries(${JSON.stringify(entries)}.map((e, i) => [e, counts[i]])));\n`,
  );
  writeFileSync(
    join(app, 'cjs.cjs'),
    `const root = require('perpdata');\n` +
      `${entries
        .slice(1)
        .filter((e) => e !== 'perpdata/testing')
        .map((e) => `require('${e}');`)
        .join('\n')}\n` +
      `if (typeof root.BinanceClient !== 'function' || typeof root.classifyError !== 'function') throw new Error('root exports missing');\n` +
      `const loaded = Object.keys(require.cache);\n` +
      `const heavy = loaded.filter((p) => /node_modules[\\\\/](pg|pg-copy-streams|undici|msw|ws)[\\\\/]/.test(p));\n` +
      `if (heavy.length > 0) throw new Error('importing perpdata loaded ' + heavy.join(', '));\n` +
      `const handles = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');\n` +
      `if (handles.length > 0) throw new Error('importing perpdata left handles: ' + handles);\n` +
      `const testing = require('perpdata/testing');\n` +
      `if (typeof testing.simulateVenues !== 'function' || typeof testing.mswHandlers !== 'function') throw new Error('perpdata/testing exports missing');\n` +
      `console.log('CJS ok: no pg, no undici, no msw or ws, no sockets or timers after require; perpdata/testing loads');\n`,
  );
  console.log(run('node', ['esm.mjs'], app));
  console.log(run('node', ['cjs.cjs'], app));
} finally {
  rmSync(work, { recursive: true, force: true });
}
