/**
 * The query parameters of the dashboard's API, checked with zod. Unknown parameters are refused; a bad
 * one becomes a 400 whose body names each parameter and what is wrong with it.
 */
import { z } from 'zod';
import { type DataKind, EXCHANGES, INTERVALS, SOURCES } from '../../src/index.js';
import { KIND_TABLES, KINDS, type SeriesId } from './queries.js';

/** Latest time a request may name: 2200-01-01 (PostgreSQL's timestamps go further; nothing is stored there). */
export const MAX_TIME = Date.UTC(2200, 0, 1);
/** Most rows one page may hold. */
export const MAX_LIMIT = 5_000;

/** `2024-06-01`, `2024-06-01T12:00`, `2024-06-01 12:00:30.5Z`, `2024-06-01T12:00+02:00`. */
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)(Z|[+-]\d{2}:\d{2})?)?$/;

/** Epoch ms (digits) or an ISO 8601 date / date-time, as epoch ms within `[0, MAX_TIME]`. */
const time = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const iso = ISO_TIME.exec(value);
    // A date-time without an offset is read as UTC (Date.parse would take it as local time).
    const ms = /^\d{1,16}$/.test(value)
      ? Number(value)
      : iso
        ? Date.parse(`${iso[1]}${iso[2] ? `T${iso[2]}${iso[3] ?? 'Z'}` : ''}`)
        : Number.NaN;
    if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIME) {
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(value.slice(0, 40))} is not a time (epoch ms, or an ISO date like 2024-06-01 or 2024-06-01T12:00Z, up to 2200)`,
      });
      return z.NEVER;
    }
    return ms;
  });

/** A positive integer within `[1, max]`, from its decimal text. */
const count = (max: number, fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,6}$/, `must be a whole number from 1 to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(1, `must be from 1 to ${max}`).max(max, `must be from 1 to ${max}`))
    .default(fallback);

const symbol = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9]{1,30}$/, 'must be a base asset like BTC (letters and digits)')
  .transform((s) => s.toUpperCase());

const job = z
  .string()
  .regex(/^[A-Za-z0-9_:.-]{1,100}$/, 'must be a job name like live or backfill (letters, digits, _ : . -)')
  .optional();

const dataQuery = z.strictObject({
  source: z
    .enum(SOURCES as [string, ...string[]], { message: `must be one of ${SOURCES.join(', ')}` })
    .optional(),
  exchange: z.enum(EXCHANGES as [string, ...string[]], { message: `must be one of ${EXCHANGES.join(', ')}` }),
  symbol,
  interval: z
    .enum(INTERVALS as unknown as [string, ...string[]], { message: `must be one of ${INTERVALS.join(' ')}` })
    .optional(),
  variant: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,40}$/, 'must be letters, digits or _ (e.g. rsi14, global)')
    .optional(),
  from: time.optional(),
  to: time.optional(),
  cursor: time.optional(),
  limit: count(MAX_LIMIT, 100),
  order: z.enum(['asc', 'desc'], { message: 'must be asc or desc' }).default('desc'),
});

const statusQuery = z.strictObject({ job, limit: count(1_000, 100) });
const seriesQuery = z.strictObject({ kind: z.enum(KINDS as [string, ...string[]]).optional() });
const emptyQuery = z.strictObject({});

/** A request the API refuses: HTTP 400 with the problems listed. */
export class BadRequest extends Error {
  readonly issues: readonly { readonly param: string; readonly message: string }[];
  constructor(issues: readonly { param: string; message: string }[]) {
    super(issues.map((i) => `${i.param}: ${i.message}`).join('; '));
    this.issues = issues;
  }
}

/** Query parameters as an object; a parameter given twice is refused. */
function toObject(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  const twice: string[] = [];
  for (const [k, v] of params) {
    if (k in out) twice.push(k);
    out[k] = v;
  }
  if (twice.length > 0)
    throw new BadRequest([...new Set(twice)].map((param) => ({ param, message: 'given more than once' })));
  return out;
}

function parse<T extends z.ZodType>(schema: T, params: URLSearchParams): z.output<T> {
  const given = toObject(params);
  const result = schema.safeParse(given);
  if (result.success) return result.data;
  throw new BadRequest(
    result.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys')
        return {
          param: issue.keys.join(', '),
          message: `unknown parameter${issue.keys.length > 1 ? 's' : ''} (known: ${Object.keys(schema instanceof z.ZodObject ? schema.shape : {}).join(', ') || 'none'})`,
        };
      const param = issue.path.join('.') || '(query)';
      const missing = issue.path.length === 1 && !(String(issue.path[0]) in given);
      const message = missing ? 'required' : issue.message;
      return { param, message };
    }),
  );
}

/** The parameters of `/api/data/:kind`: the series, the range and the page. */
export interface DataRequest {
  readonly id: SeriesId;
  readonly from: number;
  readonly to: number;
  /** The last `ts` of the page before (`next.cursor` of the previous answer). */
  readonly cursor: number | undefined;
  readonly limit: number;
  readonly order: 'asc' | 'desc';
}

/** Checks `/api/data/:kind`: the kind, its series key (interval and variant where the kind has them) and the page. */
export function parseDataRequest(kindText: string, params: URLSearchParams): DataRequest {
  if (!(KINDS as string[]).includes(kindText))
    throw new BadRequest([
      {
        param: 'kind',
        message: `unknown kind ${JSON.stringify(kindText.slice(0, 40))} (one of ${KINDS.join(', ')})`,
      },
    ]);
  const kind = kindText as DataKind;
  const q = parse(dataQuery, params);
  const t = KIND_TABLES[kind];
  const issues: { param: string; message: string }[] = [];
  if (t.hasInterval && q.interval === undefined)
    issues.push({ param: 'interval', message: `required for ${kind}` });
  if (!t.hasInterval && q.interval !== undefined)
    issues.push({ param: 'interval', message: `${kind} has no interval; leave it out` });
  if (t.variantColumn && q.variant === undefined)
    issues.push({
      param: 'variant',
      message: `required for ${kind} (${t.variants ? `one of ${t.variants.join(', ')}` : 'the indicator name, e.g. rsi14'})`,
    });
  if (t.variantColumn && q.variant !== undefined && t.variants && !t.variants.includes(q.variant))
    issues.push({ param: 'variant', message: `must be one of ${t.variants.join(', ')}` });
  if (!t.variantColumn && q.variant !== undefined)
    issues.push({ param: 'variant', message: `${kind} has no variant; leave it out` });
  const from = q.from ?? 0;
  const to = q.to ?? MAX_TIME;
  if (from >= to) issues.push({ param: 'to', message: 'must be after from' });
  if (issues.length > 0) throw new BadRequest(issues);
  return {
    id: {
      kind,
      source: q.source ?? q.exchange,
      exchange: q.exchange,
      symbol: q.symbol,
      interval: q.interval ?? '',
      variant: q.variant ?? '',
    },
    from,
    to,
    cursor: q.cursor,
    limit: q.limit,
    order: q.order,
  };
}

/** Checks `/api/status`: an optional job and how many rows of each list. */
export function parseStatusRequest(params: URLSearchParams): { job: string | null; limit: number } {
  const q = parse(statusQuery, params);
  return { job: q.job ?? null, limit: q.limit };
}

/** Checks `/api/series`: an optional kind. */
export function parseSeriesRequest(params: URLSearchParams): { kind: DataKind | undefined } {
  return { kind: parse(seriesQuery, params).kind as DataKind | undefined };
}

/** Checks that a request takes no parameters (`/health`). */
export function parseNoParams(params: URLSearchParams): void {
  parse(emptyQuery, params);
}
