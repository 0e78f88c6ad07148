/**
 * The coverage ledger's part of a write: the advisory lock keys that serialise updates of one series,
 * and the parameters of the ledger statements (`extendCoverage`, `updateCoverage` in `sql.ts`).
 */

import type { DataKind } from '../../core/types.js';
import type { CoverageInterval } from '../adapter.js';
import { applyMarks, type LedgerSeries, ledgerKey } from '../coverage.js';
import { MAX_TS } from '../validate.js';
import { fnv1a, type Tables } from './sql.js';

/** First key of the advisory locks that serialise ledger updates of one series (`'perc'` in ASCII). */
const LEDGER_LOCK_CLASS = 0x70657263;

/** FNV-1a of a string as a signed 32-bit integer (an advisory lock key). */
function fnv1aInt(text: string): number {
  return Number.parseInt(fnv1a(text), 16) | 0;
}

/** Advisory lock keys serialising ledger updates of the write's series, in a fixed order. */
export function ledgerLocks(t: Tables, kind: DataKind, ledger: readonly LedgerSeries[]): [number, number][] {
  const base = `${t.schema}.${t.prefix}\u0000${kind}\u0000`;
  const keys = [...new Set(ledger.map((series) => fnv1aInt(base + series.id)))].sort((a, b) => a - b);
  return keys.map((k) => [LEDGER_LOCK_CLASS, k]);
}

/**
 * The parameters of `extendCoverage` for a write of one series whose marks merge into one: the series
 * key, the mark, then the newest-ts key arrays (`newest`, empty when the statement does not look up).
 */
export function extendParams(
  kind: DataKind,
  entry: LedgerSeries,
  mark: CoverageInterval,
  newest: readonly unknown[],
): unknown[] {
  const key = ledgerKey(kind, entry.values);
  return [kind, ...key, mark.from, mark.to, mark.state, mark.reason ?? null, ...newest];
}

/** Past the largest storable `to`: the end of the last gap after a series' marks. */
const LEDGER_END = MAX_TS + 1;

/**
 * The parameters of `updateCoverage` (before the newest-ts arrays) for the marks of one write: per series
 * its key and the hull of its marks, the marks applied in order among themselves (disjoint, merged), and
 * the gaps between them from 0 to past 2100, where the stored intervals are kept.
 */
export function ledgerParams(kind: DataKind, ledger: readonly LedgerSeries[]): unknown[] {
  const series: unknown[][] = [[], [], [], [], [], [], []];
  const marks: unknown[][] = [[], [], [], [], []];
  const gaps: unknown[][] = [[], [], []];
  ledger.forEach((entry, i) => {
    const n = i + 1;
    const key = ledgerKey(kind, entry.values);
    for (let c = 0; c < 5; c++) (series[c] as unknown[]).push(key[c]);
    (series[5] as unknown[]).push(entry.from);
    (series[6] as unknown[]).push(entry.to);
    let end = 0;
    for (const mark of applyMarks([], entry.marks)) {
      (marks[0] as unknown[]).push(n);
      (marks[1] as unknown[]).push(mark.from);
      (marks[2] as unknown[]).push(mark.to);
      (marks[3] as unknown[]).push(mark.state);
      (marks[4] as unknown[]).push(mark.reason ?? null);
      if (mark.from > end) pushGap(gaps, n, end, mark.from);
      end = mark.to;
    }
    pushGap(gaps, n, end, LEDGER_END);
  });
  return [kind, ...series, ...marks, ...gaps];
}

function pushGap(gaps: unknown[][], n: number, from: number, to: number): void {
  (gaps[0] as unknown[]).push(n);
  (gaps[1] as unknown[]).push(from);
  (gaps[2] as unknown[]).push(to);
}
