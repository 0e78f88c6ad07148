import { defineConfig } from 'tsup';

const entry = {
  index: 'src/index.ts',
  'clients/index': 'src/clients/index.ts',
  'normalize/index': 'src/normalize/index.ts',
  'derive/index': 'src/derive/index.ts',
  'storage/index': 'src/storage/index.ts',
  'pipeline/index': 'src/pipeline/index.ts',
  // perpdata/testing: msw and ws are optional peers (external), no other entry imports it.
  'testing/index': 'src/testing/index.ts',
};

// p-retry (and its dependency is-network-error) ship as ESM only. Node 20 cannot `require()` ESM
// without a flag, so the CommonJS build carries its own copy; the ESM build imports them as usual.
const esmOnlyDependencies = ['p-retry', 'is-network-error'];

export default defineConfig([
  {
    entry,
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    splitting: true,
    treeshake: true,
  },
  {
    entry,
    format: ['cjs'],
    dts: true,
    sourcemap: true,
    target: 'node20',
    noExternal: esmOnlyDependencies,
    treeshake: true,
  },
]);
