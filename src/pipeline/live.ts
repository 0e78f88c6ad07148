/**
 * `Sync.live()`: keeps every series current after (or without) a backfill. Each series is caught up
 * from the coverage ledger over REST: at the start (the hand-off from a backfill), whenever a streamed
 * candle arrives beyond what is stored (a reconnect or a stall left a hole), and on its kind's cadence
 * (each period's close plus a delay; streamed series on a slower safety cadence). Streamed candles in
 * between are written as they close, each with its ledger mark, through the same batch writer as the
 * backfill. What is stored is therefore always contiguous with the ledger: no hole at the hand-off or
 * after a reconnect, and no duplicate (a row at or before the stored end is never written again).
 */
import type { VenueClient } from '../clients/base.js';
import type { WsClock } from '../clients/ws/clock.js';
import type { LiveStream } from '../clients/ws/stream.js';
import type { Candle, Liquidation } from '../core/types.js';
import type { CoverageMark } from '../storage/adapter.js';
import { type LiveDerive, MT_DEADLINE_MS } from './live-derive.js';
import type { PlannedSeries } from './plan.js';
import type { SeriesState } from './state.js';
import type { SeriesRef } from './types.js';
import type { BatchWriter } from './writer.js';

/** How a live series is doing. */
export type LiveState = 'live' | 'catching-up' | 'stalled' | 'error';

/** One series in `LiveHandle.health()`. */
export interface SeriesHealth {
  readonly series: SeriesRef;
  /** Whether the series is derived (RSI, MT, expansions) rather than fetched. */
  readonly derived: boolean;
  readonly state: LiveState;
  /** `ts` of the newest stored period (or event), if any. */
  readonly lastTs: number | undefined;
  /** How far what is stored trails the venue clock: now minus the end of what is stored, ms. */
  readonly lagMs: number | undefined;
  /** The last failure, while the series is in `error`. */
  readonly error?: Error;
}

/** What `Sync.live()` returns. */
export interface LiveHandle {
  /** Stops polling and streaming, flushes what was fetched; resolves once everything is written. */
  stop(): Promise<void>;
  /** Per series: state, newest stored ts and lag behind the venue clock. */
  health(): SeriesHealth[];
  /** Resolves when the live run has stopped (by `stop()` or the `signal`). */
  readonly done: Promise<void>;
}

/** Options of `Sync.live()`. */
export interface LiveOptions {
  /** Stops the live run (as `stop()` does). */
  readonly signal?: AbortSignal;
  /** How long after a period closes its poll goes out (venues publish a closed period late). @default 3000 */
  readonly pollDelayMs?: number;
}

/** What the live session needs of its `Sync`. */
export interface LiveHost {
  readonly clock: WsClock;
  readonly now: () => number;
  readonly writer: BatchWriter;
  readonly signal: AbortSignal;
  readonly concurrency: number;
  /** Fetches what the ledger says is missing of `state` up to now; `undefined` when it failed or stopped. */
  catchUp(state: SeriesState): Promise<number | undefined>;
  /** Once what `state` handed to the writer is committed: the end of what its ledger covers. */
  storedEnd(state: SeriesState): Promise<number | undefined>;
  /** A stream failed; the session opens it again after `delayMs`. */
  streamFailed(what: string, error: unknown, delayMs: number): void;
  /** What a stream reports while it runs: reconnects, stalls, and errors it went on after. */
  streamEvent(event: StreamReport): void;
  /** Derived series kept current from the inputs this session stores, if the `Sync` derives any. */
  readonly derive?: LiveDerive | undefined;
}

/** A stream's own report, as `LiveHost.streamEvent` receives it. */
export type StreamReport =
  | {
      readonly type: 'reconnected';
      readonly stream: string;
      readonly attempt: number;
      readonly downtimeMs: number;
    }
  | {
      readonly type: 'stalled';
      readonly stream: string;
      readonly symbol?: string | undefined;
      readonly silentMs: number;
    }
  | {
      readonly type: 'error';
      readonly stream: string;
      readonly series?: SeriesState | undefined;
      readonly error: Error;
    };

/** The slowest a streamed series is polled as a safety net, ms (at least five periods). */
const STREAMED_POLL_MS = 5 * 60_000;
/** How long after a period closes a liquidation stream's quiet periods are marked (its late events are in), ms. */
const LIQUIDATION_MARK_DELAY_MS = 3_000;
/** Stream restart backoff after a failure, ms. */
const STREAM_RESTART_MS = 5_000;

interface LiveSeries {
  readonly state: SeriesState;
  /** End of what is stored (ms, exclusive) as far as this session knows; undefined before the first catch-up. */
  end: number | undefined;
  /** The catch-up running, if any; `again` asks for one more once it ends. */
  busy: Promise<void> | undefined;
  again: boolean;
  timer: unknown;
  streamed: boolean;
  /** Whether a catch-up has succeeded (an event series may have nothing stored yet). */
  synced: boolean;
  /** Streamed candles that arrived during a catch-up, written (or dropped as stored) once it ends. */
  pending: Candle[];
  lastError: Error | undefined;
  /** Served by a stream alone (no REST history): its ledger is marked from what the stream saw. */
  streamOnly: boolean;
  /** Stream-only: periods at or after `end` that a row was written for. */
  readonly periods: Set<number>;
}

/** Streamed candles kept per series while it catches up; beyond this the catch-up refetches them. */
const MAX_PENDING = 1_000;

/** Runs at most `n` tasks at once, in the order they asked. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** One live run over planned series; see the module comment. */
export class LiveSession {
  readonly #host: LiveHost;
  readonly #pollDelayMs: number;
  readonly #series = new Map<string, LiveSeries>();
  readonly #limits = new Map<VenueClient, <T>(task: () => Promise<T>) => Promise<T>>();
  readonly #streams: Promise<void>[] = [];

  constructor(host: LiveHost, states: readonly SeriesState[], options: LiveOptions) {
    this.#host = host;
    this.#pollDelayMs = options.pollDelayMs ?? 3_000;
    for (const state of states) {
      this.#series.set(state.plan.id, {
        state,
        end: undefined,
        busy: undefined,
        again: false,
        timer: undefined,
        streamed: false,
        synced: false,
        pending: [],
        lastError: undefined,
        streamOnly: state.plan.capability.rest === 'none',
        periods: new Set(),
      });
    }
  }

  /** Opens the candle streams, then catches every series up and schedules its polls. */
  start(): void {
    const byStream = new Map<string, { client: VenueClient; interval: string; series: LiveSeries[] }>();
    for (const s of this.#series.values()) {
      const { plan } = s.state;
      if (plan.kind !== 'candles' || !plan.interval || !('watchCandles' in plan.client)) continue;
      const id = `${plan.client.venue}|${plan.interval}`;
      const group = byStream.get(id) ?? { client: plan.client, interval: plan.interval, series: [] };
      group.series.push(s);
      byStream.set(id, group);
      s.streamed = true;
    }
    for (const group of byStream.values()) this.#streams.push(this.#stream(group.client, group.series));
    const byLiquidations = new Map<string, LiveSeries[]>();
    for (const s of this.#series.values()) {
      if (!s.streamOnly || s.state.plan.kind !== 'liquidations') continue;
      const id = `${s.state.plan.client.venue}|${s.state.plan.interval}`;
      byLiquidations.set(id, [...(byLiquidations.get(id) ?? []), s]);
      s.streamed = true;
    }
    for (const series of byLiquidations.values()) this.#streams.push(this.#liquidations(series));
    for (const s of this.#series.values()) if (!s.streamOnly) this.#tick(s);
  }

  /** Every period is asked for once closed; a streamed series only as a safety net. */
  #cadence(plan: PlannedSeries, streamed: boolean): number {
    const poll = plan.capability.pollMs(plan.interval);
    return streamed ? Math.max(poll, 5 * (plan.step ?? poll), STREAMED_POLL_MS) : poll;
  }

  #schedule(s: LiveSeries): void {
    const host = this.#host;
    if (host.signal.aborted) return;
    host.clock.clearTimeout(s.timer);
    const now = host.now();
    const cadence = this.#cadence(s.state.plan, s.streamed);
    // Grid series wake just after a period closes; others every cadence.
    const step = s.state.plan.step;
    const at =
      step !== undefined && cadence % step === 0
        ? Math.floor(now / cadence) * cadence + cadence + this.#pollDelayMs
        : now + cadence;
    s.timer = host.clock.setTimeout(() => this.#poll(s), Math.max(1, at - now));
  }

  /**
   * A series' poll is due. A streamed series that the stream has kept current (its end is the last
   * closed period's, and its writes did not fail) needs nothing from REST: the safety net only acts on
   * a series that fell behind, so a thousand current series cost no query at all.
   */
  #poll(s: LiveSeries): void {
    const step = s.state.plan.step;
    const current =
      s.streamed &&
      s.synced &&
      step !== undefined &&
      s.end !== undefined &&
      s.state.outcome === 'done' &&
      s.end >= Math.floor(this.#host.now() / step) * step;
    if (current && !s.busy) this.#schedule(s);
    else this.#tick(s);
  }

  /** Catches `s` up (once more after the one running, if one is). */
  #tick(s: LiveSeries): void {
    if (this.#host.signal.aborted) return;
    if (s.busy) {
      s.again = true;
      return;
    }
    const { client } = s.state.plan;
    let limit = this.#limits.get(client);
    if (!limit) {
      limit = limiter(this.#host.concurrency);
      this.#limits.set(client, limit);
    }
    const run = limit;
    s.busy = (async () => {
      do {
        s.again = false;
        try {
          // The venue's concurrency bounds the fetching, not the wait for the batch to commit.
          const fetched = await run(() => this.#host.catchUp(s.state));
          const end = fetched === undefined ? undefined : await this.#host.storedEnd(s.state);
          if (end !== undefined) s.end = Math.max(s.end ?? end, end);
          if (s.state.firstFetched !== Number.POSITIVE_INFINITY) this.#host.derive?.touch(s.state);
          if (fetched !== undefined && s.state.outcome === 'done') s.synced = true;
          s.lastError = s.state.outcome === 'error' ? s.state.error : undefined;
        } catch (error) {
          s.lastError = error instanceof Error ? error : new Error(String(error));
        }
      } while (s.again && !this.#host.signal.aborted);
    })().finally(() => {
      s.busy = undefined;
      const pending = s.pending;
      s.pending = [];
      for (const candle of pending) this.#onCandle(s, candle);
      this.#schedule(s);
    });
  }

  /** One candle stream of a venue and interval over its series; reopened after a failure until stopped. */
  async #stream(client: VenueClient, series: readonly LiveSeries[]): Promise<void> {
    const host = this.#host;
    const bySymbol = new Map(series.map((s) => [s.state.plan.key.symbol, s]));
    const plan = (series[0] as LiveSeries).state.plan;
    const live = client as VenueClient & {
      watchCandles(p: {
        symbols: readonly string[];
        interval: string;
        clock: WsClock;
        signal: AbortSignal;
        gapFill: boolean;
      }): LiveStream<Candle>;
    };
    while (!host.signal.aborted) {
      try {
        const stream = live.watchCandles({
          symbols: [...bySymbol.keys()],
          interval: plan.interval as string,
          clock: host.clock,
          signal: host.signal,
          // The session catches a series up from its ledger when a candle lands beyond what is stored:
          // the stream's own REST gap fill would fetch the same periods again.
          gapFill: false,
        });
        this.#reportEvents(stream, `${client.venue} ${plan.interval} candles`, bySymbol);
        for await (const candle of stream) this.#onCandle(bySymbol.get(candle.symbol), candle);
        if (host.signal.aborted) return;
        throw new Error('the stream ended');
      } catch (error) {
        if (host.signal.aborted) return;
        host.streamFailed(`${client.venue} ${plan.interval} candles`, error, STREAM_RESTART_MS);
        await this.#restartWait();
      }
    }
  }

  /** Hands a stream's reconnects, stalls and errors to the host as they happen. */
  #reportEvents<T>(stream: LiveStream<T>, name: string, bySymbol: ReadonlyMap<string, LiveSeries>): void {
    const host = this.#host;
    stream.on('reconnected', (e) =>
      host.streamEvent({ type: 'reconnected', stream: name, attempt: e.attempt, downtimeMs: e.downtimeMs }),
    );
    stream.on('stalled', (e) =>
      host.streamEvent({ type: 'stalled', stream: name, symbol: e.symbol, silentMs: e.silentMs }),
    );
    stream.on('error', (e) =>
      host.streamEvent({
        type: 'error',
        stream: name,
        series: e.symbol === undefined ? undefined : bySymbol.get(e.symbol)?.state,
        error: e.error,
      }),
    );
  }

  /**
   * Waits before a failed stream opens again, on the session's clock; the abort listener goes with the
   * wait (a stream failing for days must not pile listeners onto the signal).
   */
  #restartWait(): Promise<void> {
    const host = this.#host;
    return new Promise<void>((resolve) => {
      const onAbort = () => {
        host.clock.clearTimeout(timer);
        resolve();
      };
      const timer = host.clock.setTimeout(() => {
        host.signal.removeEventListener('abort', onAbort);
        resolve();
      }, STREAM_RESTART_MS);
      host.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * One liquidation stream of a venue and interval (there is no REST history to catch up from). Rows
   * are written as the stream sums them, each with its period's `stored` mark. Once a period has closed
   * (and the stream's late events are in), every period the stream was connected for all along and
   * yielded nothing for is marked `empty` ('no liquidations'); periods it was down for stay unmarked,
   * a hole in the ledger, since nothing can fetch them.
   */
  // Long by design: one loop per life of the stream, whose events, quiet-period marker and rows share `upSince`.
  async #liquidations(series: readonly LiveSeries[]): Promise<void> {
    const host = this.#host;
    const plan = (series[0] as LiveSeries).state.plan;
    const client = plan.client as VenueClient & {
      watchLiquidations(p: {
        symbols: readonly string[];
        interval: string;
        clock: WsClock;
        signal: AbortSignal;
      }): LiveStream<Liquidation>;
    };
    const step = plan.step as number;
    const name = `${client.venue} ${plan.interval} liquidations`;
    const bySymbol = new Map(series.map((s) => [s.state.plan.key.symbol, s]));
    const delay = Math.max(this.#pollDelayMs, LIQUIDATION_MARK_DELAY_MS);
    while (!host.signal.aborted) {
      // Since when every connection of the stream has been up; undefined while one is down.
      let upSince: number | undefined;
      let timer: unknown;
      const markQuiet = () => {
        const closed = Math.floor((host.now() - delay) / step) * step;
        if (upSince !== undefined) {
          const first = Math.ceil(upSince / step) * step;
          for (const s of series) this.#markQuiet(s, Math.max(s.end ?? first, first), closed);
        }
        timer = host.clock.setTimeout(markQuiet, Math.max(1, closed + step + delay - host.now()));
      };
      try {
        const stream = client.watchLiquidations({
          symbols: [...bySymbol.keys()],
          interval: plan.interval as string,
          clock: host.clock,
          signal: host.signal,
        });
        stream.on('connected', () => {
          upSince = host.now();
        });
        stream.on('reconnecting', () => {
          upSince = undefined;
        });
        stream.on('reconnected', () => {
          upSince = host.now();
        });
        this.#reportEvents(stream, name, bySymbol);
        markQuiet();
        for await (const row of stream) this.#onLiquidation(bySymbol.get(row.symbol), row);
        if (host.signal.aborted) return;
        throw new Error('the stream ended');
      } catch (error) {
        if (host.signal.aborted) return;
        host.streamFailed(name, error, STREAM_RESTART_MS);
        await this.#restartWait();
      } finally {
        host.clock.clearTimeout(timer);
      }
    }
  }

  /** A period's liquidations: written with its `stored` mark (a late event writes the period again). */
  #onLiquidation(s: LiveSeries | undefined, row: Liquidation): void {
    if (!s) return;
    const { plan } = s.state;
    const to = row.ts + (plan.step as number);
    if (s.end === undefined || row.ts >= s.end) s.periods.add(row.ts);
    s.state.rowsFetched++;
    void this.#host.writer
      .add(plan.kind, plan.id, [row], [{ key: plan.key, from: row.ts, to, state: 'stored' }], plan.key.source)
      .catch(() => undefined);
  }

  /** Marks `[from, to)` of a stream-only series `empty` where no row was written, and moves its end there. */
  #markQuiet(s: LiveSeries, from: number, to: number): void {
    if (from >= to) return;
    const { plan } = s.state;
    const step = plan.step as number;
    const marks: CoverageMark[] = [];
    let start: number | undefined;
    for (let t = from; t < to; t += step) {
      if (s.periods.has(t)) {
        if (start !== undefined)
          marks.push({ key: plan.key, from: start, to: t, state: 'empty', reason: 'no liquidations' });
        start = undefined;
      } else start ??= t;
    }
    if (start !== undefined)
      marks.push({ key: plan.key, from: start, to, state: 'empty', reason: 'no liquidations' });
    for (const t of [...s.periods]) if (t < to) s.periods.delete(t);
    s.end = to;
    s.synced = true;
    if (marks.length > 0)
      void this.#host.writer.add(plan.kind, plan.id, [], marks, plan.key.source).catch(() => undefined);
  }

  /**
   * A closed candle from the stream: written when it continues what is stored; skipped when it is
   * stored already; a catch-up over REST when it lies beyond (the catch-up fetches it too).
   */
  #onCandle(s: LiveSeries | undefined, candle: Candle): void {
    if (!s) return;
    if (s.busy || s.end === undefined) {
      // Kept for when the catch-up ends: it may stop short of this candle (or the venue's REST lags).
      if (s.pending.length < MAX_PENDING) s.pending.push(candle);
      else s.again = true;
      return;
    }
    const { plan } = s.state;
    const step = plan.step as number;
    if (candle.ts < s.end) return;
    if (candle.ts > s.end) {
      this.#tick(s);
      return;
    }
    s.end = candle.ts + step;
    s.state.rowsFetched++;
    void this.#host.writer
      .add(
        plan.kind,
        plan.id,
        [candle],
        [{ key: plan.key, from: candle.ts, to: s.end, state: 'stored' }],
        plan.key.source,
      )
      .catch(() => undefined);
    s.state.firstFetched = Math.min(s.state.firstFetched, candle.ts);
    this.#host.derive?.touch(s.state);
  }

  health(): SeriesHealth[] {
    const now = this.#host.now();
    const fetched = [...this.#series.values()].map((s): SeriesHealth => {
      const { plan } = s.state;
      const lastTs = s.end === undefined ? undefined : s.end - (plan.step ?? 1);
      const lagMs = s.end === undefined ? undefined : Math.max(0, now - s.end);
      const cadence = this.#cadence(plan, false);
      let state: LiveState;
      if (s.lastError) state = 'error';
      else if (!s.synced || (s.busy && (lagMs ?? 0) > cadence + this.#pollDelayMs)) state = 'catching-up';
      else if ((lagMs ?? 0) > 2 * cadence + this.#pollDelayMs + (plan.step ?? 0)) state = 'stalled';
      else state = 'live';
      return {
        series: s.state.ref,
        derived: false,
        state,
        lastTs,
        lagMs,
        ...(state === 'error' && s.lastError ? { error: s.lastError } : {}),
      };
    });
    return [...fetched, ...this.#derivedHealth(now)];
  }

  /** Derived series: `live` while what is stored keeps within a few periods (or the MT deadline) of the clock. */
  #derivedHealth(now: number): SeriesHealth[] {
    return (this.#host.derive?.health() ?? []).map((d) => {
      const lagMs = d.end === undefined ? undefined : Math.max(0, now - d.end);
      // 1m expansions and taker distributions follow 5m inputs: they can trail by a bucket and more.
      const inputStep =
        d.series.kind === 'candles' || d.series.kind === 'indicators'
          ? d.step
          : Math.max(d.step ?? 0, 5 * 60_000);
      const bound =
        d.step === undefined || inputStep === undefined
          ? Number.POSITIVE_INFINITY
          : 2 * inputStep + d.step + MT_DEADLINE_MS + this.#pollDelayMs;
      const state: LiveState = d.error
        ? 'error'
        : !d.synced
          ? 'catching-up'
          : lagMs !== undefined && lagMs > bound
            ? 'stalled'
            : 'live';
      return {
        series: d.series,
        derived: true,
        state,
        lastTs: d.end === undefined ? undefined : d.end - (d.step ?? 1),
        lagMs,
        ...(d.error ? { error: d.error } : {}),
      };
    });
  }

  /** Stops timers and waits for the catch-ups and streams to end (the caller aborted the signal). */
  async stopped(): Promise<void> {
    for (const s of this.#series.values()) this.#host.clock.clearTimeout(s.timer);
    await Promise.all([...this.#series.values()].map((s) => s.busy));
    await Promise.all(this.#streams);
    await this.#host.derive?.stopped();
  }
}
