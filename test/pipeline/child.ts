/**
 * The scenario's backfill in a child process, for SIGKILL tests: it prints `KILL ME` and stops
 * making progress at a chosen point (`in-write`: inside the N-th write transaction, after its first
 * statement and before COMMIT; `after-write`: right after the N-th write committed, before the next
 * page is written), and the parent kills it there with SIGKILL.
 *
 *   PERPDATA_CHILD='{"urls":…,"db":"postgres://…","schema":"…","kill":"in-write","at":3}' tsx test/pipeline/child.ts
 */
import pg from 'pg';
import { PostgresStorage } from '../../src/storage/index.js';
import { instrument } from '../storage/backends.js';
import { type ScenarioUrls, scenarioClients, scenarioSync } from './scenario.js';

interface ChildConfig {
  readonly urls: ScenarioUrls;
  readonly db: string;
  readonly schema: string;
  readonly kill: 'in-write' | 'after-write';
  readonly at: number;
}

const config = JSON.parse(process.env.PERPDATA_CHILD ?? '{}') as ChildConfig;
const never = new Promise<never>(() => {});
const stop = (): Promise<never> => {
  process.stdout.write('KILL ME\n');
  return never;
};

const pool = new pg.Pool({ connectionString: config.db, max: 4 });
pool.on('error', () => {});
let inTransaction = false;
let statements = 0;
let transactions = 0;
const { handle } = instrument(pool, {
  async after(text) {
    if (text.startsWith('BEGIN')) {
      inTransaction = true;
      statements = 0;
      transactions++;
    } else if (text === 'COMMIT' || text === 'ROLLBACK') inTransaction = false;
    else if (
      inTransaction &&
      ++statements === 1 &&
      config.kill === 'in-write' &&
      transactions === config.at
    ) {
      await stop();
    }
  },
});
const storage = new PostgresStorage({ db: handle, schema: config.schema });
await storage.migrate();
transactions = 0; // count the backfill's write transactions only
const write = storage.write.bind(storage);
let writes = 0;
storage.write = (async (...args: Parameters<typeof write>) => {
  const result = await write(...args);
  if (config.kill === 'after-write' && ++writes === config.at) await stop();
  return result;
}) as typeof storage.write;
await scenarioSync(storage, scenarioClients(config.urls)).backfill();
process.stdout.write('COMPLETED\n');
process.exit(0);
