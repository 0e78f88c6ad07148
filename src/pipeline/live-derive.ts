/**
 * Derived series during `Sync.live()`: a pass runs shortly after inputs are stored (a streamed candle,
 * a poll, a catch-up) and updates what depends on them with the backfill's own derivations
 * (`deriveAll`), so live values are the values a batch recompute over the same stored rows gives. A
 * pass reads only what closed since the last one: RSI and MT calculators are kept between passes (a
 * change before what a calculator consumed, such as a hole filled after a reconnect, recomputes that
 * series from its start as the backfill does). An MT period is written once every member's row for it
 * is stored, or `MT_DEADLINE_MS` after the period closed with the members stored by then.
 */
import type { WsClock } from '../clients/ws/clock.js';
import { intervalMs } from '../core/intervals.js';
import type { StorageAdapter } from '../storage/adapter.js';
import { type DerivedInput, deriveAll } from './derived.js';
import type { SeriesIdentity, SeriesState } from './state.js';
import type { DeriveOptions, SeriesRef } from './types.js';
import type { BatchWriter } from './writer.js';

/** How long after a period closes its MT is written without a member that is still missing, ms. */
export const MT_DEADLINE_MS = 60_000;
/** How long a pass waits after the first input that asks for it, on the session's clock, ms. */
const PASS_DELAY_MS = 500;

/** What the live derivations need of their `Sync`. */
export interface LiveDeriveHost {
  readonly storage: StorageAdapter;
  readonly writer: BatchWriter;
  readonly derive: Required<DeriveOptions>;
  readonly clock: WsClock;
  readonly now: () => number;
  readonly signal: AbortSignal;
  readonly retry: (what: string, attempt: number, delayMs: number, error: unknown) => void;
  readonly register: (state: SeriesState<SeriesIdentity>) => void;
  readonly fail: (state: SeriesState<SeriesIdentity>, error: unknown) => Promise<void>;
  /** The pass itself failed (not one series): reported, and the next pass tries again. */
  readonly passFailed: (error: unknown) => void;
}

/** A derived series as the live run last saw it. */
export interface DerivedHealth {
  readonly series: SeriesRef;
  /** End of what the last pass wrote or found stored (exclusive), ms. */
  readonly end: number | undefined;
  readonly step: number | undefined;
  readonly error: Error | undefined;
  /** Whether a pass has completed it (it may still hold nothing: an event series with no event yet). */
  readonly synced: boolean;
}

/** Whether `d` needs any derivation at all. */
export function derivesAnything(d: Required<DeriveOptions>): boolean {
  return d.rsi.length > 0 || d.marketAverage || d.expandTo1m.length > 0 || d.takerTo1m;
}

/** The live derivations of one `Sync.live()`; see the module comment. */
export class LiveDerive {
  readonly #host: LiveDeriveHost;
  readonly #inputs: readonly SeriesState[];
  readonly #dirty = new Set<SeriesState>();
  readonly #cache = new Map<string, unknown>();
  readonly #seen = new Map<string, DerivedHealth>();
  #first = true;
  /** The minute of the last pass that looked at every expansion input. */
  #expandedMinute = 0;
  #timer: unknown;
  #busy: Promise<void> | undefined;
  #again = false;

  constructor(host: LiveDeriveHost, inputs: readonly SeriesState[]) {
    this.#host = host;
    this.#inputs = inputs;
  }

  /** Rows of `state` were handed to the writer (its `firstFetched` says from where). */
  touch(state: SeriesState): void {
    this.#dirty.add(state);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#host.signal.aborted) return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    if (this.#timer !== undefined) return;
    this.#timer = this.#host.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#busy = this.#pass().finally(() => {
        this.#busy = undefined;
        if (this.#again) {
          this.#again = false;
          this.#schedule();
        }
      });
    }, PASS_DELAY_MS);
  }

  /** The inputs a pass over `dirty` must see: the MT's other members, and taker volume with its candles. */
  #related(dirty: ReadonlySet<SeriesState>): SeriesState[] {
    const d = this.#host.derive;
    const group = (s: SeriesState) =>
      `${s.plan.kind}|${s.plan.key.source}|${s.plan.key.exchange}|${s.plan.key.interval ?? ''}`;
    const groups = new Set<string>();
    const symbols = new Set<string>();
    const averaged = (s: SeriesState) =>
      s.plan.kind === 'candles' || s.plan.kind === 'funding' || s.plan.kind === 'openInterest';
    for (const s of dirty) {
      if (d.marketAverage && averaged(s)) groups.add(group(s));
      if (d.takerTo1m && s.plan.key.source === 'binance') symbols.add(s.plan.key.symbol);
    }
    // Expansions write minutes as they close, also when no new 5m row came: once a minute at most.
    const minute = Math.floor(this.#host.now() / 60_000);
    const expand = minute !== this.#expandedMinute;
    if (expand) this.#expandedMinute = minute;
    return this.#inputs.filter((s) => {
      if (dirty.has(s) || groups.has(group(s))) return true;
      const { kind, key } = s.plan;
      if (expand && (kind === 'openInterest' || kind === 'longShortRatio') && d.expandTo1m.includes(kind))
        return true;
      return (
        d.takerTo1m &&
        key.source === 'binance' &&
        symbols.has(key.symbol) &&
        ((kind === 'takerVolume' && key.interval === '5m') || (kind === 'candles' && key.interval === '1m'))
      );
    });
  }

  async #pass(): Promise<void> {
    const host = this.#host;
    const chosen = this.#first ? [...this.#inputs] : this.#related(this.#dirty);
    this.#first = false;
    this.#dirty.clear();
    const inputs: DerivedInput[] = chosen.map((s) => {
      const firstFetched = s.firstFetched;
      s.firstFetched = Number.POSITIVE_INFINITY;
      return { kind: s.plan.kind, key: s.plan.key, firstFetched, to: s.to };
    });
    try {
      // Derivations read storage: what these inputs handed to the writer must be committed first.
      await Promise.all(chosen.map((s) => host.writer.settled(s.plan.id)));
      if (host.signal.aborted) return;
      await deriveAll({
        storage: host.storage,
        writer: host.writer,
        inputs,
        // A member failing live does not hold the MT back: the deadline rule decides its membership.
        incomplete: [],
        derive: host.derive,
        now: host.now(),
        signal: host.signal,
        cache: this.#cache,
        mtDeadlineMs: MT_DEADLINE_MS,
        retry: host.retry,
        progress: () => {},
        register: (state) => {
          host.register(state);
          this.#note(state, this.#seen.get(state.plan.id)?.error, false);
        },
        fail: async (state, error) => {
          const err = error instanceof Error ? error : new Error(String(error));
          const before = this.#seen.get(state.plan.id)?.error;
          this.#note(state, err, false);
          // A series failing pass after pass is reported once per distinct failure.
          if (before?.message !== err.message) await host.fail(state, err);
        },
        done: async (state) => this.#note(state, undefined, true),
      });
    } catch (error) {
      if (host.signal.aborted) return;
      // Nothing was consumed for good: the next pass starts from these inputs again.
      for (const [i, s] of chosen.entries())
        s.firstFetched = Math.min(s.firstFetched, (inputs[i] as DerivedInput).firstFetched);
      for (const s of chosen) this.#dirty.add(s);
      host.passFailed(error);
    }
  }

  #note(state: SeriesState<SeriesIdentity>, error: Error | undefined, synced: boolean): void {
    const interval = state.plan.key.interval;
    const before = this.#seen.get(state.plan.id);
    const end = state.to > 0 ? state.to : before?.end;
    this.#seen.set(state.plan.id, {
      series: state.ref,
      end: end === undefined || !Number.isFinite(end) ? undefined : end,
      step: interval ? intervalMs(interval) : undefined,
      error,
      synced: synced || (before?.synced ?? false),
    });
  }

  /** What each derived series looked like after the last pass. */
  health(): DerivedHealth[] {
    return [...this.#seen.values()];
  }

  /** Waits for the pass running (the caller aborted the signal) and cancels the next one. */
  async stopped(): Promise<void> {
    this.#host.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#busy;
  }
}
