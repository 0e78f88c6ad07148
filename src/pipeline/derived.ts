/**
 * Derived series of a backfill, computed from what storage holds once their inputs are stored: RSI per
 * candle series, the MT token per venue (and its RSI), 5m -> 1m expansion, Binance taker volume
 * distributed over 1m candles. Each is resumable through its own ledger entries: it is recomputed
 * from the first stored input (RSI and the MT depend on all of history) but only rows from the first
 * changed input, or from where its own ledger stops, are written.
 */
import { InvalidArgumentError } from '../core/errors.js';
import { floorToInterval, type Interval, intervalMs } from '../core/intervals.js';
import type { AnyRecord, Candle, DataKind, RecordOf, SeriesKey, TakerVolume } from '../core/types.js';
import { distributeByVolume } from '../derive/distribute.js';
import { expandTo1m } from '../derive/expand.js';
import { createMarketAverage, type MarketAverageKind, MT_SYMBOL } from '../derive/market-average.js';
import { createCandleRsi, rsiName } from '../derive/rsi.js';
import type { CoverageInterval, CoverageMark, StorageAdapter } from '../storage/adapter.js';
import { missingSpans } from './ledger.js';
import { seriesId } from './plan.js';
import { type SeriesIdentity, SeriesState } from './state.js';
import type { DeriveOptions } from './types.js';
import { type BatchWriter, withStorageRetry } from './writer.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Older than any data perpdata reads (2009-01-03). */
const BEGINNING = Date.UTC(2009, 0, 3);
/** Output rows handed to the writer at a time. */
const OUT_PAGE = 5_000;

/** A fetched series that completed, as input of the derived ones. */
export interface DerivedInput {
  readonly kind: DataKind;
  readonly key: SeriesKey;
  /** Smallest `ts` fetched this run (`+Infinity` when nothing new came). */
  readonly firstFetched: number;
  /** End of the range the series covers. */
  readonly to: number;
}

/** What `deriveAll` needs from the run. */
export interface DeriveContext {
  readonly storage: StorageAdapter;
  readonly writer: BatchWriter;
  readonly inputs: readonly DerivedInput[];
  /** Inputs that failed this run: an MT with such a member is not computed (it would change membership). */
  readonly incomplete: readonly DerivedInput[];
  readonly derive: Required<DeriveOptions>;
  readonly now: number;
  readonly signal: AbortSignal;
  readonly retry: (what: string, attempt: number, delayMs: number, error: unknown) => void;
  /** A derived series advanced by `delta` ms of its range. */
  readonly progress: (state: SeriesState<SeriesIdentity>, delta: number) => void;
  readonly register: (state: SeriesState<SeriesIdentity>) => void;
  readonly fail: (
    state: SeriesState<SeriesIdentity>,
    error: unknown,
    outcome?: 'error' | 'skipped',
  ) => Promise<void>;
  readonly done: (state: SeriesState<SeriesIdentity>) => Promise<void>;
  /**
   * Live passes: calculators kept between passes, keyed by derived series id, so that a pass reads only
   * the inputs that closed since the last one. A pass whose inputs changed before what a calculator has
   * consumed recomputes that series as the backfill does.
   */
  readonly cache?: Map<string, unknown>;
  /**
   * Live passes: an MT period is computed once every member's row for it is stored, or once this many
   * ms have passed since the period closed (with the members stored by then, under `marketAverage`'s
   * membership rule). Without it (a backfill), up to the newest stored member row.
   */
  readonly mtDeadlineMs?: number;
}

/** What a live pass keeps of an RSI between passes: the calculator and the last candle it consumed. */
interface RsiCache {
  readonly calc: ReturnType<typeof createCandleRsi>;
  readonly last: number;
}

/** What a live pass keeps of an MT between passes. */
interface MtCache {
  readonly calc: { next: (ts: number, records: Record<string, AnyRecord>) => AnyRecord | undefined };
  readonly rsi: readonly ReturnType<typeof createCandleRsi>[];
  readonly last: number;
}

/** Takes the calculator cached for `id` if it consumed nothing at or after `from` (it is left out of the cache while the pass runs, so a failed pass recomputes). */
function takeCached<T extends { last: number }>(ctx: DeriveContext, id: string, from: number): T | undefined {
  const cached = ctx.cache?.get(id) as T | undefined;
  ctx.cache?.delete(id);
  return cached !== undefined && from > cached.last ? cached : undefined;
}

/** Where a derived series must be written from: the end of its first contiguous ledger run. */
export function resumeFrom(coverage: readonly CoverageInterval[]): number {
  const first = coverage[0];
  if (!first) return Number.NEGATIVE_INFINITY;
  return missingSpans(coverage, first.from, Number.MAX_SAFE_INTEGER)[0]?.from ?? Number.POSITIVE_INFINITY;
}

/** Collects output rows of one derived series and hands them to the writer with contiguous marks. */
class Output<K extends DataKind> {
  readonly #rows: RecordOf<K>[] = [];
  #cursor: number | undefined;
  constructor(
    readonly ctx: DeriveContext,
    readonly state: SeriesState<SeriesIdentity>,
    readonly kind: K,
    /** Rows before this ts are not written (they are stored already). */
    readonly from: number,
    /** Grid period of the output; `undefined` for event series. */
    readonly step: number | undefined,
  ) {}

  async push(row: RecordOf<K>): Promise<void> {
    if (row.ts < this.from) return;
    this.#rows.push(row);
    if (this.#rows.length >= OUT_PAGE) await this.flush();
  }

  async flush(): Promise<void> {
    const rows = this.#rows.splice(0);
    const last = rows[rows.length - 1];
    if (!last) return;
    const start = this.#cursor ?? Math.max(this.from, (rows[0] as RecordOf<K>).ts);
    const end = last.ts + (this.step ?? 1);
    const marks: CoverageMark[] = [{ key: this.state.plan.key, from: start, to: end, state: 'stored' }];
    this.#cursor = end;
    await this.ctx.writer.add(this.kind, this.state.plan.id, rows, marks, this.state.plan.key.source);
    this.state.rowsFetched += rows.length;
    const s = this.state;
    if (s.total === 0 && Number.isFinite(s.from)) s.total = Math.max(0, s.to - s.from);
    else if (s.total === 0) s.total = Math.max(0, s.to - start);
    this.ctx.progress(s, Math.max(0, end - start));
  }
}

/** Reads one series ascending, one record at a time, a page at a time. */
class Cursor<T extends AnyRecord> {
  readonly #it: AsyncIterator<T[]>;
  #page: T[] = [];
  #i = 0;
  #done = false;
  constructor(iterable: AsyncIterable<T[]>) {
    this.#it = iterable[Symbol.asyncIterator]();
  }
  /** The next record without consuming it, or `undefined` at the end. */
  async peek(): Promise<T | undefined> {
    while (this.#i >= this.#page.length && !this.#done) {
      const r = await this.#it.next();
      if (r.done) this.#done = true;
      else {
        this.#page = r.value;
        this.#i = 0;
      }
    }
    return this.#page[this.#i];
  }
  async take(): Promise<T | undefined> {
    const r = await this.peek();
    if (r !== undefined) this.#i++;
    return r;
  }
  async close(): Promise<void> {
    await this.#it.return?.();
  }
}

function newState(kind: DataKind, key: SeriesKey): SeriesState<SeriesIdentity> {
  const state = new SeriesState<SeriesIdentity>({ id: seriesId(kind, key), kind, key });
  state.startedAt = Date.now();
  return state;
}

async function run(
  ctx: DeriveContext,
  state: SeriesState<SeriesIdentity>,
  body: () => Promise<void>,
): Promise<void> {
  ctx.register(state);
  try {
    // A derived series is recomputed whole when the database went away under it (writes are upserts).
    await withStorageRetry(
      body,
      60_000,
      (attempt, delayMs, error) => ctx.retry(state.plan.id, attempt, delayMs, error),
      ctx.signal,
    );
    if (ctx.signal.aborted) {
      state.outcome = 'aborted';
      return;
    }
    await ctx.done(state);
  } catch (error) {
    if (ctx.signal.aborted) {
      state.outcome = 'aborted';
      return;
    }
    await ctx.fail(state, error);
  }
}

/** Candles of warm-up an RSI resumed mid-series reads before its first written value, per period. */
const RSI_WARMUP_PER_PERIOD = 100;

/**
 * Where an RSI that writes from `from` starts reading its candles. Wilder's smoothing forgets its seed
 * by a factor (p-1)/p per candle: after 100 × p candles the seed's weight is below e^-100 (about 1e-44),
 * so values from there on equal a recompute from the first stored close to the last bit that matters
 * (far inside 1e-9). With fewer candles than that before `from` (series start, or holes), it reads
 * everything.
 */
async function rsiReadFrom(
  ctx: DeriveContext,
  key: SeriesKey,
  from: number,
  period: number,
): Promise<number> {
  if (from === Number.NEGATIVE_INFINITY) return BEGINNING;
  const step = intervalMs(key.interval as Interval);
  const need = RSI_WARMUP_PER_PERIOD * period;
  const start = from - 2 * need * step;
  if (start <= BEGINNING) return BEGINNING;
  let n = 0;
  for await (const page of ctx.storage.read('candles', key, start, from)) n += page.length;
  return n >= need ? start : BEGINNING;
}

/** RSI of one candle series (or of the MT candles, which are fed in by the MT step). */
async function deriveRsi(ctx: DeriveContext, input: DerivedInput, period: number): Promise<void> {
  const interval = input.key.interval as Interval;
  const key: SeriesKey = { ...input.key, kind: rsiName(period) };
  const id = seriesId('indicators', key);
  // A live pass over an input with nothing new: the cached calculator is current.
  if (input.firstFetched === Number.POSITIVE_INFINITY && ctx.cache?.has(id)) return;
  const state = newState('indicators', key);
  await run(ctx, state, async () => {
    const latest = await ctx.storage.latest('candles', input.key);
    if (latest === null) return;
    const from = Math.min(input.firstFetched, resumeFrom(await ctx.storage.coverage('indicators', key)));
    state.from = from;
    state.to = latest + intervalMs(interval);
    const cached = takeCached<RsiCache>(ctx, id, from);
    if (from > latest) {
      if (cached) ctx.cache?.set(id, cached);
      return;
    }
    const out = new Output(ctx, state, 'indicators', from, intervalMs(interval));
    const rsi = cached?.calc ?? createCandleRsi(period);
    const readFrom = cached ? cached.last + 1 : await rsiReadFrom(ctx, input.key, from, period);
    let last = cached?.last ?? Number.NEGATIVE_INFINITY;
    for await (const page of ctx.storage.read('candles', input.key, readFrom, latest + 1)) {
      ctx.signal.throwIfAborted();
      for (const candle of page) {
        const value = rsi.next(candle);
        last = candle.ts;
        if (value) await out.push(value);
      }
    }
    await out.flush();
    // Only a calculator that saw every candle from the series start (or its warm-up) is kept.
    if (ctx.cache && last !== Number.NEGATIVE_INFINITY)
      ctx.cache.set(id, { calc: rsi, last } satisfies RsiCache);
  });
}

/**
 * The newest `ts` an MT may be computed for: the newest member row; live (`mtDeadlineMs`), only up to
 * the period every member has stored, or whose deadline has passed. `-Infinity` when nothing is stored.
 */
async function mtLatest(
  ctx: DeriveContext,
  members: readonly DerivedInput[],
  step: number | undefined,
): Promise<number> {
  let latest = Number.NEGATIVE_INFINITY;
  let common = Number.POSITIVE_INFINITY;
  for (const m of members) {
    const last = (await ctx.storage.latest(m.kind, m.key)) ?? Number.NEGATIVE_INFINITY;
    latest = Math.max(latest, last);
    common = Math.min(common, last);
  }
  if (latest === Number.NEGATIVE_INFINITY || ctx.mtDeadlineMs === undefined) return latest;
  const due = ctx.now - ctx.mtDeadlineMs - (step ?? 0);
  return Math.min(latest, Math.max(common, due));
}

/** The members' stored rows in `[from, to)`, merged by `ts`: per `ts`, the record of each member that has one. */
async function* alignedRecords(
  ctx: DeriveContext,
  kind: DataKind,
  members: readonly DerivedInput[],
  from: number,
  to: number,
): AsyncGenerator<{ ts: number; records: Record<string, AnyRecord> }> {
  const cursors = members.map((m) => new Cursor<AnyRecord>(ctx.storage.read(kind, m.key, from, to)));
  try {
    for (;;) {
      ctx.signal.throwIfAborted();
      let ts = Number.POSITIVE_INFINITY;
      const heads = await Promise.all(cursors.map((c) => c.peek()));
      for (const h of heads) if (h && h.ts < ts) ts = h.ts;
      if (ts === Number.POSITIVE_INFINITY) return;
      const records: Record<string, AnyRecord> = {};
      for (const [i, c] of cursors.entries()) {
        if (heads[i]?.ts === ts)
          records[(members[i] as DerivedInput).key.symbol] = (await c.take()) as AnyRecord;
      }
      yield { ts, records };
    }
  } finally {
    await Promise.all(cursors.map((c) => c.close()));
  }
}

/** The MT of one venue for one kind and interval, and (for candles) its RSI per period. */
// Long by design: the MT and the RSI of the MT are written in one pass over the merged members, each from its own resume point.
async function deriveMarketAverage(
  ctx: DeriveContext,
  kind: MarketAverageKind & ('candles' | 'funding' | 'openInterest'),
  members: readonly DerivedInput[],
): Promise<void> {
  const head = members[0] as DerivedInput;
  const interval = head.key.interval;
  const key: SeriesKey = {
    source: head.key.source,
    exchange: head.key.exchange,
    symbol: MT_SYMBOL,
    ...(interval ? { interval } : {}),
  };
  const state = newState(kind, key);
  const step = interval ? intervalMs(interval) : undefined;
  const rsiStates =
    kind === 'candles'
      ? ctx.derive.rsi.map((p) => ({ p, state: newState('indicators', { ...key, kind: rsiName(p) }) }))
      : [];
  const id = seriesId(kind, key);
  if (members.every((m) => m.firstFetched === Number.POSITIVE_INFINITY) && ctx.cache?.has(id)) {
    // Nothing new among the members; a live pass only looks again once the deadline may have passed.
    const cached = ctx.cache.get(id) as MtCache;
    if (ctx.mtDeadlineMs === undefined || cached.last + (step ?? 0) + ctx.mtDeadlineMs > ctx.now) return;
  }
  await run(ctx, state, async () => {
    const latest = await mtLatest(ctx, members, step);
    if (latest === Number.NEGATIVE_INFINITY) return;
    const changed = Math.min(...members.map((m) => m.firstFetched));
    const from = Math.min(changed, resumeFrom(await ctx.storage.coverage(kind, key)));
    state.from = from;
    state.to = latest + (step ?? 1);
    const rsiOuts = [];
    for (const r of rsiStates) {
      ctx.register(r.state);
      const rFrom = Math.min(from, resumeFrom(await ctx.storage.coverage('indicators', r.state.plan.key)));
      r.state.from = rFrom;
      r.state.to = state.to;
      rsiOuts.push({ rFrom, out: new Output(ctx, r.state, 'indicators', rFrom, step) });
    }
    const firstWrite = Math.min(from, ...rsiOuts.map((r) => r.out.from));
    const cached = takeCached<MtCache>(ctx, id, firstWrite);
    if (firstWrite > latest) {
      if (cached) ctx.cache?.set(id, cached);
      for (const r of rsiStates) await ctx.done(r.state);
      return;
    }
    const out = new Output(ctx, state, kind, from, step);
    const calc: MtCache['calc'] =
      cached?.calc ??
      (createMarketAverage<typeof kind>({
        kind,
        members: members.map((m) => m.key.symbol),
        source: key.source,
        exchange: key.exchange,
      }) as unknown as MtCache['calc']);
    const rsiCalcs = cached?.rsi ?? rsiStates.map((r) => createCandleRsi(r.p));
    const readFrom = cached ? cached.last + 1 : BEGINNING;
    let last = cached?.last ?? Number.NEGATIVE_INFINITY;
    for await (const { ts, records } of alignedRecords(ctx, kind, members, readFrom, latest + 1)) {
      last = ts;
      const mt = calc.next(ts, records) as RecordOf<typeof kind> | undefined;
      if (!mt) continue;
      await out.push(mt);
      for (const [i, r] of rsiOuts.entries()) {
        const value = (rsiCalcs[i] as ReturnType<typeof createCandleRsi>).next(mt as Candle);
        if (value) await r.out.push(value);
      }
    }
    await out.flush();
    for (const r of rsiOuts) await r.out.flush();
    if (ctx.cache && last !== Number.NEGATIVE_INFINITY)
      ctx.cache.set(id, { calc, rsi: rsiCalcs, last } as MtCache);
    for (const r of rsiStates) await ctx.done(r.state);
  });
}

/** 5m (or longer) rows of one series expanded to 1m rows. */
async function deriveExpansion(
  ctx: DeriveContext,
  input: DerivedInput,
  align: 'close' | 'start',
): Promise<void> {
  const kind = input.kind as 'openInterest' | 'longShortRatio';
  const interval = input.key.interval as Interval;
  const key: SeriesKey = { ...input.key, interval: '1m' };
  const state = newState(kind, key);
  await run(ctx, state, async () => {
    const latest = await ctx.storage.latest(kind, input.key);
    if (latest === null) return;
    const step = intervalMs(interval);
    const from = Math.min(
      input.firstFetched === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : input.firstFetched,
      resumeFrom(await ctx.storage.coverage(kind, key)),
    );
    // Minutes still forming (or after the present, with `align: 'close'`) are not written.
    const closed = floorToInterval(ctx.now, '1m');
    state.from = from;
    state.to = Math.min(closed, latest + step + (align === 'close' ? step : 0));
    if (from >= state.to) return;
    const out = new Output(ctx, state, kind, from, MINUTE);
    const readFrom = from === Number.NEGATIVE_INFINITY ? BEGINNING : Math.max(BEGINNING, from - 2 * step);
    for await (const page of ctx.storage.read(kind, input.key, readFrom, latest + 1)) {
      ctx.signal.throwIfAborted();
      for (const row of expandTo1m(page as RecordOf<typeof kind>[], { align })) {
        if (row.ts < closed) await out.push(row);
      }
    }
    await out.flush();
  });
}

/** Binance 5m taker volume distributed over the 1m candles of the same symbol. */
async function deriveTakerTo1m(
  ctx: DeriveContext,
  taker: DerivedInput,
  candles: DerivedInput,
): Promise<void> {
  const key: SeriesKey = { ...taker.key, interval: '1m' };
  const state = newState('takerVolume', key);
  await run(ctx, state, async () => {
    const bucket = intervalMs(taker.key.interval as Interval);
    const latestTaker = await ctx.storage.latest('takerVolume', taker.key);
    const latestCandle = await ctx.storage.latest('candles', candles.key);
    if (latestTaker === null || latestCandle === null) return;
    // A bucket is distributed once all of its minutes can be stored: up to the last stored candle.
    const end = Math.min(latestTaker + bucket, Math.floor((latestCandle + MINUTE) / bucket) * bucket);
    const from = Math.min(
      taker.firstFetched,
      candles.firstFetched,
      resumeFrom(await ctx.storage.coverage('takerVolume', key)),
    );
    const first = (await firstTs(ctx.storage, 'takerVolume', taker.key)) ?? end;
    const start = Math.floor(Math.max(from, first) / bucket) * bucket;
    state.from = start;
    state.to = end;
    if (start >= end) return;
    const out = new Output(ctx, state, 'takerVolume', start, MINUTE);
    for (let a = start; a < end; a += DAY) {
      ctx.signal.throwIfAborted();
      const b = Math.min(end, a + DAY);
      const buckets = await collect(ctx.storage.read('takerVolume', taker.key, a, b));
      if (buckets.length === 0) continue;
      const minutes = await collect(ctx.storage.read('candles', candles.key, a, b));
      const { volumes } = distributeByVolume(buckets as TakerVolume[], minutes as Candle[]);
      for (const v of volumes) await out.push(v);
    }
    await out.flush();
  });
}

async function firstTs(storage: StorageAdapter, kind: DataKind, key: SeriesKey): Promise<number | undefined> {
  for await (const page of storage.read(kind, key, BEGINNING, Number.MAX_SAFE_INTEGER)) {
    if (page[0]) return page[0].ts;
  }
  return undefined;
}

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) for (const r of page) out.push(r);
  return out;
}

/** Computes every derived series the options ask for, one after another (they share the writer). */
// Long by design: the derivations in dependency order, each choosing its inputs from the run's series.
export async function deriveAll(ctx: DeriveContext): Promise<void> {
  const { derive, inputs } = ctx;
  const candles = inputs.filter((i) => i.kind === 'candles');
  for (const input of candles) for (const p of derive.rsi) await deriveRsi(ctx, input, p);
  if (derive.marketAverage) {
    const groupOf = (input: DerivedInput) =>
      `${input.kind}|${input.key.source}|${input.key.exchange}|${input.key.interval ?? ''}`;
    const averaged = (input: DerivedInput) =>
      input.kind === 'candles' || input.kind === 'funding' || input.kind === 'openInterest';
    const groups = new Map<string, { head: DerivedInput; members: DerivedInput[]; waiting: number }>();
    for (const [list, failed] of [
      [inputs, false],
      [ctx.incomplete, true],
    ] as const) {
      for (const input of list) {
        if (!averaged(input)) continue;
        const group = groups.get(groupOf(input)) ?? { head: input, members: [], waiting: 0 };
        if (failed) group.waiting++;
        else group.members.push(input);
        groups.set(groupOf(input), group);
      }
    }
    for (const { head, members, waiting } of groups.values()) {
      if (members.length + waiting < 2) continue; // an average of one symbol is that symbol
      if (waiting > 0) {
        // Averaging fewer members would store another MT: it waits until every member is stored.
        const state = newState(head.kind, { ...head.key, symbol: MT_SYMBOL });
        ctx.register(state);
        const message = `${state.plan.id} waits for ${waiting} member series that failed this run; the next run computes it`;
        await ctx.fail(state, new InvalidArgumentError(message), 'skipped');
        continue;
      }
      await deriveMarketAverage(ctx, head.kind as 'candles' | 'funding' | 'openInterest', members);
    }
  }
  for (const kind of derive.expandTo1m) {
    const native1m = new Set(
      inputs.filter((i) => i.kind === kind && i.key.interval === '1m').map((i) => seriesId(kind, i.key)),
    );
    // The shortest interval above 1m per series key is expanded.
    const best = new Map<string, DerivedInput>();
    for (const input of inputs) {
      if (input.kind !== kind || !input.key.interval || input.key.interval === '1m') continue;
      const ms = intervalMs(input.key.interval);
      if (ms % MINUTE !== 0) throw new InvalidArgumentError(`cannot expand ${input.key.interval} to 1m`);
      const id = seriesId(kind, { ...input.key, interval: '1m' });
      if (native1m.has(id)) continue;
      const current = best.get(id);
      if (!current || ms < intervalMs(current.key.interval as Interval)) best.set(id, input);
    }
    for (const input of best.values()) await deriveExpansion(ctx, input, derive.expandAlign);
  }
  if (derive.takerTo1m) {
    for (const taker of inputs) {
      if (taker.kind !== 'takerVolume' || taker.key.source !== 'binance' || taker.key.interval !== '5m')
        continue;
      const minute = candles.find(
        (c) => c.key.source === 'binance' && c.key.symbol === taker.key.symbol && c.key.interval === '1m',
      );
      if (minute) await deriveTakerTo1m(ctx, taker, minute);
    }
  }
}
