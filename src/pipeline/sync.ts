import { setMaxListeners } from 'node:events';
import type { VenueClient } from '../clients/base.js';
import { backoffDelay } from '../clients/transport/backoff.js';
import { sleep } from '../clients/transport/sleep.js';
import { TypedEmitter } from '../clients/ws/emitter.js';
import {
  type HttpError,
  InvalidArgumentError,
  PerpdataError,
  type RateLimitError,
  UnknownSymbolError,
  UnsupportedError,
} from '../core/errors.js';
import { ceilToInterval, floorToInterval } from '../core/intervals.js';
import type { AnyRecord, RecordOf, SeriesKey } from '../core/types.js';
import type { SymbolRegistry } from '../normalize/symbols.js';
import { type DerivedInput, deriveAll } from './derived.js';
import { ChunkMarker, chunkSpans, missingSpans, type Span } from './ledger.js';
import { type LiveHandle, type LiveOptions, LiveSession, type StreamReport } from './live.js';
import { derivesAnything, LiveDerive } from './live-derive.js';
import { planSeries, planStreamOnlySeries, type ResolvedOptions, resolveOptions, venueOf } from './plan.js';
import { type SeriesIdentity, SeriesState } from './state.js';
import type { BackfillReport, SeriesOutcome, SeriesReport, SyncEvents, SyncOptions } from './types.js';
import { iso } from './util.js';
import { BatchWriter, withStorageRetry } from './writer.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Periods per chunk of a grid series: a chunk is one unit of interleaved work (about ten pages). */
const CHUNK_PERIODS = 5_000;
/** How often a running series writes its status row, ms. */
const STATUS_EVERY_MS = 5_000;
/** Times a chunk (or a venue's instrument list) is tried again after a transient failure. */
const CHUNK_ATTEMPTS = 6;
/** Longest wait for a banned venue before the series fails, ms. */
const MAX_BAN_WAIT_MS = 15 * MINUTE;
/** How long storage calls that fail because the database went away are tried again, ms. */
const STORAGE_RETRY_MS = 60_000;
/** Live writes go out once no row came for this long (a burst is in), or at the batch time bound. */
const LIVE_IDLE_MS = 50;

/**
 * How long to wait before trying a failed chunk again, or `undefined` when the failure is final:
 * bans and rate limits wait until the venue says (`retryAt`), a venue with no egress left, network
 * failures and 5xx that outlived the client's own retries back off (`backoffDelay`, 0.5–1 s doubling,
 * capped at 30 s). Validation errors,
 * unknown symbols and other 4xx are final.
 */
export function chunkRetryDelay(error: unknown, attempt: number, now: number): number | undefined {
  if (!(error instanceof PerpdataError)) return undefined;
  const backoff = backoffDelay(attempt - 1, { initialMs: 1_000, maxMs: 30_000 });
  switch (error.code) {
    case 'BANNED':
    case 'RATE_LIMITED': {
      const at = (error as RateLimitError).retryAt;
      const wait = at === undefined ? backoff : Math.max(50, at - now);
      return wait <= MAX_BAN_WAIT_MS ? wait : undefined;
    }
    case 'NO_EGRESS':
    case 'NETWORK':
    case 'TIMEOUT':
      return backoff;
    case 'HTTP': {
      const status = (error as HttpError).status;
      return status !== undefined && status >= 500 ? backoff : undefined;
    }
    default:
      return undefined;
  }
}

/** A venue's instrument list and the series of it that it lists. */
interface ListedVenue {
  readonly registry: SymbolRegistry;
  readonly exchange: SeriesKey['exchange'];
  readonly states: SeriesState[];
}

interface Chunk {
  readonly state: SeriesState;
  readonly span: Span;
}

/**
 * Keeps a symbol list's history of every kind, across venues, in a `StorageAdapter`: `backfill()`
 * resumes each series from the storage's coverage ledger, fetches only what is missing (holes inside
 * the stored range too), records the venue's own holes as `empty` so they are never asked for again,
 * writes pages in large batches as they arrive, and derives RSI, the MT token and 1m expansions from
 * what is stored.
 * @example
 * import { BinanceClient, BybitClient, PostgresStorage, Sync } from 'perpdata';
 *
 * const storage = new PostgresStorage({ db: process.env.DATABASE_URL ?? 'postgres://localhost/perpdata' });
 * await storage.migrate();
 * const sync = new Sync({
 *   storage,
 *   clients: [new BinanceClient(), new BybitClient()],
 *   symbols: ['BTC', 'ETH'],
 *   from: '2024-01-01',
 *   derive: { rsi: [14], marketAverage: true },
 * });
 * sync.on('progress', (e) => console.log(e.series.id, Math.round((100 * e.done) / e.total), '%'));
 * const report = await sync.backfill();
 * console.log(report.rowsWritten, 'rows');
 */
export class Sync {
  readonly #o: ResolvedOptions;
  readonly #events: TypedEmitter<SyncEvents>;

  constructor(options: SyncOptions) {
    this.#o = resolveOptions(options);
    this.#events = new TypedEmitter<SyncEvents>((error) =>
      this.#o.logger?.error?.(`a Sync listener threw: ${String(error)}`),
    );
  }

  /** Adds a listener of a typed event; returns a function that removes it. */
  on<E extends keyof SyncEvents>(event: E, listener: (payload: SyncEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Removes a listener. */
  off<E extends keyof SyncEvents>(event: E, listener: (payload: SyncEvents[E]) => void): void {
    this.#events.off(event, listener);
  }

  /**
   * Fetches what the coverage ledger says is missing of every series, writes it with its ledger marks,
   * then updates the derived series. One failing series never stops the others; the promise rejects
   * only when nothing at all could be fetched (every series failed).
   * @example
   * import { BinanceClient, MemoryStorage, Sync } from 'perpdata';
   *
   * const sync = new Sync({ storage: new MemoryStorage(), clients: [new BinanceClient()], symbols: ['BTC'], from: '2024-06-01' });
   * sync.on('seriesDone', ({ report }) => console.log(report.id, report.outcome, report.rowsWritten));
   * const report = await sync.backfill(); // run it again: only what the coverage ledger lacks is fetched
   * console.log(report.rowsWritten, 'rows;', report.resumed ? 'resumed' : 'first run');
   */
  async backfill(): Promise<BackfillReport> {
    if (this.#running) throw new InvalidArgumentError('backfill() is already running on this Sync');
    this.#running = true;
    try {
      return await this.#backfill();
    } finally {
      this.#running = false;
    }
  }

  #running = false;
  /** Whether the run is `live()` (its status rows are written by `#storedEnd`). */
  #live = false;
  /** Job name of status and error rows: the backfill's, or the live run's. */
  #job = '';
  /** Per live series, the stored end its last status row reported. */
  readonly #reported = new Map<string, number>();

  /**
   * Keeps every series current from now on: catches each one up from the coverage ledger over REST
   * (the hand-off from a backfill, and after every reconnect or stall), streams closed candles where the
   * venue streams them and the exchanges' liquidations (stream-only), and polls every other kind on its cadence from `capabilities`, a little after
   * each period closes. Writes go through the same batches and ledger marks as `backfill()`, so a
   * restart resumes exactly where the stored data ends. Derived series are updated as their inputs are
   * stored, with the backfill's derivations (an MT period once every member's is in, or 60 s after it
   * closed).
   * @example
   * import { BinanceClient, openPostgresStorage, Sync } from 'perpdata';
   *
   * const storage = await openPostgresStorage({ url: process.env.DATABASE_URL });
   * const sync = new Sync({ storage, clients: [new BinanceClient()], symbols: ['BTC', 'ETH'], from: Date.now() - 3_600_000 });
   * const live = sync.live(); // catches up from the ledger first, then streams and polls
   * setInterval(() => console.table(live.health()), 10_000).unref();
   * process.once('SIGINT', () => void live.stop()); // flushes, then `live.done` resolves
   * await live.done;
   * await storage.close();
   */
  live(options: LiveOptions = {}): LiveHandle {
    if (this.#running)
      throw new InvalidArgumentError('a backfill() or live() is already running on this Sync');
    this.#running = true;
    const o = this.#o;
    this.#job = o.job === 'backfill' ? 'live' : `${o.job}-live`;
    this.#live = true;
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    for (const signal of [o.signal, options.signal]) {
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    }
    setMaxListeners(0, stop.signal);
    const known = new Map<string, SeriesState<SeriesIdentity>>();
    // Live rows go once a burst (a period's candles over every symbol) has gone quiet, at most 1 s on.
    const writer = this.#writer(known, Math.min(o.batchDelayMs, 1_000), LIVE_IDLE_MS);
    let session: LiveSession | undefined;
    const done = (async () => {
      await this.#status({ job: this.#job, status: 'running', message: 'live started' });
      const { states, venues } = await this.#liveSeries(known, stop.signal);
      session = new LiveSession(
        {
          derive: this.#liveDerive(states, writer, known, stop.signal),
          clock: o.clock,
          now: o.now,
          writer,
          signal: stop.signal,
          concurrency: o.seriesConcurrency,
          catchUp: (state) => this.#catchUp(state, venues.get(state) as ListedVenue, writer, stop.signal),
          storedEnd: (state) => this.#storedEnd(state, writer, stop.signal),
          streamFailed: (what, error, delayMs) => this.#transient(what, error, 1, delayMs),
          streamEvent: (e) => this.#streamEvent(e),
        },
        states,
        options,
      );
      if (!stop.signal.aborted) session.start();
      await new Promise<void>((resolve) => {
        if (stop.signal.aborted) resolve();
        else stop.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await session.stopped();
      await writer.close().catch(() => {});
      await this.#liveStopped(states);
    })().finally(() => {
      for (const signal of [o.signal, options.signal]) signal?.removeEventListener('abort', onAbort);
      this.#running = false;
      this.#live = false;
    });
    done.catch((error: unknown) => this.#o.logger?.error?.(`live stopped on an error: ${String(error)}`));
    return {
      stop: async () => {
        stop.abort();
        await done;
      },
      health: () => session?.health() ?? [],
      done,
    };
  }

  /** The series a live run keeps (fetched and stream-only), with each one's venue listing. */
  async #liveSeries(
    known: Map<string, SeriesState<SeriesIdentity>>,
    signal: AbortSignal,
  ): Promise<{ states: SeriesState[]; venues: Map<SeriesState, ListedVenue> }> {
    const states: SeriesState[] = [];
    const venues = new Map<SeriesState, ListedVenue>();
    const planned = [...planSeries(this.#o), ...planStreamOnlySeries(this.#o)];
    for (const [client, list] of this.#byClient(planned.map((p) => new SeriesState(p)))) {
      const listed = await this.#listed(client, list, signal);
      if (!listed) continue;
      for (const state of listed.states) {
        states.push(state);
        venues.set(state, listed);
        known.set(state.plan.id, state);
      }
    }
    return { states, venues };
  }

  /** The live derivations over `states`, when the options ask for any. */
  #liveDerive(
    states: readonly SeriesState[],
    writer: BatchWriter,
    known: Map<string, SeriesState<SeriesIdentity>>,
    signal: AbortSignal,
  ): LiveDerive | undefined {
    const o = this.#o;
    if (!derivesAnything(o.derive)) return undefined;
    return new LiveDerive(
      {
        storage: o.storage,
        writer,
        derive: o.derive,
        clock: o.clock,
        now: o.now,
        signal,
        retry: (what, attempt, delayMs, error) =>
          this.#events.emit('retry', { what, attempt, delayMs, error }),
        register: (state) => known.set(state.plan.id, state),
        fail: (state, error) => this.#fail(state, error),
        passFailed: (error) => {
          const err = error instanceof Error ? error : new Error(String(error));
          this.#events.emit('error', { error: err });
          void this.#logError(undefined, err);
        },
      },
      states,
    );
  }

  /** Status rows once a live run has stopped: each series row that said `running`, then the job's. */
  async #liveStopped(states: readonly SeriesState[]): Promise<void> {
    await Promise.all(
      states
        .filter((state) => this.#reported.has(state.plan.id))
        .map((state) => {
          const end = this.#reported.get(state.plan.id) as number;
          return this.#status({
            job: `${this.#job}:${state.plan.kind}`,
            status: 'stopped',
            series: state.plan.key,
            ts: end,
            message: `stopped; stored up to ${iso(end)}`,
          });
        }),
    );
    await this.#status({ job: this.#job, status: 'stopped', message: `${states.length} series stopped` });
  }

  /**
   * `backfill()`, then `live()`: the live run catches each series up from where the backfill's ledger
   * ends, so nothing falls between the last page and the first streamed candle.
   * @example
   * import { BinanceClient, BybitClient, openPostgresStorage, Sync } from 'perpdata';
   *
   * const storage = await openPostgresStorage({ url: process.env.DATABASE_URL, dataDir: './.perpdata/db' });
   * const sync = new Sync({
   *   storage,
   *   clients: [new BinanceClient(), new BybitClient()],
   *   symbols: ['BTC', 'ETH'],
   *   from: Date.now() - 86_400_000,
   *   derive: { rsi: [14] },
   * });
   * const { backfill, live } = await sync.run({ signal: AbortSignal.timeout(3_600_000) }); // an hour live
   * console.log(backfill.rowsWritten, 'rows backfilled; live:', live.health().length, 'series');
   * await live.done;
   * await storage.close();
   */
  async run(options: LiveOptions = {}): Promise<{ backfill: BackfillReport; live: LiveHandle }> {
    const backfill = await this.backfill();
    return { backfill, live: this.live(options) };
  }

  /** Fetches what the ledger says is missing of one series up to now; `undefined` when it failed or stopped. */
  async #catchUp(
    state: SeriesState,
    venue: ListedVenue,
    writer: BatchWriter,
    signal: AbortSignal,
  ): Promise<number | undefined> {
    state.outcome = 'done';
    state.error = undefined;
    let chunks: { list: Chunk[] };
    try {
      chunks = await this.#plan(state, venue.registry, venue.exchange, signal, true);
    } catch (error) {
      if (!signal.aborted) await this.#fail(state, error);
      return undefined;
    }
    for (const chunk of chunks.list) {
      if (signal.aborted || state.outcome !== 'done') break;
      await this.#fetchChunk(chunk, writer, signal);
    }
    return state.outcome === 'done' && !signal.aborted ? 0 : undefined;
  }

  /** Once what `state` handed to the writer is committed: the end of what its ledger covers. */
  async #storedEnd(
    state: SeriesState,
    writer: BatchWriter,
    signal: AbortSignal,
  ): Promise<number | undefined> {
    await writer.settled(state.plan.id);
    if (state.outcome !== 'done' || signal.aborted) return undefined;
    const coverage = await withStorageRetry(
      () => this.#o.storage.coverage(state.plan.kind, state.plan.key),
      STORAGE_RETRY_MS,
      () => {},
      signal,
    ).catch(() => []);
    // Nothing stored yet (a live run from the present): what is stored ends where the series starts.
    const end = coverage.at(-1)?.to ?? (state.from > 0 ? state.from : undefined);
    if (end !== undefined && this.#reported.get(state.plan.id) !== end) {
      this.#reported.set(state.plan.id, end);
      await this.#status({
        job: `${this.#job}:${state.plan.kind}`,
        status: 'running',
        series: state.plan.key,
        ts: end,
        message: `stored up to ${iso(end)}`,
      });
    }
    return end;
  }

  async #backfill(): Promise<BackfillReport> {
    const o = this.#o;
    const started = Date.now();
    const stop = new AbortController();
    const onAbort = () => stop.abort(o.signal?.reason);
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
    const signal = stop.signal;
    // Every page iteration of every series listens to this one signal.
    setMaxListeners(0, signal);
    const states = new Map<string, SeriesState<SeriesIdentity>>();
    const fetched: SeriesState[] = [];
    const writer = this.#writer(states, o.batchDelayMs);
    this.#job = o.job;
    this.#written = 0;
    await this.#status({ job: o.job, status: 'running', message: 'backfill started' });
    try {
      const plans = planSeries(o);
      for (const plan of plans) {
        const state = new SeriesState(plan);
        states.set(plan.id, state);
        fetched.push(state);
      }
      let resumed = false;
      await Promise.all(
        [...this.#byClient(fetched)].map(async ([client, list]) => {
          const r = await this.#runVenue(client, list, writer, signal);
          resumed ||= r;
        }),
      );
      await writer.flush();
      // Derived series once every input is stored.
      if (!signal.aborted) await this.#deriveAfterBackfill(fetched, states, writer, signal);
      const reports = [...states.values()].map((s) => this.#report(s));
      const aborted = signal.aborted;
      const report: BackfillReport = {
        series: reports,
        rowsWritten: this.#written,
        resumed,
        aborted,
        elapsedMs: Date.now() - started,
      };
      await this.#backfillEnded(report, states);
      return report;
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      await writer.close().catch(() => {});
    }
  }

  #written = 0;

  /** The derived series of a backfill, from the fetched series that completed. */
  async #deriveAfterBackfill(
    fetched: readonly SeriesState[],
    states: Map<string, SeriesState<SeriesIdentity>>,
    writer: BatchWriter,
    signal: AbortSignal,
  ): Promise<void> {
    const o = this.#o;
    const input = (s: SeriesState): DerivedInput => ({
      kind: s.plan.kind,
      key: s.plan.key,
      firstFetched: s.firstFetched,
      to: s.to,
    });
    await deriveAll({
      storage: o.storage,
      writer,
      inputs: fetched.filter((s) => s.outcome === 'done').map(input),
      // Series that failed or stopped: a derived series over several inputs (the MT) waits for them.
      incomplete: fetched.filter((s) => s.outcome === 'error' || s.outcome === 'aborted').map(input),
      derive: o.derive,
      now: o.now(),
      signal,
      progress: (state, delta) => this.#advance(state, delta),
      retry: (what, attempt, delayMs, error) => this.#events.emit('retry', { what, attempt, delayMs, error }),
      register: (state) => states.set(state.plan.id, state),
      fail: (state, error, outcome) => this.#fail(state, error, outcome),
      // A derived series' rows go out at once: the next one waits for this one's inputs.
      done: async (state) => {
        await writer.flush(state.plan.key.source);
        await this.#finish(state, writer);
      },
    });
  }

  /**
   * The end of a backfill: it rejects when every series failed; otherwise the series a stop cut short
   * and the job get their last status rows.
   */
  async #backfillEnded(
    report: BackfillReport,
    states: ReadonlyMap<string, SeriesState<SeriesIdentity>>,
  ): Promise<void> {
    const job = this.#o.job;
    const { aborted } = report;
    const complete = report.series.filter((r) => r.outcome === 'done');
    const failed = report.series.filter((r) => r.outcome === 'error');
    if (!aborted && complete.length === 0 && failed.length > 0) {
      const error = new PerpdataError(
        'UNSUPPORTED',
        `backfill fetched nothing: every series failed (first: ${failed[0]?.error?.message ?? 'unknown'})`,
        { cause: failed[0]?.error },
      );
      await this.#status({ job, status: 'error', message: error.shortMessage });
      throw error;
    }
    // Series the stop cut short say so (their `running` row would otherwise stay).
    await Promise.all(
      [...states.values()]
        .filter((s) => s.outcome === 'aborted')
        .map((s) =>
          this.#status({
            job: `${job}:${s.plan.kind}`,
            status: 'stopped',
            series: s.plan.key,
            progress: s.total > 0 ? s.done / s.total : 0,
            message: `stopped at ${Math.round((100 * s.done) / Math.max(1, s.total))} %: ${s.rowsFetched} rows fetched`,
          }),
        ),
    );
    await this.#status({
      job,
      status: aborted ? 'stopped' : failed.length > 0 ? 'error' : 'done',
      message: aborted
        ? `stopped: ${complete.length} series complete, ${failed.length} failed`
        : `${complete.length} series complete, ${failed.length} failed, ${report.rowsWritten} rows written`,
    });
  }

  /** A batch writer whose retries, failures and commits reach the events and `states`' counters. */
  #writer(
    states: ReadonlyMap<string, SeriesState<SeriesIdentity>>,
    maxDelayMs: number,
    idleMs?: number,
  ): BatchWriter {
    const o = this.#o;
    return new BatchWriter({
      storage: o.storage,
      maxRows: o.batchRows,
      maxDelayMs,
      idleMs,
      retryForMs: STORAGE_RETRY_MS,
      onRetry: ({ kind, attempt, delayMs, error }) => {
        this.#events.emit('retry', { what: `write ${kind}`, attempt, delayMs, error });
        o.logger?.warn?.(
          `write of ${kind} failed (attempt ${attempt}), retrying in ${delayMs} ms: ${String(error)}`,
        );
      },
      onFailed: (ids, error) => {
        for (const id of ids.keys()) {
          const state = states.get(id);
          if (state) void this.#fail(state, error);
        }
      },
      onCommitted: (_kind, written, rows) => {
        this.#written += written;
        for (const [id, n] of rows) {
          const state = states.get(id);
          if (state) state.rowsWritten += n;
        }
      },
    });
  }

  /** Series grouped by the client that serves them. */
  #byClient(states: readonly SeriesState[]): Map<VenueClient, SeriesState[]> {
    const byClient = new Map<VenueClient, SeriesState[]>();
    for (const state of states) {
      const list = byClient.get(state.plan.client) ?? [];
      list.push(state);
      byClient.set(state.plan.client, list);
    }
    return byClient;
  }

  #report(s: SeriesState<SeriesIdentity>): SeriesReport {
    return {
      ...s.ref,
      outcome: s.outcome,
      derived: !('client' in s.plan),
      rowsWritten: s.rowsWritten,
      rowsFetched: s.rowsFetched,
      spansFetched: s.spansFetched,
      from: s.from,
      to: s.to,
      gaps: s.gaps,
      ...(s.error ? { error: s.error } : {}),
      elapsedMs: s.startedAt ? (s.finishedAt || Date.now()) - s.startedAt : 0,
    };
  }

  async #status(entry: Parameters<ResolvedOptions['storage']['logStatus']>[0]): Promise<void> {
    try {
      await this.#o.storage.logStatus(entry);
    } catch (error) {
      this.#o.logger?.warn?.(`could not write a status row: ${String(error)}`);
    }
  }

  async #logError(state: SeriesState<SeriesIdentity> | undefined, error: Error): Promise<void> {
    try {
      await this.#o.storage.logError({
        job: state ? `${this.#job}:${state.plan.kind}` : this.#job,
        message: error.message,
        code: error instanceof PerpdataError ? error.code : undefined,
        series: state?.plan.key,
        detail: error instanceof PerpdataError ? error.meta : undefined,
      });
    } catch (e) {
      this.#o.logger?.warn?.(`could not write an error row: ${String(e)}`);
    }
  }

  async #fail(
    state: SeriesState<SeriesIdentity>,
    error: unknown,
    outcome: SeriesOutcome = 'error',
  ): Promise<void> {
    if (state.outcome !== 'done' && state.outcome !== 'aborted') return; // reported once
    const err = error instanceof Error ? error : new Error(String(error));
    state.outcome = outcome;
    state.finishedAt = Date.now();
    state.error = err;
    if (outcome === 'skipped') {
      this.#events.emit('warning', { series: state.ref, code: 'SKIPPED', message: err.message });
    }
    if (outcome === 'error') {
      this.#o.logger?.error?.(`${state.plan.id}: ${err.message}`);
      this.#events.emit('error', { series: state.ref, error: err });
      await this.#logError(state, err);
    }
    await this.#status({
      job: `${this.#job}:${state.plan.kind}`,
      status: outcome === 'error' ? 'error' : 'done',
      series: state.plan.key,
      message: outcome === 'error' ? err.message : `${outcome}: ${err.message}`,
    });
    this.#events.emit('seriesDone', { report: this.#report(state) });
  }

  /**
   * A venue's instrument list (tried again after transient failures) and the series it can serve:
   * the others end `unsupported` or `unlisted` (a warning, not an exception); `undefined` when the list
   * could not be had (every series failed).
   */
  async #listed(
    client: VenueClient,
    states: SeriesState[],
    signal: AbortSignal,
  ): Promise<ListedVenue | undefined> {
    let registry: SymbolRegistry | undefined;
    for (let attempt = 1; !registry; attempt++) {
      try {
        registry = await client.registry({ signal });
      } catch (error) {
        const delay =
          attempt < CHUNK_ATTEMPTS && !signal.aborted
            ? chunkRetryDelay(error, attempt, Date.now())
            : undefined;
        if (signal.aborted) return undefined; // stopped, not failed
        if (delay === undefined) {
          for (const state of states) await this.#fail(state, error);
          return undefined;
        }
        this.#transient(`${client.venue} instruments`, error, attempt, delay);
        await sleep(delay, signal).catch(() => {});
      }
    }
    const { exchange } = venueOf(client);
    const served: SeriesState[] = [];
    for (const state of states) {
      state.startedAt = Date.now();
      const plan = state.plan;
      if (plan.unsupported) {
        const error = new UnsupportedError(plan.unsupported);
        this.#events.emit('warning', { series: state.ref, code: 'UNSUPPORTED', message: plan.unsupported });
        await this.#fail(state, error, 'unsupported');
      } else if (!registry.has(exchange, plan.key.symbol)) {
        const error = new UnknownSymbolError(plan.key.symbol, {
          venue: plan.key.source,
          endpoint: 'instruments',
        });
        const message = `${plan.key.source} does not list ${plan.key.symbol}${plan.key.source === exchange ? '' : ` on ${exchange}`}`;
        this.#events.emit('warning', { series: state.ref, code: 'UNLISTED', message });
        await this.#fail(state, error, 'unlisted');
      } else served.push(state);
    }
    return { registry, exchange, states: served };
  }

  /** Plans the ranges of one venue's series, then works through their chunks interleaved. */
  async #runVenue(
    client: VenueClient,
    states: SeriesState[],
    writer: BatchWriter,
    signal: AbortSignal,
  ): Promise<boolean> {
    const listed = await this.#listed(client, states, signal);
    if (!listed) {
      // Stopped before the instrument list came: nothing of these series was fetched.
      for (const state of states) if (state.outcome === 'done') state.outcome = 'aborted';
      return false;
    }
    const { queue, resumed } = await this.#chunkQueue(listed, writer, signal);
    const finishing = await this.#work(queue, writer, signal);
    // Nothing more of this venue is coming: its last rows go now, not at the batch time bound.
    await writer.flush(states[0]?.plan.key.source);
    await Promise.all(finishing);
    if (signal.aborted) {
      // Their status rows say `stopped` once the backfill ends.
      for (const state of states)
        if (state.outcome === 'done' && state.chunksLeft > 0) state.outcome = 'aborted';
    }
    return resumed;
  }

  /** Per listed series, the chunks the ledger says are missing (a series with none is done at once). */
  async #chunkQueue(
    listed: ListedVenue,
    writer: BatchWriter,
    signal: AbortSignal,
  ): Promise<{ queue: Chunk[][]; resumed: boolean }> {
    const { registry, exchange } = listed;
    const queue: Chunk[][] = [];
    let resumed = false;
    for (const state of listed.states) {
      const plan = state.plan;
      const chunks = await this.#plan(state, registry, exchange, signal).catch(async (error) => {
        await this.#fail(state, error);
        return undefined;
      });
      if (!chunks) continue;
      if (chunks.resumed) resumed = true;
      state.chunksLeft = chunks.list.length;
      if (chunks.list.length === 0) {
        await this.#finish(state, writer);
        continue;
      }
      queue.push(chunks.list);
      await this.#status({
        job: `${this.#job}:${plan.kind}`,
        status: 'running',
        series: plan.key,
        progress: state.total > 0 ? state.done / state.total : 0,
        message: `fetching ${iso(state.from)} .. ${iso(state.to)}`,
      });
    }
    return { queue, resumed };
  }

  /**
   * `seriesConcurrency` workers over one venue's chunk queues, round-robin over series: chunk 1 of every
   * series, then chunk 2, ... so that a short series finishes early and a long one does not hold the
   * others back. A series is fetched by one worker at a time: the client already keeps `concurrency`
   * pages of it in flight per egress, and more would only hold more pages in memory. Resolves, once the
   * queues are done, to the series' `#finish` still waiting for their rows to commit.
   */
  async #work(queue: Chunk[][], writer: BatchWriter, signal: AbortSignal): Promise<Promise<void>[]> {
    let cursor = 0;
    const busy = new Set<SeriesState>();
    // A finished series waits for its rows to commit beside the workers, not in their way.
    const finishing: Promise<void>[] = [];
    const take = (): Chunk | undefined => {
      for (let i = 0; i < queue.length; i++) {
        const q = queue[(cursor + i) % queue.length] as Chunk[];
        const head = q[0];
        if (!head || busy.has(head.state)) continue;
        cursor = (cursor + i + 1) % queue.length;
        return q.shift();
      }
      return undefined;
    };
    const worker = async () => {
      for (let chunk = take(); chunk && !signal.aborted; chunk = take()) {
        if (chunk.state.outcome !== 'done') {
          chunk.state.chunksLeft--;
          continue;
        }
        busy.add(chunk.state);
        try {
          await this.#fetchChunk(chunk, writer, signal);
        } finally {
          busy.delete(chunk.state);
        }
        chunk.state.chunksLeft--;
        if (chunk.state.chunksLeft === 0 && chunk.state.outcome === 'done')
          finishing.push(this.#finish(chunk.state, writer));
      }
    };
    const workers = Math.min(this.#o.seriesConcurrency, Math.max(1, queue.length));
    await Promise.all(Array.from({ length: workers }, worker));
    return finishing;
  }

  /** The range a series should cover and the chunks of it the ledger says are missing. */
  async #plan(
    state: SeriesState,
    registry: SymbolRegistry,
    exchange: SeriesKey['exchange'],
    signal: AbortSignal,
    live = false,
  ): Promise<{ list: Chunk[]; resumed: boolean }> {
    const o = this.#o;
    const { plan } = state;
    const now = o.now();
    const listedAt = registry.toInstrument(exchange, plan.key.symbol).listedAt;
    const earliest = plan.capability.earliest(now, plan.interval);
    let from = Math.max(o.from, listedAt ?? o.from);
    if (earliest > from && !(live && state.from > 0)) {
      const message = `${plan.id}: ${plan.key.source} keeps ${plan.kind} only from ${iso(earliest)}; the range starts there`;
      this.#events.emit('warning', { series: state.ref, code: 'RANGE_CLAMPED', message });
      o.logger?.warn?.(message);
    }
    if (earliest > from) from = earliest;
    // Live keeps a series current: `to` bounds the backfill only.
    const end = live ? now : Math.min(o.to ?? now, now);
    let to: number;
    if (plan.interval) {
      from = ceilToInterval(from, plan.interval);
      to = floorToInterval(end, plan.interval); // the forming period is never fetched
    } else {
      to = Math.floor(end / MINUTE) * MINUTE;
    }
    state.from = from;
    state.to = Math.max(from, to);
    if (to <= from) return { list: [], resumed: false };
    signal.throwIfAborted();
    const coverage = await withStorageRetry(
      () => o.storage.coverage(plan.kind, plan.key),
      STORAGE_RETRY_MS,
      (attempt, delayMs, error) =>
        this.#events.emit('retry', { what: `coverage of ${plan.id}`, attempt, delayMs, error }),
      signal,
    );
    const missing = missingSpans(coverage, from, to);
    const spans =
      plan.step === undefined ? missing : chunkSpans(missing, plan.step * CHUNK_PERIODS, plan.step);
    state.total = to - from;
    state.done = state.total - missing.reduce((n, s) => n + (s.to - s.from), 0);
    return { list: spans.map((span) => ({ state, span })), resumed: coverage.length > 0 };
  }

  /** Fetches one chunk page by page, handing rows and their ledger marks to the writer. */
  async #fetchChunk(chunk: Chunk, writer: BatchWriter, signal: AbortSignal): Promise<void> {
    const { state } = chunk;
    const { plan } = state;
    const now = this.#o.now();
    const settle = plan.step === undefined ? HOUR : Math.max(2 * plan.step, 10 * MINUTE);
    const marker = new ChunkMarker({
      key: plan.key,
      span: chunk.span,
      step: plan.step,
      seriesStart: chunk.span.from === state.from,
      settledBefore: now - settle,
    });
    state.spansFetched++;
    for (let attempt = 1; ; attempt++) {
      try {
        // After a transient failure the chunk goes on from where its marks end.
        await this.#fetchPages(state, { from: marker.cursor, to: chunk.span.to }, marker, writer, signal);
        return;
      } catch (error) {
        if (signal.aborted) return;
        const delay = attempt < CHUNK_ATTEMPTS ? chunkRetryDelay(error, attempt, Date.now()) : undefined;
        if (delay === undefined) {
          await this.#fail(state, error);
          return;
        }
        this.#transient(state.plan.id, error, attempt, delay);
        await sleep(delay, signal).catch(() => {});
        if (signal.aborted) return;
      }
    }
  }

  /** Reports a transient failure that will be tried again (and a ban as `banned`). */
  #transient(what: string, error: unknown, attempt: number, delayMs: number): void {
    this.#events.emit('retry', { what, attempt, delayMs, error });
    if (error instanceof PerpdataError && error.code === 'BANNED') {
      this.#events.emit('banned', { venue: (error as RateLimitError).venue, message: error.shortMessage });
      void this.#logError(undefined, error);
    }
    this.#o.logger?.warn?.(
      `${what}: ${String((error as Error)?.message ?? error).split('\n')[0]}; retrying in ${delayMs} ms`,
    );
  }

  /** A live stream's reconnect, stall or error: an event and a `perp_errors` row (the stream goes on). */
  #streamEvent(e: StreamReport): void {
    const venue = e.stream.split(' ')[0] as string;
    let error: Error;
    if (e.type === 'reconnected') {
      this.#events.emit('reconnected', {
        venue,
        stream: e.stream,
        attempt: e.attempt,
        downtimeMs: e.downtimeMs,
      });
      error = new PerpdataError(
        'WEBSOCKET',
        `${e.stream}: reconnected after ${Math.round(e.downtimeMs)} ms down (attempt ${e.attempt}); missed periods are caught up over REST`,
        { meta: { Venue: venue } },
      );
    } else if (e.type === 'stalled') {
      this.#events.emit('stalled', { venue, stream: e.stream, symbol: e.symbol, silentMs: e.silentMs });
      error = new PerpdataError(
        'WEBSOCKET',
        `${e.stream}${e.symbol ? ` ${e.symbol}` : ''}: no closed period for ${Math.round(e.silentMs)} ms (stalled)`,
        { meta: { Venue: venue } },
      );
    } else {
      error = e.error;
      this.#events.emit('error', { ...(e.series ? { series: e.series.ref } : {}), error });
    }
    this.#o.logger?.warn?.(error instanceof PerpdataError ? error.shortMessage : error.message);
    void this.#logError(e.type === 'error' ? e.series : undefined, error);
  }

  async #fetchPages(
    state: SeriesState,
    span: Span,
    marker: ChunkMarker,
    writer: BatchWriter,
    signal: AbortSignal,
  ): Promise<void> {
    const { plan } = state;
    if (span.from < span.to) {
      const pages = plan.client.history(plan.kind, {
        symbol: plan.key.symbol,
        from: span.from,
        to: span.to,
        ...(plan.interval ? { interval: plan.interval } : {}),
        ...(plan.ratioKind ? { ratioKind: plan.ratioKind } : {}),
        signal,
      });
      for await (const page of pages as AsyncIterable<AnyRecord[]>) {
        if (state.outcome !== 'done') return;
        // Pages keep to the range they were asked for; only a page that strays is copied.
        const inSpan = (r: AnyRecord) => r.ts >= span.from && r.ts < span.to;
        const rows = page.every(inSpan) ? page : page.filter(inSpan);
        const before = marker.cursor;
        const marks = marker.page(rows.map((r) => r.ts));
        await writer.add(plan.kind, plan.id, rows as RecordOf<typeof plan.kind>[], marks, plan.key.source);
        this.#noteGaps(state, marker);
        state.rowsFetched += rows.length;
        if (rows.length > 0) state.firstFetched = Math.min(state.firstFetched, (rows[0] as AnyRecord).ts);
        this.#advance(state, marker.cursor - before);
      }
    }
    const before = marker.cursor;
    await writer.add(plan.kind, plan.id, [], marker.finish(), plan.key.source);
    this.#noteGaps(state, marker);
    this.#advance(state, Math.max(0, marker.cursor - before));
  }

  #noteGaps(state: SeriesState<SeriesIdentity>, marker: ChunkMarker): void {
    while (marker.gaps.length > 0) {
      const gap = marker.gaps.shift() as { from: number; to: number; reason: string };
      state.gaps.push(gap);
      this.#events.emit('gap', { series: state.ref, ...gap });
    }
  }

  #advance(state: SeriesState<SeriesIdentity>, delta: number): void {
    state.done = Math.min(state.total, state.done + delta);
    this.#events.emit('progress', {
      series: state.ref,
      done: state.done,
      total: state.total,
      rows: state.rowsFetched,
    });
    const t = Date.now();
    // Live series rows carry the stored end (`#storedEnd`), not a catch-up's progress.
    if (!this.#live && t - state.lastStatus >= STATUS_EVERY_MS) {
      state.lastStatus = t;
      void this.#status({
        job: `${this.#job}:${state.plan.kind}`,
        status: 'running',
        series: state.plan.key,
        progress: state.total > 0 ? state.done / state.total : 1,
        ts: undefined,
      });
    }
  }

  /** A series' chunks are all fetched: once its rows are committed (at the writer's own pace), it is done. */
  async #finish(state: SeriesState<SeriesIdentity>, writer: BatchWriter): Promise<void> {
    await writer.settled(state.plan.id);
    if (state.outcome !== 'done') return;
    state.finishedAt = Date.now();
    await this.#status({
      job: `${this.#job}:${state.plan.kind}`,
      status: 'done',
      series: state.plan.key,
      progress: 1,
      message: `${state.rowsFetched} rows fetched, ${state.gaps.length} empty intervals recorded`,
    });
    this.#events.emit('seriesDone', { report: this.#report(state) });
  }
}
