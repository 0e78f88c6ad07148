/**
 * Rows between `PostgresStorage` and its tables: result rows to records, coverage intervals, stored
 * status and errors; status and error entries to statement parameters.
 */
import type { DataKind, RecordOf, SeriesKey } from '../../core/types.js';
import type { CoverageInterval, StoredError, StoredStatus } from '../adapter.js';
import type { CleanError, CleanStatus } from '../log.js';
import type { Column } from './sql.js';

type Row = Record<string, unknown>;

/** A ledger row of `selectCoverage` as an interval (`reason` only where stored). */
export function intervalOf(r: Row): CoverageInterval {
  return r.reason === null || r.reason === undefined
    ? { from: r.from as number, to: r.to as number, state: r.state as CoverageInterval['state'] }
    : {
        from: r.from as number,
        to: r.to as number,
        state: r.state as CoverageInterval['state'],
        reason: r.reason as string,
      };
}

/** A data row of `readPage` as a record: the series key (`base`), `ts`, and the value columns not null. */
export function recordOf<K extends DataKind>(base: Row, values: readonly Column[], row: Row): RecordOf<K> {
  const record: Row = { ...base, ts: row.ts };
  for (const v of values) {
    const value = row[v.field];
    if (value !== null && value !== undefined) record[v.field] = value;
  }
  return record as unknown as RecordOf<K>;
}

function seriesOf(r: Row): { series?: SeriesKey } {
  if (r.source === null || r.source === undefined) return {};
  const series: Row = { source: r.source, exchange: r.exchange, symbol: r.symbol };
  if (r.interval !== null) series.interval = r.interval;
  if (r.kind !== null) series.kind = r.kind;
  return { series: series as unknown as SeriesKey };
}

/** A row of `selectStatus`. */
export function storedStatusOf(r: Row): StoredStatus {
  return {
    job: r.job as string,
    status: r.status as StoredStatus['status'],
    ts: r.ts as number,
    ...seriesOf(r),
    ...(r.message !== null ? { message: r.message as string } : {}),
    ...(r.progress !== null ? { progress: r.progress as number } : {}),
  };
}

/** A row of `selectErrors` (`detail` parsed where the driver returns JSON as text). */
export function storedErrorOf(r: Row): StoredError {
  return {
    job: r.job as string,
    message: r.message as string,
    ts: r.ts as number,
    ...seriesOf(r),
    ...(r.code !== null ? { code: r.code as string } : {}),
    ...(r.detail !== null ? { detail: typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail } : {}),
  };
}

/** The parameters of `upsertStatus`. */
export function statusParams(e: CleanStatus): unknown[] {
  return [
    e.job,
    e.seriesLabel,
    e.series?.source ?? null,
    e.series?.exchange ?? null,
    e.series?.symbol ?? null,
    e.series?.interval ?? null,
    e.series?.kind ?? null,
    e.status,
    e.message ?? null,
    e.progress ?? null,
    e.ts,
  ];
}

/** The parameters of `insertError`. */
export function errorParams(e: CleanError): unknown[] {
  return [
    e.job,
    e.seriesLabel,
    e.series?.source ?? null,
    e.series?.exchange ?? null,
    e.series?.symbol ?? null,
    e.series?.interval ?? null,
    e.series?.kind ?? null,
    e.code ?? null,
    e.message,
    e.detail === undefined ? null : JSON.stringify(e.detail),
    e.ts,
  ];
}
