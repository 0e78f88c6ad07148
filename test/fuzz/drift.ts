/**
 * Drifted payloads for the fuzz suites: a real body with one to three of its nodes removed, blanked
 * (`""`), nulled, given the wrong type or wrapped in extra nesting; and the one assertion every suite
 * makes about what comes out.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { PerpdataError } from '../../src/core/errors.js';

/** What a drift does to one node of the body. */
export type DriftOp =
  | 'delete'
  | 'empty'
  | 'null'
  | 'number'
  | 'string'
  | 'bool'
  | 'object'
  | 'array'
  | 'nest';

/** One drift: `at` picks the node (modulo the node count), `op` says what happens to it. */
export interface Drift {
  readonly at: number;
  readonly op: DriftOp;
}

/** Blanks and nulls weigh most: they are the drifts a string schema lets through. */
const OPS: fc.Arbitrary<DriftOp> = fc.oneof(
  { arbitrary: fc.constant('empty' as const), weight: 4 },
  { arbitrary: fc.constant('null' as const), weight: 2 },
  { arbitrary: fc.constant('delete' as const), weight: 2 },
  { arbitrary: fc.constantFrom<DriftOp>('number', 'string', 'bool', 'object', 'array', 'nest'), weight: 3 },
);

/** One to three drifts. */
export const drifts: fc.Arbitrary<Drift[]> = fc.array(fc.record({ at: fc.nat(), op: OPS }), {
  minLength: 1,
  maxLength: 3,
});

/** Ops that replace a value with another scalar land on leaves (a blank row is a schema error, not a drifted field). */
const LEAF_OPS: ReadonlySet<DriftOp> = new Set(['empty', 'null', 'number', 'string', 'bool']);

type Container = Record<string, unknown> | unknown[];

const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;

/** Every (parent, key) below the root, depth first; only those holding scalars with `leaves`. */
function nodes(root: unknown, leaves: boolean): [Container, string | number][] {
  const out: [Container, string | number][] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        if (!leaves || !isContainer(v)) out.push([value, i]);
        walk(v);
      });
    } else if (isContainer(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (!leaves || !isContainer(v)) out.push([value, k]);
        walk(v);
      }
    }
  };
  walk(root);
  return out;
}

function replaced(op: DriftOp, value: unknown): unknown {
  switch (op) {
    case 'empty':
      return '';
    case 'null':
      return null;
    case 'number':
      return typeof value === 'number' ? String(value) : 12.5;
    case 'string':
      return typeof value === 'string' ? 7 : 'drift';
    case 'bool':
      return true;
    case 'object':
      return {};
    case 'array':
      return [];
    default:
      return Array.isArray(value) ? { value } : [value];
  }
}

/** A copy of `body` with `plan` applied (the root itself is never replaced). */
export function applyDrift(body: unknown, plan: readonly Drift[]): unknown {
  const copy = structuredClone(body);
  for (const d of plan) {
    const all = nodes(copy, LEAF_OPS.has(d.op));
    if (all.length === 0) return copy;
    const [parent, key] = all[d.at % all.length]!;
    if (d.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
    } else {
      (parent as Record<string | number, unknown>)[key] = replaced(
        d.op,
        (parent as Record<string | number, unknown>)[key],
      );
    }
  }
  return copy;
}

/** Every message, meta value and stack of `error` and its causes, as one string. */
function everything(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  for (let depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (e instanceof Error) {
      parts.push(e.message, String(e.stack));
      if (e instanceof PerpdataError) parts.push(JSON.stringify(e.meta));
      e = (e as { cause?: unknown }).cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join('\n');
}

/** The suite's contract for one outcome: no error, or a perpdata error naming `venue` and one of `endpoints`, without secrets. */
export function expectContained(
  error: unknown,
  venue: string,
  endpoints: readonly string[],
  secrets: readonly string[],
): void {
  if (error === undefined) return;
  if (!(error instanceof PerpdataError)) {
    throw new Error(
      `escaped a ${(error as Error)?.name ?? typeof error}: ${String((error as Error)?.message ?? error)}`,
      {
        cause: error,
      },
    );
  }
  const e = error as PerpdataError & { venue?: string; endpoint?: string };
  expect(e.venue ?? e.meta.Venue, e.message).toBe(venue);
  expect(endpoints, e.message).toContain(e.endpoint ?? e.meta.Endpoint);
  const text = everything(error);
  for (const secret of secrets)
    expect(text.includes(secret), `secret in ${e.name}: ${e.message}`).toBe(false);
}

/** Every number of every record is finite (records never carry `NaN`). */
export function expectFiniteRecords(records: readonly unknown[]): void {
  for (const record of records) {
    for (const [key, value] of Object.entries(record as object)) {
      if (typeof value === 'number') expect(Number.isFinite(value), `${key} = ${value}`).toBe(true);
    }
  }
}

/** Runs per property; the whole test/fuzz folder stays well under a minute. */
export const RUNS = Number(process.env.PERPDATA_FUZZ_RUNS ?? 40);
