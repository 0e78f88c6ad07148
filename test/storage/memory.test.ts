import { describe, expect, test } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { MemoryStorage } from '../../src/storage/index.js';
import { storageContract } from './contract.js';
import { BTC_1M, candles } from './fixtures.js';

storageContract('MemoryStorage', async (options = {}) => {
  const storage = new MemoryStorage(options);
  await storage.migrate();
  return storage;
});

describe('MemoryStorage', () => {
  test('error: options are validated when constructed', () => {
    expect(() => new MemoryStorage({ onConflict: 'replace' as never })).toThrow(
      /onConflict must be 'update' or 'ignore'/,
    );
    expect(() => new MemoryStorage({ readPageSize: 0 })).toThrow(InvalidArgumentError);
    expect(() => new MemoryStorage({ readPageSiz: 5 } as never)).toThrow(/unknown option "readPageSiz"/);
  });

  test('behavior: stored rows are frozen copies, unaffected by later changes to the written objects', async () => {
    const storage = new MemoryStorage();
    const rows = candles(2);
    await storage.write('candles', rows);
    (rows[0] as { close: number }).close = -1;
    let first: unknown;
    for await (const page of storage.read('candles', BTC_1M, 0, Date.UTC(2030, 0, 1))) first = page[0];
    expect(first).toMatchObject({ close: candles(1)[0]?.close });
    expect(Object.isFrozen(first)).toBe(true);
  });
});
