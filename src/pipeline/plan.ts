/**
 * Validates `SyncOptions` eagerly and turns them into the list of series a run keeps: one per
 * (client, kind, interval, ratio population, symbol) that the client's capability table serves.
 */

import type { VenueClient } from '../clients/base.js';
import { HISTORY_KINDS, type HistoryKind, type KindCapability } from '../clients/capabilities.js';
import { systemClock, type WsClock } from '../clients/ws/clock.js';
import { InvalidArgumentError } from '../core/errors.js';
import { INTERVALS, type Interval, intervalMs } from '../core/intervals.js';
import { toEpochMs } from '../core/time.js';
import type { Exchange, LongShortKind, SeriesKey, Source } from '../core/types.js';
import { isExchangeVenue } from '../core/venues.js';
import type { DeriveOptions, SyncOptions } from './types.js';

/** Options after validation, with defaults applied. */
export interface ResolvedOptions {
  readonly storage: SyncOptions['storage'];
  readonly clients: readonly VenueClient[];
  readonly symbols: readonly string[];
  readonly kinds: readonly HistoryKind[] | undefined;
  readonly intervals: Partial<Record<HistoryKind, readonly Interval[]>>;
  readonly from: number;
  readonly to: number | undefined;
  readonly derive: Required<DeriveOptions>;
  readonly signal: AbortSignal | undefined;
  readonly logger: SyncOptions['logger'];
  readonly now: () => number;
  readonly clock: WsClock;
  readonly job: string;
  readonly seriesConcurrency: number;
  readonly batchRows: number;
  readonly batchDelayMs: number;
}

const OPTION_KEYS = new Set([
  'storage',
  'clients',
  'symbols',
  'kinds',
  'intervals',
  'from',
  'to',
  'derive',
  'signal',
  'logger',
  'now',
  'clock',
  'job',
  'seriesConcurrency',
  'batchRows',
  'batchDelayMs',
]);
const DERIVE_KEYS = new Set(['rsi', 'marketAverage', 'expandTo1m', 'takerTo1m', 'expandAlign']);

function fail(message: string): never {
  throw new InvalidArgumentError(`new Sync(): ${message}`);
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    fail(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/** Where a client's records come from and which venue's instruments they describe. */
export function venueOf(client: VenueClient): { source: Source; exchange: Exchange } {
  const source = client.venue;
  // An exchange lists its own instruments; an aggregator (Coinalyze) serves one underlying `exchange`.
  const exchange = isExchangeVenue(source) ? source : (client as unknown as { exchange: Exchange }).exchange;
  return { source, exchange };
}

/** Checks every option and applies defaults; throws `InvalidArgumentError` naming the option. */
// Long by design: one check per option, in the order of `SyncOptions`, each with its own message.
export function resolveOptions(options: SyncOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  for (const key of Object.keys(options))
    if (!OPTION_KEYS.has(key)) fail(`unknown option ${JSON.stringify(key)}`);
  const { storage, clients, symbols } = options;
  if (!storage || typeof storage.write !== 'function' || typeof storage.coverage !== 'function')
    fail('storage must be a StorageAdapter (with write() and coverage())');
  if (!Array.isArray(clients) || clients.length === 0)
    fail('clients must be a non-empty array of venue clients');
  const seen = new Set<string>();
  for (const [i, client] of clients.entries()) {
    if (!client || typeof client.history !== 'function' || !client.capabilities)
      fail(`clients[${i}] is not a venue client (a client of perpdata/clients, e.g. BinanceClient)`);
    const { source, exchange } = venueOf(client);
    const id = `${source}:${exchange}`;
    if (seen.has(id)) fail(`clients[${i}] serves ${id} like an earlier client; pass one client per venue`);
    seen.add(id);
  }
  if (!Array.isArray(symbols) || symbols.length === 0)
    fail('symbols must be a non-empty array of canonical symbols');
  const upper = new Set<string>();
  for (const s of symbols) {
    if (typeof s !== 'string' || !/^[A-Za-z0-9]{1,30}$/.test(s))
      fail(`symbols: ${JSON.stringify(s)} is not a canonical symbol like 'BTC'`);
    if (s.toUpperCase() === 'MT') fail("symbols: 'MT' is the derived market token; it cannot be fetched");
    if (upper.has(s.toUpperCase())) fail(`symbols: ${s} is listed twice`);
    upper.add(s.toUpperCase());
  }
  let kinds: HistoryKind[] | undefined;
  if (options.kinds !== undefined) {
    if (!Array.isArray(options.kinds) || options.kinds.length === 0) fail('kinds must be a non-empty array');
    for (const k of options.kinds)
      if (!HISTORY_KINDS.includes(k))
        fail(`kinds: unknown kind ${JSON.stringify(k)} (one of ${HISTORY_KINDS.join(', ')})`);
    kinds = [...new Set(options.kinds)];
  }
  const intervals: Partial<Record<HistoryKind, readonly Interval[]>> = {};
  for (const [kind, list] of Object.entries(options.intervals ?? {})) {
    if (!HISTORY_KINDS.includes(kind as HistoryKind)) fail(`intervals: unknown kind ${JSON.stringify(kind)}`);
    if (!Array.isArray(list) || list.length === 0)
      fail(`intervals.${kind} must be a non-empty array of intervals`);
    for (const i of list) {
      if (!INTERVALS.includes(i)) fail(`intervals.${kind}: unknown interval ${JSON.stringify(i)}`);
      if (i === '1M')
        fail(`intervals.${kind}: '1M' has no fixed length; Sync keeps fixed-length periods only`);
    }
    intervals[kind as HistoryKind] = [...new Set(list as Interval[])];
  }
  if (options.from === undefined) fail('from is required (Date, epoch ms or ISO date)');
  const from = toEpochMs(options.from, 'from');
  const to = options.to === undefined ? undefined : toEpochMs(options.to, 'to');
  if (to !== undefined && to < from) fail('to must not be before from');
  const d = options.derive ?? {};
  for (const key of Object.keys(d))
    if (!DERIVE_KEYS.has(key)) fail(`derive: unknown option ${JSON.stringify(key)}`);
  const rsi = d.rsi ?? [];
  if (!Array.isArray(rsi)) fail('derive.rsi must be an array of periods, e.g. [14]');
  for (const p of rsi)
    if (!Number.isInteger(p) || p < 2 || p > 1000) fail(`derive.rsi: ${String(p)} is not a period (2..1000)`);
  const expand = d.expandTo1m ?? [];
  if (!Array.isArray(expand))
    fail("derive.expandTo1m must be an array of kinds ('openInterest', 'longShortRatio')");
  for (const k of expand)
    if (k !== 'openInterest' && k !== 'longShortRatio')
      fail(`derive.expandTo1m: ${JSON.stringify(k)} cannot be expanded`);
  const align = d.expandAlign ?? 'close';
  if (align !== 'close' && align !== 'start') fail(`derive.expandAlign must be 'close' or 'start'`);
  for (const [name, value] of [
    ['marketAverage', d.marketAverage],
    ['takerTo1m', d.takerTo1m],
  ] as const) {
    if (value !== undefined && typeof value !== 'boolean') fail(`derive.${name} must be a boolean`);
  }
  if (options.now !== undefined && typeof options.now !== 'function')
    fail('now must be a function returning epoch ms');
  const clock = options.clock;
  if (
    clock !== undefined &&
    (typeof clock !== 'object' ||
      clock === null ||
      typeof clock.now !== 'function' ||
      typeof clock.setTimeout !== 'function' ||
      typeof clock.clearTimeout !== 'function')
  )
    fail('clock must be a WsClock: { now(), setTimeout(fn, ms), clearTimeout(handle) }');
  const job = options.job ?? 'backfill';
  if (typeof job !== 'string' || job.length === 0 || job.includes(':'))
    fail('job must be a non-empty name without ":"');
  return {
    storage,
    clients,
    symbols: symbols.map((s) => s.toUpperCase()),
    kinds,
    intervals,
    from,
    to,
    derive: {
      rsi: [...new Set(rsi)],
      marketAverage: d.marketAverage ?? false,
      expandTo1m: [...new Set(expand)],
      expandAlign: align,
      takerTo1m: d.takerTo1m ?? false,
    },
    signal: options.signal,
    logger: options.logger,
    now: options.now ?? (clock ? () => clock.now() : Date.now),
    clock: clock ?? systemClock,
    job,
    seriesConcurrency: positiveInteger('seriesConcurrency', options.seriesConcurrency, 4),
    batchRows: positiveInteger('batchRows', options.batchRows, 5_000),
    batchDelayMs: positiveInteger('batchDelayMs', options.batchDelayMs, 1_000),
  };
}

/** One fetched series of a run. */
export interface PlannedSeries {
  readonly id: string;
  readonly client: VenueClient;
  readonly kind: HistoryKind;
  readonly key: SeriesKey;
  readonly capability: KindCapability;
  readonly interval: Interval | undefined;
  readonly ratioKind: LongShortKind | undefined;
  /** Grid period in ms; `undefined` for event series (funding). */
  readonly step: number | undefined;
  /** Set when the venue cannot serve it: the interval asked for is not among the capability's. */
  readonly unsupported?: string;
}

/** A stable id of a series for events, reports and logs. */
export function seriesId(kind: string, key: SeriesKey): string {
  const parts = [
    key.source === key.exchange ? key.source : `${key.source}/${key.exchange}`,
    kind,
    key.symbol,
  ];
  if (key.interval) parts.push(key.interval);
  if (key.kind) parts.push(key.kind);
  return parts.join(':');
}

/** The series `options` ask for, per the clients' capability tables (before symbols are checked). */
export function planSeries(o: ResolvedOptions): PlannedSeries[] {
  const out: PlannedSeries[] = [];
  for (const client of o.clients) {
    const { source, exchange } = venueOf(client);
    const kinds = o.kinds ?? HISTORY_KINDS;
    for (const kind of kinds) {
      const capability = client.capabilities.kinds[kind];
      if (capability?.rest !== 'history') continue;
      const wanted: (Interval | undefined)[] =
        capability.intervals.length === 0
          ? [undefined]
          : [...(o.intervals[kind] ?? [capability.defaultInterval ?? (capability.intervals[0] as Interval)])];
      const ratioKinds: (LongShortKind | undefined)[] =
        kind === 'longShortRatio' ? [...(capability.ratioKinds ?? ['global'])] : [undefined];
      for (const interval of wanted) {
        const unsupported =
          interval !== undefined && !capability.intervals.includes(interval)
            ? `${source} does not serve ${kind} at ${interval} (it serves ${capability.intervals.join(', ')})`
            : undefined;
        for (const ratioKind of ratioKinds) {
          for (const symbol of o.symbols) {
            const key: SeriesKey = {
              source,
              exchange,
              symbol,
              ...(interval ? { interval } : {}),
              ...(ratioKind ? { kind: ratioKind } : {}),
            };
            out.push({
              id: seriesId(kind, key),
              client,
              kind,
              key,
              capability,
              interval,
              ratioKind,
              step: interval === undefined ? undefined : intervalMs(interval),
              ...(unsupported ? { unsupported } : {}),
            });
          }
        }
      }
    }
  }
  return out;
}

/**
 * Series that only a stream serves (liquidations on Binance, Bybit and OKX: no REST history), kept by
 * `live()` alone: a client that streams the kind, when `kinds` asks for it (or is left to its default).
 */
export function planStreamOnlySeries(o: ResolvedOptions): PlannedSeries[] {
  const out: PlannedSeries[] = [];
  if (o.kinds !== undefined && !o.kinds.includes('liquidations')) return out;
  for (const client of o.clients) {
    const capability = client.capabilities.kinds.liquidations;
    if (capability?.rest !== 'none' || !capability.live || !('watchLiquidations' in client)) continue;
    const { source, exchange } = venueOf(client);
    const interval = o.intervals.liquidations?.[0] ?? capability.defaultInterval ?? '1m';
    const unsupported = capability.intervals.includes(interval)
      ? undefined
      : `${source} does not stream liquidations at ${interval}`;
    for (const symbol of o.symbols) {
      const key: SeriesKey = { source, exchange, symbol, interval };
      out.push({
        id: seriesId('liquidations', key),
        client,
        kind: 'liquidations',
        key,
        capability,
        interval,
        ratioKind: undefined,
        step: intervalMs(interval),
        ...(unsupported ? { unsupported } : {}),
      });
    }
  }
  return out;
}
