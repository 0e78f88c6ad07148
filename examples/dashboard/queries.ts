/**
 * The dashboard's reads, in SQL over the tables `PostgresStorage` creates (`<schema>.<prefix>candles`,
 * `…coverage`, `…status`, `…errors`, …). Every identifier comes from the fixed map below or from the
 * schema and prefix checked at startup (`[a-z_][a-z0-9_]*`, the storage's own rule), and every statement
 * text is built once when the dashboard starts; what a request brings travels as bind parameters only.
 * Times come back as epoch ms (`float8`), counts and values as `float8`, so both `pg` and PGlite return
 * JS numbers.
 */
import type { DataKind } from '../../src/index.js';

/** What the dashboard needs of a database handle: a `pg.Pool`, a `pg.Client` or a PGlite instance. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** One value column of a data table: its name in the table and the property it is served as. */
interface ValueColumn {
  readonly column: string;
  readonly field: string;
  readonly time?: true;
}

/** How one data kind is stored: its table (without prefix), series-key shape and value columns. */
export interface KindTable {
  readonly table: string;
  readonly hasInterval: boolean;
  /** The key column `SeriesKey.kind` maps to (the ledger's `variant`): `kind` or `name`. */
  readonly variantColumn: 'kind' | 'name' | undefined;
  /** The closed set of variants, where there is one. */
  readonly variants?: readonly string[];
  readonly values: readonly ValueColumn[];
}

const v = (column: string, field = column): ValueColumn => ({ column, field });

/**
 * The whitelist: every table and column a query may name. It mirrors `KIND_SPECS` of
 * src/storage/records.ts (a test checks that the two agree).
 */
export const KIND_TABLES: { readonly [K in DataKind]: KindTable } = {
  candles: {
    table: 'candles',
    hasInterval: true,
    variantColumn: undefined,
    values: [
      v('open'),
      v('high'),
      v('low'),
      v('close'),
      v('volume'),
      v('quote_volume', 'quoteVolume'),
      v('trades'),
      v('taker_buy_volume', 'takerBuyVolume'),
    ],
  },
  funding: {
    table: 'funding',
    hasInterval: false,
    variantColumn: undefined,
    values: [v('rate'), v('mark_price', 'markPrice')],
  },
  predictedFunding: {
    table: 'predicted_funding',
    hasInterval: false,
    variantColumn: undefined,
    values: [v('rate'), { column: 'next_funding_time', field: 'nextFundingTime', time: true }],
  },
  openInterest: {
    table: 'open_interest',
    hasInterval: true,
    variantColumn: undefined,
    values: [v('open_interest', 'openInterest'), v('open_interest_usd', 'openInterestUsd')],
  },
  longShortRatio: {
    table: 'long_short_ratio',
    hasInterval: true,
    variantColumn: 'kind',
    variants: ['global', 'topAccount', 'topPosition'],
    values: [v('ratio'), v('long_share', 'longShare'), v('short_share', 'shortShare')],
  },
  takerVolume: {
    table: 'taker_volume',
    hasInterval: true,
    variantColumn: undefined,
    values: [v('buy_volume', 'buyVolume'), v('sell_volume', 'sellVolume')],
  },
  liquidations: {
    table: 'liquidations',
    hasInterval: true,
    variantColumn: undefined,
    values: [v('long_usd', 'longUsd'), v('short_usd', 'shortUsd')],
  },
  indicators: {
    table: 'indicators',
    hasInterval: true,
    variantColumn: 'name',
    values: [v('value')],
  },
};

export const KINDS = Object.keys(KIND_TABLES) as DataKind[];

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** Quotes an identifier of the whitelist (or a checked schema / prefixed name). */
const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Epoch ms of a timestamptz expression. */
const ms = (expr: string): string => `(extract(epoch FROM ${expr}) * 1000)::float8`;

/** Checks a schema name and a table prefix as `PostgresStorage` does; throws a message otherwise. */
export function checkNames(schema: string, prefix: string): void {
  if (!IDENTIFIER.test(schema) || schema.length > 63 || schema.startsWith('pg_'))
    throw new Error(
      `schema must be a lower-case SQL identifier ([a-z_][a-z0-9_]*), got ${JSON.stringify(schema)}`,
    );
  if ((prefix !== '' && !IDENTIFIER.test(prefix)) || prefix.length > 40)
    throw new Error(
      `table prefix must be empty or a lower-case SQL identifier ([a-z_][a-z0-9_]*), got ${JSON.stringify(prefix)}`,
    );
}

/** A series' key as the dashboard passes it around: `''` where the kind has no interval or variant. */
export interface SeriesId {
  readonly kind: DataKind;
  readonly source: string;
  readonly exchange: string;
  readonly symbol: string;
  readonly interval: string;
  readonly variant: string;
}

/** One ledger interval. */
export interface LedgerInterval {
  readonly from: number;
  readonly to: number;
  readonly state: 'stored' | 'empty';
  readonly reason?: string;
}

/** A series as `/api/series` lists it. */
export interface SeriesSummary extends SeriesId {
  readonly rows: number;
  /** First and last stored `ts` (`null` when the ledger knows the series but no row is stored). */
  readonly first: number | null;
  readonly last: number | null;
  readonly coverage: {
    /** Hull of the ledger (`null` without ledger rows). */
    readonly from: number | null;
    readonly to: number | null;
    readonly intervals: readonly LedgerInterval[];
    /** What lies between ledger intervals inside the hull: neither stored nor known empty. */
    readonly holes: readonly { readonly from: number; readonly to: number }[];
    readonly storedMs: number;
    readonly emptyMs: number;
    readonly missingMs: number;
  };
  /** Where the series is known up to: the ledger's end, else the last row (plus its interval). */
  readonly end: number | null;
  /** `now - end` (0 when the end is ahead), `null` without an end. */
  readonly lagMs: number | null;
}

/** A status row of `<prefix>status`. */
export interface StatusRow {
  readonly job: string;
  readonly series: string;
  readonly source: string | null;
  readonly exchange: string | null;
  readonly symbol: string | null;
  readonly interval: string | null;
  readonly kind: string | null;
  readonly status: string;
  readonly message: string | null;
  readonly progress: number | null;
  readonly ts: number;
  readonly updatedAt: number;
}

/** An error row of `<prefix>errors`. */
export interface ErrorRow {
  readonly id: number;
  readonly job: string;
  readonly series: string;
  readonly code: string | null;
  readonly message: string;
  readonly detail: unknown;
  readonly ts: number;
  readonly loggedAt: number;
}

/** The fixed-period length of an interval spelling (`1m` … `1w`); `undefined` for `1M` or none. */
export function periodMs(interval: string): number | undefined {
  const m = /^(\d+)([mhdw])$/.exec(interval);
  if (!m) return undefined;
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'm'];
  return Number(m[1]) * unit;
}

type Row = Record<string, unknown>;

/** The series-key columns of a kind's table, in key order. */
export function keyColumns(kind: DataKind): string[] {
  const t = KIND_TABLES[kind];
  return [
    'source',
    'exchange',
    'symbol',
    ...(t.hasInterval ? ['interval'] : []),
    ...(t.variantColumn ? [t.variantColumn] : []),
  ];
}

const text = (value: unknown): string => (value === null || value === undefined ? '' : String(value));
const num = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value as number);

/**
 * The statements of one storage's tables, built once. `schema` and `prefix` must have passed
 * `checkNames`.
 */
export class DashboardQueries {
  readonly schema: string;
  readonly prefix: string;
  readonly #db: Queryable;
  readonly #sql: {
    readonly tablesPresent: string;
    readonly version: string;
    readonly seriesOf: Readonly<Record<DataKind, string>>;
    readonly ledger: string;
    readonly page: Readonly<Record<DataKind, { asc: string; desc: string; count: string }>>;
    readonly status: string;
    readonly jobs: string;
    readonly statusCounts: string;
    readonly errors: string;
  };

  constructor(db: Queryable, schema: string, prefix: string) {
    checkNames(schema, prefix);
    this.#db = db;
    this.schema = schema;
    this.prefix = prefix;
    const q = (name: string) => `${ident(schema)}.${ident(prefix + name)}`;
    const seriesOf = {} as Record<DataKind, string>;
    const page = {} as Record<DataKind, { asc: string; desc: string; count: string }>;
    for (const kind of KINDS) {
      const t = KIND_TABLES[kind];
      const interval = t.hasInterval ? `t."interval"` : `''`;
      const variant = t.variantColumn ? `t.${ident(t.variantColumn)}` : `''`;
      seriesOf[kind] =
        `SELECT t.source, t.exchange, t.symbol, ${interval} AS "interval", ${variant} AS variant, ` +
        `count(*)::float8 AS n, ${ms('min(t.ts)')} AS first, ${ms('max(t.ts)')} AS last ` +
        `FROM ${q(t.table)} AS t GROUP BY 1, 2, 3, 4, 5`;
      // Parameters: the key columns' values (source, exchange, symbol, then interval and the variant
      // where the kind has them), from and to (epoch ms), then for a page the cursor and the row limit.
      const keys = keyColumns(kind);
      const n = keys.length;
      const where =
        keys.map((k, i) => `t.${ident(k)} = $${i + 1}`).join(' AND ') +
        ` AND t.ts >= to_timestamp($${n + 1}::float8 / 1000) AND t.ts < to_timestamp($${n + 2}::float8 / 1000)`;
      const cols = [
        `${ms('t.ts')} AS ts`,
        ...t.values.map(
          (c) =>
            `${c.time ? ms(`t.${ident(c.column)}`) : `t.${ident(c.column)}::float8`} AS ${ident(c.field)}`,
        ),
      ].join(', ');
      const select = `SELECT ${cols} FROM ${q(t.table)} AS t WHERE ${where}`;
      // The cursor ($n+3): the last ts of the page before (asc: rows after it; desc: rows before it).
      const cursor = `to_timestamp($${n + 3}::float8 / 1000)`;
      page[kind] = {
        asc: `${select} AND t.ts > ${cursor} ORDER BY t.ts ASC LIMIT $${n + 4}`,
        desc: `${select} AND t.ts < ${cursor} ORDER BY t.ts DESC LIMIT $${n + 4}`,
        count: `SELECT count(*)::float8 AS n FROM ${q(t.table)} AS t WHERE ${where}`,
      };
    }
    const tableNames = [
      ...KINDS.map((k) => KIND_TABLES[k].table),
      'coverage',
      'status',
      'errors',
      'migrations',
    ];
    this.#sql = {
      // One row per table: whether it exists (names as parameters, `schema.table` quoted).
      tablesPresent: `SELECT n.name, to_regclass(quote_ident($1::text) || '.' || quote_ident($2::text || n.name)) IS NOT NULL AS present FROM unnest($3::text[]) AS n(name)`,
      version: `SELECT coalesce(max(version), 0)::float8 AS v FROM ${q('migrations')}`,
      seriesOf,
      ledger:
        `SELECT kind, source, exchange, symbol, "interval", variant, ${ms('from_ts')} AS "from", ${ms('to_ts')} AS "to", state, reason ` +
        `FROM ${q('coverage')} ORDER BY kind, source, exchange, symbol, "interval", variant, from_ts`,
      page,
      status:
        `SELECT job, series, source, exchange, symbol, "interval", kind, status, message, progress, ${ms('ts')} AS ts, ${ms('updated_at')} AS updated_at ` +
        `FROM ${q('status')} WHERE ($1::text IS NULL OR job = $1) ORDER BY updated_at DESC, job, series LIMIT $2`,
      jobs:
        `SELECT job, series, source, exchange, symbol, "interval", kind, status, message, progress, ${ms('ts')} AS ts, ${ms('updated_at')} AS updated_at ` +
        `FROM ${q('status')} WHERE series = '' AND ($1::text IS NULL OR job = $1) ORDER BY job LIMIT 1000`,
      statusCounts: `SELECT status, count(*)::float8 AS n FROM ${q('status')} WHERE ($1::text IS NULL OR job = $1) GROUP BY status ORDER BY status`,
      errors:
        `SELECT id::float8 AS id, job, series, code, message, detail, ${ms('ts')} AS ts, ${ms('logged_at')} AS logged_at ` +
        `FROM ${q('errors')} WHERE ($1::text IS NULL OR job = $1) ORDER BY ts DESC, id DESC LIMIT $2`,
    };
    this.tableNames = tableNames;
  }

  /** Table names without prefix that the dashboard reads. */
  readonly tableNames: readonly string[];

  async #rows(text: string, values: unknown[] = []): Promise<Row[]> {
    return (await this.#db.query(text, values)).rows as Row[];
  }

  /** Which of the tables exist, and the schema version (`0` without a migrations table). */
  async health(): Promise<{ tables: Record<string, boolean>; version: number }> {
    const rows = await this.#rows(this.#sql.tablesPresent, [this.schema, this.prefix, this.tableNames]);
    const tables: Record<string, boolean> = {};
    for (const r of rows) tables[this.prefix + String(r.name)] = r.present === true;
    const version = tables[`${this.prefix}migrations`]
      ? Number((await this.#rows(this.#sql.version))[0]?.v ?? 0)
      : 0;
    return { tables, version };
  }

  /** Every series of the data tables and the ledger, with counts, ends, coverage, holes and lag. */
  async series(now: number): Promise<SeriesSummary[]> {
    const present = (await this.health()).tables;
    const byId = new Map<
      string,
      { id: SeriesId; rows: number; first: number | null; last: number | null; ledger: LedgerInterval[] }
    >();
    const entry = (id: SeriesId) => {
      const key = [id.kind, id.source, id.exchange, id.symbol, id.interval, id.variant].join('\u0000');
      let e = byId.get(key);
      if (!e) {
        e = { id, rows: 0, first: null, last: null, ledger: [] };
        byId.set(key, e);
      }
      return e;
    };
    const idOf = (kind: DataKind, r: Row): SeriesId => ({
      kind,
      source: text(r.source),
      exchange: text(r.exchange),
      symbol: text(r.symbol),
      interval: text(r.interval),
      variant: text(r.variant),
    });
    for (const kind of KINDS) {
      if (!present[this.prefix + KIND_TABLES[kind].table]) continue;
      for (const r of await this.#rows(this.#sql.seriesOf[kind])) {
        const e = entry(idOf(kind, r));
        e.rows = Number(r.n);
        e.first = num(r.first);
        e.last = num(r.last);
      }
    }
    if (present[`${this.prefix}coverage`])
      for (const r of await this.#rows(this.#sql.ledger)) {
        const kind = text(r.kind) as DataKind;
        if (!(kind in KIND_TABLES)) continue;
        entry(idOf(kind, r)).ledger.push({
          from: Number(r.from),
          to: Number(r.to),
          state: r.state === 'empty' ? 'empty' : 'stored',
          ...(r.reason === null || r.reason === undefined ? {} : { reason: String(r.reason) }),
        });
      }
    const out: SeriesSummary[] = [];
    for (const { id, rows, first, last, ledger } of byId.values()) {
      const holes: { from: number; to: number }[] = [];
      let storedMs = 0;
      let emptyMs = 0;
      for (let i = 0; i < ledger.length; i++) {
        const iv = ledger[i] as LedgerInterval;
        if (iv.state === 'stored') storedMs += iv.to - iv.from;
        else emptyMs += iv.to - iv.from;
        const next = ledger[i + 1];
        if (next && next.from > iv.to) holes.push({ from: iv.to, to: next.from });
      }
      const from = ledger[0]?.from ?? null;
      const to = ledger.at(-1)?.to ?? null;
      const period = periodMs(id.interval) ?? 0;
      const end = to ?? (last === null ? null : last + period);
      out.push({
        ...id,
        rows,
        first,
        last,
        coverage: {
          from,
          to,
          intervals: ledger,
          holes,
          storedMs,
          emptyMs,
          missingMs: holes.reduce((n, h) => n + h.to - h.from, 0),
        },
        end,
        lagMs: end === null ? null : Math.max(0, now - end),
      });
    }
    out.sort(
      (a, b) =>
        KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) ||
        a.source.localeCompare(b.source) ||
        a.exchange.localeCompare(b.exchange) ||
        a.symbol.localeCompare(b.symbol) ||
        (periodMs(a.interval) ?? 0) - (periodMs(b.interval) ?? 0) ||
        a.interval.localeCompare(b.interval) ||
        a.variant.localeCompare(b.variant),
    );
    return out;
  }

  /**
   * One page of one series over `[from, to)`, after `cursor` (`asc`) or before it (`desc`): `limit + 1`
   * rows are read so that the page knows whether another follows; `total` counts the whole range.
   */
  async page(
    id: SeriesId,
    range: { from: number; to: number; cursor: number | undefined; limit: number; order: 'asc' | 'desc' },
  ): Promise<{ rows: Row[]; more: boolean; total: number }> {
    const sql = this.#sql.page[id.kind];
    const key: Record<string, string> = { ...id, kind: id.variant, name: id.variant };
    const params = [...keyColumns(id.kind).map((k) => key[k]), range.from, range.to];
    const asc = range.order === 'asc';
    const cursor = range.cursor ?? (asc ? -1 : range.to);
    const rows = await this.#rows(asc ? sql.asc : sql.desc, [...params, cursor, range.limit + 1]);
    const total = Number((await this.#rows(sql.count, params))[0]?.n ?? 0);
    const more = rows.length > range.limit;
    return { rows: more ? rows.slice(0, range.limit) : rows, more, total };
  }

  /**
   * Status rows, most recently updated first (at most `limit`), the job rows (series `''`, every one)
   * and the count per status.
   */
  async status(
    job: string | null,
    limit: number,
  ): Promise<{ rows: StatusRow[]; jobs: StatusRow[]; counts: Record<string, number> }> {
    const rows = (await this.#rows(this.#sql.status, [job, limit])).map(statusRowOf);
    const jobs = (await this.#rows(this.#sql.jobs, [job])).map(statusRowOf);
    const counts: Record<string, number> = {};
    for (const r of await this.#rows(this.#sql.statusCounts, [job])) counts[text(r.status)] = Number(r.n);
    return { rows, jobs, counts };
  }

  /** Error rows, newest first. */
  async errors(job: string | null, limit: number): Promise<ErrorRow[]> {
    return (await this.#rows(this.#sql.errors, [job, limit])).map(
      (r): ErrorRow => ({
        id: Number(r.id),
        job: text(r.job),
        series: text(r.series),
        code: (r.code as string | null) ?? null,
        message: text(r.message),
        detail: typeof r.detail === 'string' ? safeJson(r.detail) : (r.detail ?? null),
        ts: Number(r.ts),
        loggedAt: Number(r.logged_at),
      }),
    );
  }
}

function statusRowOf(r: Row): StatusRow {
  return {
    job: text(r.job),
    series: text(r.series),
    source: (r.source as string | null) ?? null,
    exchange: (r.exchange as string | null) ?? null,
    symbol: (r.symbol as string | null) ?? null,
    interval: (r.interval as string | null) ?? null,
    kind: (r.kind as string | null) ?? null,
    status: text(r.status),
    message: (r.message as string | null) ?? null,
    progress: num(r.progress),
    ts: Number(r.ts),
    updatedAt: Number(r.updated_at),
  };
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
