/**
 * The scenario's backfill in a child process, for SIGKILL tests: it prints `KILL ME` and stops
 * making progress at a chosen point (`in-write`: inside the N-th write transaction, its rows and marks
 * sent and COMMIT not; `after-write`: right after the N-th write committed, before the next
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
let writeTransaction = false;
let transactions = 0;
const { handle } = instrument(pool, {
  async after(text) {
    // A write of rows begins with BEGIN and its ledger lock in one statement.
    if (text.startsWith('BEGIN')) writeTransaction = /pg_advisory_xact_lock/.test(text);
  },
  async before(text) {
    // Inside the N-th write: its rows and marks are sent, COMMIT is not.
    if (text === 'COMMIT' && writeTransaction && ++transactions === config.at && config.kill === 'in-write') {
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
