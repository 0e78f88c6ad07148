import { WebSocketError } from '../../core/errors.js';
import { addInterval, floorToInterval, type Interval } from '../../core/intervals.js';
import type { Candle, Liquidation, OpenInterest, PredictedFunding } from '../../core/types.js';
import { backoffDelay } from '../transport/backoff.js';
import { sleep } from '../transport/sleep.js';
import type { Processor, ProcessorContext } from './stream.js';
import type { GapWindow, TopicSpec } from './types.js';

/**
 * Fetches the closed candles of `symbol` in `[from, to)` over REST, for gap fill. Any page shape works:
 * an array, a promise of one, or an async iterable of pages (like `client.candles()`).
 */
export type FetchClosed = (
  symbol: string,
  from: number,
  to: number,
  signal: AbortSignal,
) => Promise<readonly Candle[]> | AsyncIterable<readonly Candle[]>;

interface SymbolState {
  /** Start of the last candle yielded. */
  last: number | undefined;
  filling: boolean;
  /** Live candles held back while a gap is fetched. */
  pending: Candle[];
}

/** Options of the candle sequencer. */
export interface CandleSequencerOptions {
  readonly interval: Interval;
  /** Fetch missed candles over REST after reconnects and holes. @default true when `fetchClosed` is given */
  readonly gapFill: boolean;
  readonly fetchClosed?: FetchClosed | undefined;
  readonly venue: string;
  /** Gap fills in flight at once (reconnects of big shards). @default 8 */
  readonly fillConcurrency?: number | undefined;
  /**
   * Attempts per gap fill. A client's `candles()` already retries each request with backoff (its
   * `retries`), so one attempt is the default; more are for fetchers without retries of their own,
   * spaced by `backoffDelay`. @default 1
   */
  readonly fillAttempts?: number | undefined;
}

async function collect(
  result: Promise<readonly Candle[]> | AsyncIterable<readonly Candle[]>,
): Promise<Candle[]> {
  if (Symbol.asyncIterator in result) {
    const out: Candle[] = [];
    for await (const page of result) out.push(...page);
    return out;
  }
  return [...(await result)];
}

/**
 * Yields each closed candle of each symbol exactly once and in order: repeats and late candles are
 * dropped, and a hole (a reconnect, a stall, a candle that arrives before its predecessor, a record
 * dropped by a full buffer) is filled over REST before the live candle that revealed it.
 */
export class CandleSequencer implements Processor<Candle> {
  readonly #o: CandleSequencerOptions;
  readonly #ctx: ProcessorContext<Candle>;
  readonly #state = new Map<string, SymbolState>();
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(options: CandleSequencerOptions, ctx: ProcessorContext<Candle>) {
    this.#o = options;
    this.#ctx = ctx;
  }

  #get(symbol: string): SymbolState {
    let s = this.#state.get(symbol);
    if (!s) {
      s = { last: undefined, filling: false, pending: [] };
      this.#state.set(symbol, s);
    }
    return s;
  }

  /** Start of the last candle yielded for `symbol`. */
  lastClosed(symbol: string): number | undefined {
    return this.#state.get(symbol)?.last;
  }

  data(records: readonly Candle[]): void {
    for (const c of records) {
      const s = this.#get(c.symbol);
      if (s.filling) {
        if (!s.pending.some((p) => p.ts === c.ts)) s.pending.push(c);
        continue;
      }
      this.#accept(s, c, true);
    }
  }

  #canFill(): boolean {
    return this.#o.gapFill && this.#o.fetchClosed !== undefined;
  }

  #accept(s: SymbolState, c: Candle, mayFill: boolean): void {
    if (s.last !== undefined && c.ts <= s.last) return;
    if (s.last !== undefined && mayFill && this.#canFill()) {
      const expected = addInterval(s.last, this.#o.interval, 1);
      if (c.ts > expected) {
        s.pending.push(c);
        void this.#fill(c.symbol, s, expected, c.ts);
        return;
      }
    }
    if (this.#ctx.push(c)) s.last = c.ts;
  }

  reconnected(topics: readonly TopicSpec[], now: number): GapWindow[] {
    const gaps: GapWindow[] = [];
    const firstNewTs = floorToInterval(now, this.#o.interval);
    for (const t of topics) {
      if (t.symbol === undefined) continue;
      const s = this.#state.get(t.symbol);
      if (s?.last === undefined) continue;
      const from = addInterval(s.last, this.#o.interval, 1);
      if (from >= firstNewTs) continue;
      gaps.push({ symbol: t.symbol, lastClosedTs: s.last, firstNewTs });
      if (this.#canFill() && !s.filling) void this.#fill(t.symbol, s, from, firstNewTs);
    }
    return gaps;
  }

  async #slot(): Promise<void> {
    const limit = this.#o.fillConcurrency ?? 8;
    if (this.#active < limit) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active--;
  }

  async #fill(symbol: string, s: SymbolState, from: number, to: number): Promise<void> {
    s.filling = true;
    const { signal, clock, events } = this.#ctx;
    let overflowed = false;
    await this.#slot();
    try {
      const attempts = this.#o.fillAttempts ?? 1;
      for (let attempt = 1; attempt <= attempts && !signal.aborted; attempt++) {
        try {
          const rows = await collect(this.#o.fetchClosed!(symbol, from, to, signal));
          rows.sort((a, b) => a.ts - b.ts);
          let n = 0;
          for (const c of rows) {
            if (c.ts < from || c.ts >= to || (s.last !== undefined && c.ts <= s.last)) continue;
            if (!this.#ctx.push(c)) {
              overflowed = true;
              break;
            }
            s.last = c.ts;
            n++;
          }
          events.emit('gapFilled', { symbol, from, to, candles: n });
          break;
        } catch (cause) {
          if (signal.aborted) break;
          if (attempt === attempts) {
            events.emit('error', {
              symbol,
              error: new WebSocketError(
                'Gap fill failed; the series has a hole',
                { venue: this.#o.venue },
                {
                  cause,
                  meta: {
                    Symbol: symbol,
                    From: new Date(from).toISOString(),
                    To: new Date(to).toISOString(),
                  },
                },
              ),
            });
          } else {
            await sleep(backoffDelay(attempt - 1), signal, clock).catch(() => undefined);
          }
        }
      }
    } finally {
      this.#release();
      s.filling = false;
      const held = s.pending.sort((a, b) => a.ts - b.ts);
      s.pending = [];
      // After an overflow the held candles are dropped too: the next live candle refetches them in order.
      if (!signal.aborted && !overflowed) for (const c of held) this.#accept(s, c, false);
    }
  }
}

/** Yields a predicted-funding record only when the rate or the next funding time of a symbol changes. */
export class FundingChanges implements Processor<PredictedFunding> {
  readonly #last = new Map<string, string>();
  readonly #ctx: ProcessorContext<PredictedFunding>;
  constructor(ctx: ProcessorContext<PredictedFunding>) {
    this.#ctx = ctx;
  }
  data(records: readonly PredictedFunding[]): void {
    for (const r of records) {
      const key = `${r.rate}|${r.nextFundingTime ?? ''}`;
      if (this.#last.get(r.symbol) === key) continue;
      if (this.#ctx.push(r)) this.#last.set(r.symbol, key);
    }
  }
}

/**
 * Samples open interest once per `interval`: when the first update of a new period arrives, the last
 * value of the previous period is yielded with `ts` = that period's start.
 */
export class OpenInterestSampler implements Processor<OpenInterest> {
  readonly #current = new Map<string, OpenInterest>();
  readonly #ctx: ProcessorContext<OpenInterest>;
  readonly #interval: Interval;
  constructor(interval: Interval, ctx: ProcessorContext<OpenInterest>) {
    this.#interval = interval;
    this.#ctx = ctx;
  }
  data(records: readonly OpenInterest[]): void {
    for (const r of records) {
      const bucket = floorToInterval(r.ts, this.#interval);
      const prev = this.#current.get(r.symbol);
      if (prev && r.ts < prev.ts) continue;
      if (prev && floorToInterval(prev.ts, this.#interval) < bucket) {
        this.#ctx.push({ ...prev, ts: floorToInterval(prev.ts, this.#interval), interval: this.#interval });
      }
      this.#current.set(r.symbol, r);
    }
  }
}

/** One liquidation event as the venues push it, normalised to canonical units and side. */
export interface LiquidationEvent {
  readonly symbol: string;
  readonly ts: number;
  /** `'long'`: a long position was liquidated (a forced sell); `'short'`: a forced buy. */
  readonly side: 'long' | 'short';
  /** Notional in USD(T). */
  readonly usd: number;
}

/**
 * Sums liquidation events into one `Liquidation` per symbol and `interval`, yielded once the period is
 * over (plus `lateMs`). An event that arrives after its period was yielded (OKX sends out of order)
 * yields the period again with the updated totals, so an upsert keeps the right value.
 */
export class LiquidationBuckets implements Processor<LiquidationEvent> {
  readonly #ctx: ProcessorContext<Liquidation>;
  readonly #interval: Interval;
  readonly #lateMs: number;
  readonly #base: { source: Liquidation['source']; exchange: Liquidation['exchange'] };
  readonly #buckets = new Map<
    string,
    { symbol: string; ts: number; longUsd: number; shortUsd: number; timer: unknown; flushed: boolean }
  >();

  constructor(
    options: { interval: Interval; lateMs?: number | undefined; exchange: Liquidation['exchange'] },
    ctx: ProcessorContext<Liquidation>,
  ) {
    this.#ctx = ctx;
    this.#interval = options.interval;
    this.#lateMs = options.lateMs ?? 2_000;
    this.#base = { source: options.exchange, exchange: options.exchange };
  }

  data(records: readonly LiquidationEvent[]): void {
    const { clock } = this.#ctx;
    for (const e of records) {
      const ts = floorToInterval(e.ts, this.#interval);
      const key = `${e.symbol}:${ts}`;
      let b = this.#buckets.get(key);
      if (!b) {
        b = { symbol: e.symbol, ts, longUsd: 0, shortUsd: 0, timer: undefined, flushed: false };
        this.#buckets.set(key, b);
      }
      if (e.side === 'long') b.longUsd += e.usd;
      else b.shortUsd += e.usd;
      if (b.flushed) {
        // A late event: yield the period again with the new totals.
        clock.clearTimeout(b.timer);
        b.timer = undefined;
        b.flushed = false;
      }
      if (b.timer === undefined) {
        const end = addInterval(ts, this.#interval, 1);
        const bucket = b;
        b.timer = clock.setTimeout(
          () => this.#flush(key, bucket),
          Math.max(0, end + this.#lateMs - clock.now()),
        );
      }
    }
  }

  #flush(
    key: string,
    b: { symbol: string; ts: number; longUsd: number; shortUsd: number; timer: unknown; flushed: boolean },
  ): void {
    b.timer = undefined;
    b.flushed = true;
    this.#ctx.push({
      ...this.#base,
      symbol: b.symbol,
      ts: b.ts,
      interval: this.#interval,
      longUsd: Math.round(b.longUsd * 100) / 100,
      shortUsd: Math.round(b.shortUsd * 100) / 100,
    });
    // Keep a flushed period for a few more periods so late events update it; then forget it.
    const { clock } = this.#ctx;
    const forgetAt = addInterval(b.ts, this.#interval, 4);
    b.timer = clock.setTimeout(
      () => {
        if (this.#buckets.get(key) === b) this.#buckets.delete(key);
      },
      Math.max(0, forgetAt - clock.now()),
    );
  }

  close(): void {
    for (const b of this.#buckets.values()) this.#ctx.clock.clearTimeout(b.timer);
    this.#buckets.clear();
  }
}
