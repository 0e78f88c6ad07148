/**
 * The MT ("market token"): one record per timestamp summarising many symbols. The policies (how each
 * kind combines, the rebased index, skipping) are documented on `marketAverage`.
 */
import type { Interval } from '../core/intervals.js';
import type {
  Candle,
  Exchange,
  FundingRate,
  IndicatorValue,
  LongShortRatio,
  OpenInterest,
  RecordOf,
  Source,
} from '../core/types.js';
import { assertPositiveInteger, fail, iso } from './internal.js';

/** Kinds `marketAverage` can combine. */
export const MARKET_AVERAGE_KINDS = [
  'candles',
  'funding',
  'openInterest',
  'longShortRatio',
  'indicators',
] as const;
/** A kind `marketAverage` can combine (taker volume and liquidations are per-asset amounts: sum them yourself). */
export type MarketAverageKind = (typeof MARKET_AVERAGE_KINDS)[number];

/** Symbol of the market-average records. */
export const MT_SYMBOL = 'MT';

/** Series keyed by canonical symbol, as a `Map` or a plain object. */
export type SeriesBySymbol<T> = ReadonlyMap<string, readonly T[]> | Readonly<Record<string, readonly T[]>>;

/** Options of `marketAverage` and `createMarketAverage`. */
export interface MarketAverageOptions<K extends MarketAverageKind> {
  /** Kind of records the series hold; decides how they combine (see the table above). */
  readonly kind: K;
  /**
   * Fewest members that must have a record at a timestamp for it to be written.
   * @default 1
   */
  readonly minMembers?: number;
  /**
   * Smallest share of the members (0..1) that must have a record at a timestamp for it to be written.
   * @default 0.5
   */
  readonly minShare?: number;
  /**
   * `symbol` of the records written.
   * @default 'MT'
   */
  readonly symbol?: string;
  /** `source` of the records written; by default the members' common source (an error if they differ). */
  readonly source?: Source;
  /** `exchange` of the records written; by default the members' common exchange (an error if they differ). */
  readonly exchange?: Exchange;
  /**
   * Level of the rebased index at the first written timestamp (candles and open interest).
   * @default 100
   */
  readonly base?: number;
}

// --- How each kind is read and written ----------------------------------------------------------

/**
 * Reads a record's numbers into `vals[at..at+width)`: `NaN` marks an optional value that is absent.
 * Index kinds put the rebased fields first (field 0 links the index), then the summed ones.
 */
interface Profile<T> {
  readonly mode: 'mean' | 'index';
  readonly width: number;
  /** Index mode: how many leading fields are rebased. */
  readonly indexed: number;
  read(r: T, vals: Float64Array, at: number): string | undefined;
  /** Describes how `r` differs from `ref` in what must be common (interval, ratio kind, name), or `undefined`. */
  differs(ref: T, r: T): string | undefined;
  build(head: Head, ref: T, agg: Float64Array): T;
}

interface Head {
  readonly source: Source;
  readonly exchange: Exchange;
  readonly symbol: string;
  readonly ts: number;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const optional = (v: number | undefined): number => (v === undefined ? Number.NaN : v);
const present = (v: number): boolean => !Number.isNaN(v);

function differentInterval(ref: { interval: Interval }, r: { interval: Interval }): string | undefined {
  return ref.interval === r.interval
    ? undefined
    : `mixed intervals: ${ref.interval} and ${String(r.interval)}`;
}

const candleProfile: Profile<Candle> = {
  mode: 'index',
  // close (link), open, high, low | quote volume, trades
  width: 6,
  indexed: 4,
  read(r, vals, at) {
    const { open, high, low, close, volume, quoteVolume, trades } = r;
    if (!(finite(open) && finite(high) && finite(low) && finite(close)))
      return 'a price is not a finite number';
    if (!(open > 0 && high > 0 && low > 0 && close > 0)) return 'prices must be positive to be rebased';
    if (!(finite(volume) && volume >= 0)) return 'volume is not a finite non-negative number';
    if (quoteVolume !== undefined && !(finite(quoteVolume) && quoteVolume >= 0)) {
      return 'quoteVolume is not a finite non-negative number';
    }
    if (trades !== undefined && !(finite(trades) && trades >= 0))
      return 'trades is not a finite non-negative number';
    vals[at] = close;
    vals[at + 1] = open;
    vals[at + 2] = high;
    vals[at + 3] = low;
    vals[at + 4] = quoteVolume ?? volume * close;
    vals[at + 5] = optional(trades);
    return undefined;
  },
  differs: differentInterval,
  build(head, ref, agg) {
    const close = agg[0] as number;
    const quoteVolume = agg[4] as number;
    const candle: { -readonly [P in keyof Candle]: Candle[P] } = {
      source: head.source,
      exchange: head.exchange,
      symbol: head.symbol,
      ts: head.ts,
      interval: ref.interval,
      open: agg[1] as number,
      high: agg[2] as number,
      low: agg[3] as number,
      close,
      volume: quoteVolume / close,
      quoteVolume,
    };
    const trades = agg[5] as number;
    if (present(trades)) candle.trades = trades;
    return candle;
  },
};

const openInterestProfile: Profile<OpenInterest> = {
  mode: 'index',
  // open interest (link) | USD open interest
  width: 2,
  indexed: 1,
  read(r, vals, at) {
    const { openInterest, openInterestUsd } = r;
    if (!(finite(openInterest) && openInterest > 0))
      return 'openInterest must be a positive finite number to be rebased';
    if (openInterestUsd !== undefined && !(finite(openInterestUsd) && openInterestUsd >= 0)) {
      return 'openInterestUsd is not a finite non-negative number';
    }
    vals[at] = openInterest;
    vals[at + 1] = optional(openInterestUsd);
    return undefined;
  },
  differs: differentInterval,
  build(head, ref, agg) {
    const record: { -readonly [P in keyof OpenInterest]: OpenInterest[P] } = {
      source: head.source,
      exchange: head.exchange,
      symbol: head.symbol,
      ts: head.ts,
      interval: ref.interval,
      openInterest: agg[0] as number,
    };
    const usd = agg[1] as number;
    if (present(usd)) record.openInterestUsd = usd;
    return record;
  },
};

const fundingProfile: Profile<FundingRate> = {
  mode: 'mean',
  width: 1,
  indexed: 0,
  read(r, vals, at) {
    if (!finite(r.rate)) return 'rate is not a finite number';
    vals[at] = r.rate;
    return undefined;
  },
  differs: () => undefined,
  build(head, _ref, agg) {
    return {
      source: head.source,
      exchange: head.exchange,
      symbol: head.symbol,
      ts: head.ts,
      rate: agg[0] as number,
    };
  },
};

const longShortProfile: Profile<LongShortRatio> = {
  mode: 'mean',
  width: 3,
  indexed: 0,
  read(r, vals, at) {
    const { ratio, longShare, shortShare } = r;
    if (!finite(ratio)) return 'ratio is not a finite number';
    if (longShare !== undefined && !finite(longShare)) return 'longShare is not a finite number';
    if (shortShare !== undefined && !finite(shortShare)) return 'shortShare is not a finite number';
    vals[at] = ratio;
    vals[at + 1] = optional(longShare);
    vals[at + 2] = optional(shortShare);
    return undefined;
  },
  differs(ref, r) {
    if (ref.kind !== r.kind) return `mixed long/short kinds: ${ref.kind} and ${String(r.kind)}`;
    return differentInterval(ref, r);
  },
  build(head, ref, agg) {
    const record: { -readonly [P in keyof LongShortRatio]: LongShortRatio[P] } = {
      source: head.source,
      exchange: head.exchange,
      symbol: head.symbol,
      ts: head.ts,
      interval: ref.interval,
      kind: ref.kind,
      ratio: agg[0] as number,
    };
    const longShare = agg[1] as number;
    const shortShare = agg[2] as number;
    if (present(longShare)) record.longShare = longShare;
    if (present(shortShare)) record.shortShare = shortShare;
    return record;
  },
};

const indicatorProfile: Profile<IndicatorValue> = {
  mode: 'mean',
  width: 1,
  indexed: 0,
  read(r, vals, at) {
    if (!finite(r.value)) return 'value is not a finite number';
    vals[at] = r.value;
    return undefined;
  },
  differs(ref, r) {
    if (ref.name !== r.name) return `mixed indicator names: ${ref.name} and ${String(r.name)}`;
    return differentInterval(ref, r);
  },
  build(head, ref, agg) {
    const { source, exchange, symbol, ts } = head;
    return { source, exchange, symbol, ts, interval: ref.interval, name: ref.name, value: agg[0] as number };
  },
};

const PROFILES: { readonly [K in MarketAverageKind]: Profile<RecordOf<K>> } = {
  candles: candleProfile,
  funding: fundingProfile,
  openInterest: openInterestProfile,
  longShortRatio: longShortProfile,
  indicators: indicatorProfile,
};

// --- The engine shared by the batch and the incremental form -------------------------------------

interface Resolved<K extends MarketAverageKind> {
  readonly kind: K;
  readonly required: number;
  readonly symbol: string;
  readonly source: Source | undefined;
  readonly exchange: Exchange | undefined;
  readonly base: number;
}

function resolve<K extends MarketAverageKind>(
  fn: string,
  options: MarketAverageOptions<K>,
  members: number,
): Resolved<K> {
  const { kind, minMembers = 1, minShare = 0.5, symbol = MT_SYMBOL, base = 100 } = options;
  if (!(MARKET_AVERAGE_KINDS as readonly string[]).includes(kind)) {
    fail(fn, `kind ${JSON.stringify(kind)} cannot be averaged across symbols`, {
      Expected: MARKET_AVERAGE_KINDS.join(' '),
    });
  }
  assertPositiveInteger(fn, 'minMembers', minMembers);
  if (!(typeof minShare === 'number' && minShare >= 0 && minShare <= 1)) {
    fail(fn, `minShare must be a number from 0 to 1, got ${String(minShare)}`);
  }
  if (typeof symbol !== 'string' || symbol === '') fail(fn, 'symbol must be a non-empty string');
  if (!(finite(base) && base > 0)) fail(fn, `base must be a positive finite number, got ${String(base)}`);
  const required = Math.max(minMembers, Math.ceil(minShare * members - 1e-9));
  return { kind, required, symbol, source: options.source, exchange: options.exchange, base };
}

class Engine<K extends MarketAverageKind> {
  private readonly profile: Profile<RecordOf<K>>;
  private readonly width: number;
  /** Numbers of the members present at the current step, `width` per member, at `member * width`. */
  private readonly vals: Float64Array;
  /** Indexes of the members present at the current step, ascending. */
  readonly present: Int32Array;
  /** Index mode: each member's weight (units held); 0 until it first joins. */
  private readonly weight: Float64Array;
  /** Index mode: each member's link value at the last written timestamp. */
  private readonly lastLink: Float64Array;
  /** 1 for members present at the last written timestamp. */
  private readonly lastPresent: Uint8Array;
  private readonly agg: Float64Array;
  private lastCount = 0;
  private lastLevel = 0;
  private divisor = 0;
  private started = false;
  private ref: RecordOf<K> | undefined;
  private source: Source | undefined;
  private exchange: Exchange | undefined;

  constructor(
    private readonly fn: string,
    private readonly opts: Resolved<K>,
    private readonly symbols: readonly string[],
  ) {
    this.profile = PROFILES[opts.kind] as unknown as Profile<RecordOf<K>>;
    this.width = this.profile.width;
    const m = symbols.length;
    this.vals = new Float64Array(m * this.width);
    this.present = new Int32Array(m);
    this.weight = new Float64Array(m);
    this.lastLink = new Float64Array(m);
    this.lastPresent = new Uint8Array(m);
    this.agg = new Float64Array(this.width);
    this.source = opts.source;
    this.exchange = opts.exchange;
  }

  /** Checks record `r` of member `i` and reads its numbers into `vals` (list `i` in `present` after). */
  load(r: RecordOf<K>, i: number): void {
    const { fn, symbols } = this;
    const problem = this.profile.read(r, this.vals, i * this.width);
    if (problem !== undefined) fail(fn, problem, { Symbol: symbols[i], At: iso(r.ts) });
    if (this.ref === undefined) this.ref = r;
    const mismatch = this.profile.differs(this.ref, r);
    if (mismatch !== undefined) fail(fn, mismatch, { Symbol: symbols[i], At: iso(r.ts) });
    if (this.opts.source === undefined) {
      this.source ??= r.source;
      if (r.source !== this.source) {
        fail(fn, `members come from different sources (${this.source}, ${r.source}); pass options.source`, {
          Symbol: symbols[i],
        });
      }
    }
    if (this.opts.exchange === undefined) {
      this.exchange ??= r.exchange;
      if (r.exchange !== this.exchange) {
        fail(
          fn,
          `members come from different exchanges (${this.exchange}, ${r.exchange}); pass options.exchange`,
          {
            Symbol: symbols[i],
          },
        );
      }
    }
  }

  /**
   * Combines the `n` members listed in `present` (ascending member index) whose numbers are in `vals`;
   * `undefined` when too few are present (the timestamp is skipped and the state is unchanged).
   */
  step(ts: number, n: number): RecordOf<K> | undefined {
    if (n < this.opts.required || n === 0) return undefined;
    const { profile, present, lastPresent } = this;
    if (profile.mode === 'mean') this.mean(n);
    else this.index(n);
    lastPresent.fill(0);
    for (let p = 0; p < n; p++) lastPresent[present[p] as number] = 1;
    this.lastCount = n;
    const head: Head = {
      source: this.source as Source,
      exchange: this.exchange as Exchange,
      symbol: this.opts.symbol,
      ts,
    };
    return profile.build(head, this.ref as RecordOf<K>, this.agg);
  }

  /** Mean of every field over the members present; an optional field only when all have it. */
  private mean(n: number): void {
    const { width, vals, present, agg } = this;
    for (let f = 0; f < width; f++) {
      let sum = 0;
      for (let p = 0; p < n; p++) sum += vals[(present[p] as number) * width + f] as number;
      agg[f] = sum / n; // NaN when a member lacks the field
    }
  }

  /** Chain-linked equal-weight index of the leading fields; sums of the others. */
  // Long by design: the chain-linked index over the fields of one timestamp, in one loop over members (the hot path of `marketAverage`).
  private index(n: number): void {
    const { width, vals, present, agg, weight, lastLink, lastPresent } = this;
    const indexed = this.profile.indexed;
    if (!this.started) {
      for (let p = 0; p < n; p++) {
        const i = present[p] as number;
        weight[i] = this.opts.base / (vals[i * width] as number);
      }
      this.divisor = n;
      this.started = true;
    } else {
      let same = n === this.lastCount;
      for (let p = 0; same && p < n; p++) same = lastPresent[present[p] as number] === 1;
      if (!same) {
        // Move of the basket of members present at both timestamps.
        let now = 0;
        let before = 0;
        let common = 0;
        for (let p = 0; p < n; p++) {
          const i = present[p] as number;
          if (lastPresent[i] !== 1) continue;
          const w = weight[i] as number;
          now += w * (vals[i * width] as number);
          before += w * (lastLink[i] as number);
          common++;
        }
        const level = common > 0 ? this.lastLevel * (now / before) : this.lastLevel;
        const joinValue = common > 0 ? now / common : level;
        let total = 0;
        for (let p = 0; p < n; p++) {
          const i = present[p] as number;
          const link = vals[i * width] as number;
          if (weight[i] === 0) weight[i] = joinValue / link;
          total += (weight[i] as number) * link;
        }
        this.divisor = total / level;
      }
    }
    const divisor = this.divisor;
    for (let f = 0; f < indexed; f++) {
      let sum = 0;
      for (let p = 0; p < n; p++) {
        const i = present[p] as number;
        sum += (weight[i] as number) * (vals[i * width + f] as number);
      }
      agg[f] = sum / divisor;
    }
    for (let f = indexed; f < width; f++) {
      let sum = 0;
      for (let p = 0; p < n; p++) sum += vals[(present[p] as number) * width + f] as number;
      agg[f] = sum; // NaN when a member lacks the field
    }
    for (let p = 0; p < n; p++) {
      const i = present[p] as number;
      lastLink[i] = vals[i * width] as number;
    }
    const level = agg[0] as number;
    if (!(Number.isFinite(level) && level > 0)) {
      fail(this.fn, 'the index left the range of finite numbers (member values too extreme)');
    }
    this.lastLevel = level;
  }
}

// --- Public functions -------------------------------------------------------------------------------

function entriesOf<T>(seriesBySymbol: SeriesBySymbol<T>): [string, readonly T[]][] {
  return seriesBySymbol instanceof Map
    ? [...(seriesBySymbol as ReadonlyMap<string, readonly T[]>).entries()]
    : Object.entries(seriesBySymbol as Readonly<Record<string, readonly T[]>>);
}

/**
 * The MT token: one record per timestamp combining the series of many symbols, with `symbol: 'MT'`.
 *
 * How each kind combines:
 *
 * | kind | MT record |
 * |---|---|
 * | `funding` | `rate` = mean of the members' rates (`markPrice` is left out: prices of different assets do not average) |
 * | `longShortRatio` | `ratio`, `longShare`, `shortShare` = means (a share only when every member present has it) |
 * | `indicators` | `value` = mean (e.g. the average RSI); all members must carry the same `name` |
 * | `candles` | `open/high/low/close` = equal-weight price index rebased to `base` (100); `quoteVolume` = sum of the members' quote volume (`volume × close` for a member without one); `volume` = `quoteVolume / close` (MT units, so `volume × close = quoteVolume` as for any candle); `trades` = sum when every member present reports it; `takerBuyVolume` is left out |
 * | `openInterest` | `openInterest` = index of the members' open interest rebased to `base`; `openInterestUsd` = sum when every member present has it |
 *
 * **Rebased index** (candles, open interest): raw BTC and PEPE prices cannot be averaged, so each
 * member is rebased: at the first timestamp the MT is written, every member present is rebased to `base`
 * and the MT is their average (`base`). While the same members are present, the MT is exactly the
 * average of the members rebased to `base` at that first common timestamp (an equal-weight basket
 * bought then and held). When members appear or disappear the index is chain-linked so it never jumps:
 * the move from one written timestamp to the next is the move of the basket of members present at both,
 * a member seen for the first time joins with the basket's average weight, and a member that comes
 * back after a hole keeps the weight it had. If no member is present at both timestamps the move cannot
 * be measured and the MT close carries over. Open/high/low use the same weights as the close.
 *
 * **Skipping policy**: a timestamp is written only when at least
 * `max(minMembers, ceil(minShare × members))` members have a record there; otherwise it is skipped
 * (no record, and the index links over it from the last written timestamp). `members` counts every
 * series passed in, including empty ones, so the defaults (`minMembers: 1`, `minShare: 0.5`) need at
 * least half of the requested symbols. Pass `minShare: 1` for "all members or nothing", `minShare: 0`
 * to write any timestamp at which `minMembers` members exist.
 *
 * The index level depends on the first written timestamp: to extend a stored MT series, keep one
 * incremental calculator running (`createMarketAverage`) rather than recomputing from a later start.
 *
 * @param seriesBySymbol One series per symbol (same kind, interval and — unless overridden — source and
 *   exchange), each in strictly ascending `ts`.
 * @example
 * import type { Candle, FundingRate } from 'perpdata';
 * import { marketAverage, rsiFromCandles } from 'perpdata/derive';
 *
 * declare const btc1m: Candle[], eth1m: Candle[], pepe1m: Candle[]; // one venue, one interval
 * declare const fundingBySymbol: Record<string, FundingRate[]>;
 * const mt = marketAverage({ BTC: btc1m, ETH: eth1m, PEPE: pepe1m }, { kind: 'candles', minShare: 1 });
 * const mtRsi = rsiFromCandles(mt); // RSI of the market token
 * const avgFunding = marketAverage(fundingBySymbol, { kind: 'funding' });
 */
export function marketAverage<K extends MarketAverageKind>(
  seriesBySymbol: SeriesBySymbol<RecordOf<K>>,
  options: MarketAverageOptions<K>,
): RecordOf<K>[] {
  const fn = 'marketAverage';
  const entries = entriesOf(seriesBySymbol);
  const opts = resolve(fn, options, entries.length);
  const symbols = entries.map(([symbol]) => symbol);
  const series = entries.map(([, records]) => records);
  const m = series.length;
  for (let s = 0; s < m; s++) {
    if (!Array.isArray(series[s]))
      fail(fn, 'every series must be an array of records', { Symbol: symbols[s] });
  }
  /** `ts` of the record at `series[s][k]` (+Infinity past the end), checked to come after `prev`. */
  const headTs = (s: number, k: number, prev: number): number => {
    const r = (series[s] as readonly RecordOf<K>[])[k];
    if (r === undefined) return Number.POSITIVE_INFINITY;
    if (!Number.isInteger(r.ts))
      fail(fn, `ts is not an integer: ${String(r.ts)}`, { Symbol: symbols[s], Index: k });
    if (!(r.ts > prev)) {
      fail(fn, 'each series must be in strictly ascending ts order without duplicates', {
        Symbol: symbols[s],
        Index: k,
        Previous: iso(prev),
        Got: iso(r.ts),
      });
    }
    return r.ts;
  };

  // Walk the timestamps in order with one cursor per series and the next timestamp of each series in a
  // typed array: no copies of the input, each record is read once, and on a common grid (the usual
  // case) the scan costs a constant per record.
  const engine = new Engine(fn, opts, symbols);
  const { present } = engine;
  const cursor = new Int32Array(m);
  const heads = new Float64Array(m);
  for (let s = 0; s < m; s++) heads[s] = headTs(s, 0, Number.NEGATIVE_INFINITY);
  const out: RecordOf<K>[] = [];
  for (;;) {
    let ts = Number.POSITIVE_INFINITY;
    for (let s = 0; s < m; s++) {
      const h = heads[s] as number;
      if (h < ts) ts = h;
    }
    if (ts === Number.POSITIVE_INFINITY) break;
    let n = 0;
    for (let s = 0; s < m; s++) {
      if (heads[s] !== ts) continue;
      const c = cursor[s] as number;
      engine.load((series[s] as readonly RecordOf<K>[])[c] as RecordOf<K>, s);
      present[n++] = s;
      cursor[s] = c + 1;
      heads[s] = headTs(s, c + 1, ts);
    }
    const record = engine.step(ts, n);
    if (record !== undefined) out.push(record);
  }
  return out;
}

/** Options of `createMarketAverage`: those of `marketAverage` plus the member list. */
export interface MarketAverageCalculatorOptions<K extends MarketAverageKind> extends MarketAverageOptions<K> {
  /** Every symbol that belongs to the MT (the base of `minShare`). */
  readonly members: readonly string[];
}

/** Records of one timestamp keyed by symbol (members without a record are simply absent). */
export type RecordsBySymbol<T> = ReadonlyMap<string, T> | Readonly<Record<string, T | undefined>>;

/** An MT kept current one timestamp at a time; see `createMarketAverage`. */
export interface MarketAverageCalculator<K extends MarketAverageKind> {
  readonly members: readonly string[];
  /**
   * Combines the members' records of `ts` (strictly after the previous call's `ts`); returns the MT
   * record, or `undefined` when too few members are present (the timestamp is skipped).
   */
  next(ts: number, records: RecordsBySymbol<RecordOf<K>>): RecordOf<K> | undefined;
}

/**
 * An incremental `marketAverage` for live use: feed each timestamp's records once and get exactly the
 * records the batch would write for the same members, without rereading history.
 * @example
 * import type { Candle } from 'perpdata';
 * import { createMarketAverage } from 'perpdata/derive';
 *
 * declare const ts: number, btcCandle: Candle, ethCandle: Candle, solCandle: Candle;
 * const mt = createMarketAverage({ kind: 'candles', members: ['BTC', 'ETH', 'SOL'] });
 * const record = mt.next(ts, { BTC: btcCandle, ETH: ethCandle, SOL: solCandle }); // Candle | undefined
 */
export function createMarketAverage<K extends MarketAverageKind>(
  options: MarketAverageCalculatorOptions<K>,
): MarketAverageCalculator<K> {
  const fn = 'createMarketAverage';
  const members = [...options.members];
  const position = new Map<string, number>();
  for (const [i, symbol] of members.entries()) {
    if (typeof symbol !== 'string') fail(fn, 'members must be symbols (strings)');
    if (position.has(symbol)) fail(fn, `member ${symbol} is listed twice`);
    position.set(symbol, i);
  }
  const engine = new Engine(fn, resolve(fn, options, members.length), members);
  const slots: (RecordOf<K> | undefined)[] = new Array<RecordOf<K> | undefined>(members.length).fill(
    undefined,
  );
  let lastTs = Number.NEGATIVE_INFINITY;
  return {
    members,
    next(ts, records) {
      if (!Number.isInteger(ts)) fail(fn, `ts is not an integer: ${String(ts)}`);
      if (ts <= lastTs)
        fail(fn, 'ts must increase from call to call', { Previous: iso(lastTs), Got: iso(ts) });
      slots.fill(undefined);
      const list = records instanceof Map ? [...records.entries()] : Object.entries(records);
      for (const [symbol, record] of list as [string, RecordOf<K> | undefined][]) {
        if (record === undefined) continue;
        const i = position.get(symbol);
        if (i === undefined) fail(fn, `${symbol} is not a member`, { Members: members.join(' ') });
        if (record.ts !== ts) fail(fn, `record of ${symbol} has ts ${iso(record.ts)}, expected ${iso(ts)}`);
        slots[i] = record;
      }
      // Members in index order, as the batch does, so both sum in the same order.
      const { present } = engine;
      let n = 0;
      for (let i = 0; i < slots.length; i++) {
        const record = slots[i];
        if (record === undefined) continue;
        engine.load(record, i);
        present[n++] = i;
      }
      lastTs = ts;
      return engine.step(ts, n);
    },
  };
}
