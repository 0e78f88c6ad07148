/**
 * `perpdata`: everything but `perpdata/testing`. The root re-exports the explicit export lists of the
 * entry points (`perpdata/clients`, `perpdata/normalize`, `perpdata/derive`, `perpdata/storage`,
 * `perpdata/pipeline`) and of `src/core`; it never re-exports an implementation file. A name is
 * public when one of those lists names it, or a venue's own list that an entry point reaches through
 * its generated `venues.generated.ts` (test/exports.test.ts pins them, test/docs.test.ts checks each
 * has a summary).
 * @module perpdata
 */
export * from './clients/index.js';
export * from './core/index.js';
export * from './derive/index.js';
export * from './normalize/index.js';
export * from './pipeline/index.js';
export * from './storage/index.js';
