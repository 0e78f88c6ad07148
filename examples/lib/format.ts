/** Number, time and table formatting shared by the examples. */
import type { SeriesKey } from '../../src/index.js';

export const fmt = (n: number) => n.toLocaleString('en-US');
/** `2024-06-01T12:34Z` (seconds shown only when not zero). */
export const iso = (ts: number) => new Date(ts).toISOString().replace(':00.000Z', 'Z').replace('.000Z', 'Z');
export const plural = (n: number, one: string, many = `${one}s`) => `${fmt(n)} ${n === 1 ? one : many}`;
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A lag or a span: `12 s`, `4.5 min`, `2.0 h`, `3.1 d`. */
export function span(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/** A plain-text table with right-aligned numeric columns. */
export function table(head: string[], rows: string[][], numeric: boolean[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** `binance`, or `coinalyze/binance` for an aggregator's series. */
export const venueName = (r: { key: SeriesKey }) =>
  r.key.source === r.key.exchange ? r.key.source : `${r.key.source}/${r.key.exchange}`;
