/** `openPostgresStorage`: a migrated `PostgresStorage` on a connection string or on embedded PGlite. */
import { InvalidArgumentError, StorageError } from '../../core/errors.js';
import { ownedHandles, type PostgresStorageOptions } from './options.js';
import { PostgresStorage } from './postgres-storage.js';
import type { PGliteLike } from './types.js';

/**
 * Opens a `PostgresStorage` and migrates it: on `url` when one is given (e.g. `process.env.DATABASE_URL`),
 * otherwise on an embedded PGlite database (in memory, or in `dataDir`) that the storage owns and closes.
 * PGlite (`@electric-sql/pglite`) is an optional peer dependency, loaded only in that case.
 * @example
 * import { openPostgresStorage } from 'perpdata';
 *
 * // A server when DATABASE_URL is set, else embedded PGlite in ./.perpdata (migrated either way).
 * const storage = await openPostgresStorage({ url: process.env.DATABASE_URL, dataDir: './.perpdata' });
 * console.log(await storage.coverage('candles', { source: 'binance', exchange: 'binance', symbol: 'BTC', interval: '1m' }));
 * await storage.close();
 */
export async function openPostgresStorage(
  options: Omit<PostgresStorageOptions, 'db'> & {
    /** Connection string; when empty or absent, PGlite is used. @default undefined */
    url?: string | undefined;
    /** PGlite data directory when no `url` is given; in memory when absent. @default undefined */
    dataDir?: string | undefined;
  } = {},
): Promise<PostgresStorage> {
  const { url, dataDir, ...rest } = options;
  let storage: PostgresStorage;
  if (url) storage = new PostgresStorage({ ...rest, db: url });
  else {
    if (rest.pool !== undefined) throw new InvalidArgumentError('pool options apply only with a url');
    // A non-literal specifier keeps bundlers from pulling the optional peer into the build.
    const specifier = '@electric-sql/pglite';
    let mod: { PGlite: new (dataDir?: string) => PGliteLike };
    try {
      mod = (await import(/* @vite-ignore */ specifier)) as { PGlite: new (dataDir?: string) => PGliteLike };
    } catch (err) {
      throw new StorageError('No database url was given and @electric-sql/pglite is not installed', {
        cause: err,
      });
    }
    // PGlite creates its folder but not the folders above it.
    if (dataDir && !dataDir.includes('://')) {
      const { mkdir } = await import('node:fs/promises');
      const { dirname, resolve } = await import('node:path');
      await mkdir(dirname(resolve(dataDir)), { recursive: true });
    }
    const db = new mod.PGlite(dataDir);
    ownedHandles.add(db);
    try {
      storage = new PostgresStorage({ ...rest, db });
    } catch (err) {
      await db.close().catch(() => {});
      throw err;
    }
  }
  try {
    await storage.migrate();
  } catch (err) {
    await storage.close().catch(() => {});
    throw err;
  }
  return storage;
}
