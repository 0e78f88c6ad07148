/**
 * The coverage ledger shared by every adapter: validation of `write()` options and their marks, and the
 * interval algebra (a mark overwrites its range, equal adjacent intervals merge). Pure; no I/O.
 */
import { InvalidArgumentError } from '../core/errors.js';
import type { DataKind } from '../core/types.js';
import type { CoverageInterval, CoverageState } from './adapter.js';
import { keyFields } from './records.js';
import { checkOptionKeys, MAX_TS, seriesKeyProblem, seriesKeyValues, show, specOf } from './validate.js';

/** Longest accepted `reason` of an `empty` mark. */
export const MAX_REASON_LENGTH = 200;

/** A validated mark with its series key values in key order. */
export interface LedgerMark {
  /** Key values in key order (`source, exchange, symbol, [interval], [kind|name]`). */
  readonly values: readonly string[];
  /** `values` joined, to group marks by series. */
  readonly id: string;
  readonly from: number;
  readonly to: number;
  readonly state: CoverageState;
  readonly reason: string | undefined;
}

/** The marks of one series of a write, in the order they were given. */
export interface LedgerSeries {
  readonly values: readonly string[];
  readonly id: string;
  readonly marks: LedgerMark[];
  /** Smallest `from` and largest `to` of the marks. */
  from: number;
  to: number;
}

function boundProblem(value: unknown, max: number): string | undefined {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return 'expected integer epoch milliseconds';
  if (value < 0 || value > max) return 'expected epoch milliseconds between 1970 and 2100';
  return undefined;
}

/**
 * Validates the options of `write(kind, rows, options)` and returns the ledger marks grouped by series
 * (empty when there are none). Throws an `InvalidArgumentError` naming the first invalid mark and field.
 */
export function validateWriteOptions(kind: DataKind, options: unknown): LedgerSeries[] {
  const op = `write('${kind}')`;
  if (options === undefined) return [];
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`${op}: options must be an object, got ${show(options)}`);
  }
  checkOptionKeys(`${op} options`, options, ['coverage']);
  const marks = (options as { coverage?: unknown }).coverage;
  if (marks === undefined) return [];
  if (!Array.isArray(marks)) {
    throw new InvalidArgumentError(`${op}: options.coverage must be an array of marks, got ${show(marks)}`);
  }
  const bySeries = new Map<string, LedgerSeries>();
  for (let i = 0; i < marks.length; i++) {
    const mark = validateMark(kind, marks[i], i);
    let series = bySeries.get(mark.id);
    if (!series) {
      series = { values: mark.values, id: mark.id, marks: [], from: mark.from, to: mark.to };
      bySeries.set(mark.id, series);
    }
    series.marks.push(mark);
    if (mark.from < series.from) series.from = mark.from;
    if (mark.to > series.to) series.to = mark.to;
  }
  return [...bySeries.values()];
}

function validateMark(kind: DataKind, mark: unknown, i: number): LedgerMark {
  const op = `write('${kind}')`;
  const at = `coverage[${i}]`;
  const fail = (field: string, problem: string) =>
    new InvalidArgumentError(`${op} refused the marks: ${at}.${field} ${problem}`, {
      meta: { Kind: kind, Mark: i, Field: field },
    });
  if (typeof mark !== 'object' || mark === null || Array.isArray(mark)) {
    throw new InvalidArgumentError(`${op} refused the marks: ${at} must be an object, got ${show(mark)}`, {
      meta: { Kind: kind, Mark: i },
    });
  }
  const m = mark as Record<string, unknown>;
  checkOptionKeys(`${op} ${at}`, m, ['key', 'from', 'to', 'state', 'reason']);
  const spec = specOf(kind);
  if (typeof m.key !== 'object' || m.key === null)
    throw fail('key', `is ${show(m.key)}; expected a series key`);
  const keyProblem = seriesKeyProblem(spec, m.key);
  if (keyProblem) throw fail(`key.${keyProblem[0]}`, keyProblem[1]);
  const fromProblem = boundProblem(m.from, MAX_TS - 1);
  if (fromProblem) throw fail('from', `is ${show(m.from)}; ${fromProblem}`);
  const toProblem = boundProblem(m.to, MAX_TS);
  if (toProblem) throw fail('to', `is ${show(m.to)}; ${toProblem}`);
  const from = m.from as number;
  const to = m.to as number;
  if (from >= to) {
    throw new InvalidArgumentError(
      `${op} refused the marks: ${at} is ${from === to ? 'empty' : 'inverted'}: from (${from}) must be before to (${to})`,
      { meta: { Kind: kind, Mark: i } },
    );
  }
  if (m.state !== 'stored' && m.state !== 'empty') {
    throw fail('state', `is ${show(m.state)}; expected 'stored' or 'empty'`);
  }
  let reason: string | undefined;
  if (m.reason !== undefined) {
    if (m.state === 'stored')
      throw fail('reason', `is ${show(m.reason)}; a reason applies only to 'empty' marks`);
    if (typeof m.reason !== 'string' || m.reason.length === 0 || m.reason.length > MAX_REASON_LENGTH) {
      throw fail(
        'reason',
        `is ${show(m.reason)}; expected a non-empty string of at most ${MAX_REASON_LENGTH} characters`,
      );
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL cannot be stored in a Postgres text column.
    if (/\u0000/.test(m.reason)) throw fail('reason', 'must not contain NUL characters');
    reason = m.reason;
  }
  const values = seriesKeyValues(spec, m.key);
  return { values, id: values.join('\u0000'), from, to, state: m.state, reason };
}

/** Validates the optional `[from, to)` of `coverage()`; returns it clamped to the storable range. */
export function validateCoverageRange(kind: DataKind, from: unknown, to: unknown): [number, number] {
  const op = `coverage('${kind}')`;
  const lo = from === undefined ? 0 : from;
  const hi = to === undefined ? MAX_TS : to;
  for (const [name, value] of [
    ['from', lo],
    ['to', hi],
  ] as const) {
    if (typeof value !== 'number' || Number.isNaN(value)) {
      throw new InvalidArgumentError(`${op}: ${name} is ${show(value)}; expected epoch milliseconds`);
    }
  }
  if ((lo as number) > (hi as number)) {
    throw new InvalidArgumentError(`${op}: from (${lo}) is after to (${hi})`);
  }
  return [Math.min(Math.max(lo as number, 0), MAX_TS), Math.min(Math.max(hi as number, 0), MAX_TS)];
}

function sameState(a: CoverageInterval, b: { state: CoverageState; reason?: string | undefined }): boolean {
  return a.state === b.state && a.reason === b.reason;
}

function interval(
  from: number,
  to: number,
  state: CoverageState,
  reason: string | undefined,
): CoverageInterval {
  return reason === undefined ? { from, to, state } : { from, to, state, reason };
}

/**
 * Applies marks in order to a series' ledger (ascending, disjoint): each mark replaces what the ledger
 * said over its range, then adjacent intervals with equal state and reason merge. Returns a new list.
 */
export function applyMarks(
  ledger: readonly CoverageInterval[],
  marks: readonly Pick<LedgerMark, 'from' | 'to' | 'state' | 'reason'>[],
): CoverageInterval[] {
  let list = ledger as CoverageInterval[];
  for (const mark of marks) {
    const out: CoverageInterval[] = [];
    let placed = false;
    for (const iv of list) {
      if (iv.to <= mark.from) {
        out.push(iv);
        continue;
      }
      if (iv.from < mark.from) out.push(interval(iv.from, mark.from, iv.state, iv.reason));
      if (!placed) {
        out.push(interval(mark.from, mark.to, mark.state, mark.reason));
        placed = true;
      }
      if (iv.to > mark.to) out.push(interval(Math.max(iv.from, mark.to), iv.to, iv.state, iv.reason));
    }
    if (!placed) out.push(interval(mark.from, mark.to, mark.state, mark.reason));
    list = merge(out);
  }
  return list === ledger ? [...ledger] : list;
}

/** Merges touching or overlapping neighbours with equal state and reason (input ascending by `from`). */
function merge(list: readonly CoverageInterval[]): CoverageInterval[] {
  const out: CoverageInterval[] = [];
  for (const iv of list) {
    const last = out[out.length - 1];
    if (last && last.to >= iv.from && sameState(last, iv)) {
      if (iv.to > last.to) out[out.length - 1] = interval(last.from, iv.to, last.state, last.reason);
    } else out.push(iv);
  }
  return out;
}

/** The intervals of an ascending ledger that meet `[from, to)`, clipped to it. */
export function clipLedger(
  ledger: readonly CoverageInterval[],
  from: number,
  to: number,
): CoverageInterval[] {
  const out: CoverageInterval[] = [];
  if (from >= to) return out;
  for (const iv of ledger) {
    if (iv.to <= from || iv.from >= to) continue;
    out.push(interval(Math.max(iv.from, from), Math.min(iv.to, to), iv.state, iv.reason));
  }
  return out;
}

/** Key values of a kind's series key for the ledger: `[source, exchange, symbol, interval or '', variant or '']`. */
export function ledgerKey(
  kind: DataKind,
  values: readonly string[],
): [string, string, string, string, string] {
  const spec = specOf(kind);
  const fields = keyFields(spec);
  const get = (f: string) => {
    const i = fields.indexOf(f);
    return i < 0 ? '' : (values[i] as string);
  };
  return [
    get('source'),
    get('exchange'),
    get('symbol'),
    get('interval'),
    spec.subKey ? get(spec.subKey.field) : '',
  ];
}
