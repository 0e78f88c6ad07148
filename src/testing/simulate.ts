/**
 * `simulateVenues()`: every venue of the registry simulated at once on 127.0.0.1 over one synthetic
 * market and one clock, behind a fault layer (5xx, resets, bans, drifted payloads) and request
 * counters, with the options to hand each venue client so that it talks to them. What is particular
 * to a venue comes from its `VenueSimulation` descriptor (`src/testing/venue.ts`), listed in
 * `SIMULATIONS` (generated from the registry: `./simulations.generated.ts`).
 */
import { scaledClock, systemClock, type WsClock } from '../clients/ws/clock.js';
import { InvalidArgumentError } from '../core/errors.js';
import { type TimeInput, toEpochMs } from '../core/time.js';
import { type Exchange, SOURCES } from '../core/types.js';
import { type LiveVenueId, VENUES, type VenueId, type VenueOfRole } from '../core/venues.js';
import { splitMultiplier } from '../normalize/symbols.js';
import {
  connectionReset,
  isConnectionReset,
  json,
  type LocalServer,
  startLocalServer,
  type VenueHandler,
} from './http.js';
import { type SyntheticAsset, type SyntheticHole, SyntheticMarket } from './market.js';
import { SIMULATIONS as DESCRIPTORS } from './simulations.generated.js';
import type { SimulatedWsServer, VenueSimulation } from './venue.js';

/** The venues `simulateVenues` serves over HTTP: every venue of the registry (`SOURCES`). */
export const SIMULATED_VENUES: readonly SimulatedVenue[] = SOURCES;
/** One of `SIMULATED_VENUES`. */
export type SimulatedVenue = VenueId;
/** The venues with a WebSocket server too (the registry's `live` venues: all but Coinalyze). */
export type SimulatedExchange = LiveVenueId;

/**
 * The simulation's one per-venue table: each venue's descriptor, exported by its own
 * `src/testing/<venue>.ts` and listed in `./simulations.generated.ts`, which `scripts/venues.ts` writes
 * from the registry (`src/core/venues.ts`). Checked here against the registry: a venue missing from
 * the table (the generated file not rewritten), a descriptor for another venue, or a live venue
 * without a stream server is a compile error.
 */
const SIMULATIONS = DESCRIPTORS satisfies {
  readonly [V in SimulatedVenue]: VenueSimulation & { readonly venue: V } & (V extends LiveVenueId
      ? { readonly server: (...args: never[]) => SimulatedWsServer }
      : { readonly server?: undefined });
};

/** A venue's descriptor, as the shared code reads it. */
const simulationOf = (venue: SimulatedVenue): VenueSimulation => SIMULATIONS[venue];

/** A 5xx body in the venue's own error shape. */
const serverError = (venue: SimulatedVenue, status: number): Response =>
  simulationOf(venue).serverError(status);

/** The venues whose descriptor answers bans (`faults.ban`): Binance (418) and Bybit (403). */
type BanningVenue = {
  [V in SimulatedVenue]: (typeof SIMULATIONS)[V] extends { readonly banned: (...args: never[]) => Response }
    ? V
    : never;
}[SimulatedVenue];

/** The options a venue's simulator takes. */
type SimOptionsOf<V extends SimulatedVenue> = Parameters<(typeof SIMULATIONS)[V]['create']>[1];

/** The clock of a simulation: `now()` for simulators and clients, timers for the WebSocket servers and `watch*` (`clock` param). */
export interface SimulationClock extends WsClock {
  /** Simulated milliseconds per real millisecond (1: real time). */
  readonly speed: number;
}

/** Per-venue simulator options passed through (rate budgets, retention, ban lengths; budgets run on the real clock); `now`, `budgetNow` (and Coinalyze's `apiKeys`) are set by `simulateVenues`, and `intercept` is the fault layer's. */
export type SimulationBudgets = {
  readonly [V in SimulatedVenue]?: SimOptionsOf<V>;
};

/** Options of `simulateVenues`. */
export interface SimulateVenuesOptions {
  /**
   * Listed assets. `BTC`, `ETH`, `PEPE`, `SHIB` are listed as the static instrument tables say (1000
   * bundles included); any other canonical base asset (capitals and digits, e.g. `SOL`, `DOGE`) as
   * `<SYM>USDT` on Binance and Bybit and `<SYM>-USDT-SWAP` with `ctVal` 1 on OKX. @default DEFAULT_ASSETS
   */
  readonly assets?: readonly SyntheticAsset[];
  /** Venue-side outages: no rows of `symbol` in `[from, to)` on any venue. @default [] */
  readonly holes?: readonly SyntheticHole[];
  /** A clock function shared by the simulators and the clients (e.g. `() => T` for a frozen time). Not with `clock`. */
  readonly now?: () => number;
  /** A clock that starts at `start` and runs `speed` times faster than real time. Not with `now`. @default real time */
  readonly clock?: { readonly start?: TimeInput; readonly speed?: number };
  /** Each simulator's own options (budgets, windows, retention). */
  readonly budgets?: SimulationBudgets;
  /**
   * Lifts every simulator's rate limits (for tests that count requests or compare values, not
   * budgets); a venue's `budgets` entry still applies on top, key by key. @default false
   */
  readonly unlimited?: boolean;
  /** The Coinalyze API key the simulator accepts (and `clientOptions('coinalyze')` hands out). @default 'test-key' */
  readonly apiKey?: string;
  /** Faults from the start: a rate of 5xx answers on every venue (see `faults.errorRate` for more). */
  readonly faults?: { readonly errorRate?: number; readonly status?: number; readonly seed?: number };
  /** Whether to start the WebSocket servers of the live venues. @default true */
  readonly ws?: boolean;
}

/** Which requests a fault applies to; every field narrows it, none given: every request. */
export interface FaultTarget {
  /** One venue or several. @default every venue */
  readonly venue?: SimulatedVenue | readonly SimulatedVenue[];
  /** The URL's pathname, exactly (`'/fapi/v1/klines'`) or by pattern. @default every path */
  readonly path?: string | RegExp;
  /** The client id (the remote address on a local server, `'direct'` through MSW). @default every client */
  readonly clientId?: string;
}

/** One installed fault: how often it fired, and how to remove it. */
export interface FaultHandle {
  /** Requests this fault answered (or, for `drift`, rewrote). */
  readonly hits: number;
  /** Uninstalls the fault. */
  remove(): void;
}

/** The fault switches of a simulation. Each call installs one fault and returns its handle. */
export interface SimulationFaults {
  /**
   * Answers a fraction `rate` of matching requests with `status` (default 503). Deterministic for a
   * `seed`: the k-th request to one URL fails or not by a hash of (seed, URL, k), whatever the order
   * of concurrent requests, so a retry of a failed page may succeed.
   */
  errorRate(
    rate: number,
    options?: FaultTarget & { readonly status?: number; readonly seed?: number },
  ): FaultHandle;
  /** Answers the next `n` matching requests with `status` (default 503). */
  failNext(n: number, options?: FaultTarget & { readonly status?: number }): FaultHandle;
  /** Destroys the socket of the next `n` matching requests instead of answering (a connection reset; a network error through MSW). */
  resetNext(n: number, options?: FaultTarget): FaultHandle;
  /** Destroys the socket of a seeded fraction `rate` of matching requests (as `errorRate` picks them). */
  resetRate(rate: number, options?: FaultTarget & { readonly seed?: number }): FaultHandle;
  /**
   * Bans one client for `ms` of real time (default 120000): Binance answers 418 with "banned
   * until", Bybit 403 "access too frequent", as the venues do. `clientId` defaults to `'127.0.0.1'`.
   */
  ban(venue: BanningVenue, options?: { readonly clientId?: string; readonly ms?: number }): FaultHandle;
  /**
   * Rewrites the JSON body of successful answers to `path` of `venue` with `mutate(body)`: a drifted
   * payload (a missing or renamed field) that the client must refuse with `ValidationError`.
   * @example
   * import { simulateVenues } from 'perpdata/testing';
   *
   * const sim = await simulateVenues();
   * sim.faults.drift('binance', '/fapi/v1/fundingRate', (rows) =>
   *   (rows as Record<string, unknown>[]).map(({ fundingRate: _, ...row }) => row),
   * ); // BinanceClient.funding() now rejects with ValidationError
   */
  drift(venue: SimulatedVenue, path: string, mutate: (body: unknown) => unknown): FaultHandle;
  /** Removes every fault. */
  clear(): void;
}

/** Requests one venue's simulator saw (faults included). */
export interface VenueCounters {
  requests: number;
  /** Requests per URL pathname. */
  readonly byPath: Map<string, number>;
  /** Answers per HTTP status (resets not included). */
  readonly byStatus: Map<number, number>;
  /** Connections reset by a fault. */
  resets: number;
}

/** Request counters of a simulation, per venue and per path. */
export interface SimulationStats extends Readonly<Record<SimulatedVenue, VenueCounters>> {
  /** Requests to `venue` (every venue when omitted), to `path` only when given. */
  requests(venue?: SimulatedVenue, path?: string): number;
  /** Zeroes every counter (e.g. before a second backfill, to count its tail requests). */
  reset(): void;
}

/** Where a venue's simulators listen. */
export interface SimulatedEndpoints {
  /** REST base URL, `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** WebSocket base URL, `ws://127.0.0.1:<port>` (empty when started with `ws: false`). */
  readonly wsUrl: string;
}

/** What to pass to an exchange's client (`new BinanceClient(…)`, `new BybitClient(…)`, `new OkxClient(…)`). */
export interface SimulatedClientOptions {
  readonly baseUrl: string;
  readonly wsUrl: string;
  /** The simulation's clock, which decides which periods are closed. */
  readonly now: () => number;
}

/** What to pass to an aggregator's client (`new CoinalyzeClient(…)`). */
export interface SimulatedCoinalyzeOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  /** The simulation's clock, which decides which periods are closed. */
  readonly now: () => number;
  readonly exchange: Exchange;
}

/** A running simulation (see `simulateVenues`). */
export interface Simulation {
  /** The market every venue serves, to compare what a client returns with what it should. */
  readonly market: SyntheticMarket;
  /** The shared clock. */
  readonly clock: SimulationClock;
  /** Where each venue listens (`wsUrl` on the live venues only). */
  readonly urls: {
    readonly [V in SimulatedVenue]: V extends SimulatedExchange
      ? SimulatedEndpoints
      : { readonly baseUrl: string };
  };
  readonly stats: SimulationStats;
  readonly faults: SimulationFaults;
  /** The venue handlers with the fault layer and counters, e.g. for `mswHandlers(baseUrl, sim.handlers.okx)`. */
  readonly handlers: Readonly<Record<SimulatedVenue, VenueHandler>>;
  /** The simulators themselves (their own statistics and budgets). */
  readonly simulators: { readonly [V in SimulatedVenue]: ReturnType<(typeof SIMULATIONS)[V]['create']> };
  /** The WebSocket servers, with their own fault switches (`server.dropAll()`, `server.refuseNext(n)`, …); absent with `ws: false`. */
  readonly ws: { readonly [V in SimulatedExchange]?: ReturnType<(typeof SIMULATIONS)[V]['server']> };
  /** Client options for an exchange: base URLs and the shared `now`. */
  clientOptions(venue: VenueOfRole<'exchange'>): SimulatedClientOptions;
  /** Client options for an aggregator (Coinalyze) over one underlying exchange (default `'binance'`), with the accepted key. */
  clientOptions(venue: VenueOfRole<'aggregator'>, exchange?: Exchange): SimulatedCoinalyzeOptions;
  /** Stops every server and drops every connection. */
  close(): Promise<void>;
}

/** A 32-bit hash of a seed and a string, in [0, 1). */
function draw(seed: number, text: string): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  h = Math.imul(h ^ (h >>> 15), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

interface Rule {
  readonly target: FaultTarget;
  readonly handle: { hits: number };
  /** The answer for a matching request, or `undefined` to let it through. */
  decide?(venue: SimulatedVenue, url: URL, clientId: string, attempt: number): Response | undefined;
  /** A body rewrite of successful answers. */
  mutate?: (body: unknown) => unknown;
}

const matches = (target: FaultTarget, venue: SimulatedVenue, url: URL, clientId: string): boolean => {
  const venues =
    target.venue === undefined ? undefined : typeof target.venue === 'string' ? [target.venue] : target.venue;
  if (venues && !venues.includes(venue)) return false;
  if (target.clientId !== undefined && target.clientId !== clientId) return false;
  if (target.path === undefined) return true;
  return typeof target.path === 'string' ? url.pathname === target.path : target.path.test(url.pathname);
};

const checkRate = (rate: number): void => {
  if (!(rate >= 0 && rate <= 1)) throw new InvalidArgumentError(`rate must be in [0, 1], got ${rate}`);
};
const checkCount = (n: number): void => {
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`n must be a whole number ≥ 0, got ${n}`);
};
const checkStatus = (status: number): void => {
  if (!Number.isInteger(status) || status < 500 || status > 599)
    throw new InvalidArgumentError(`status must be a 5xx code, got ${status}`);
};

/** One value per venue of the registry, in registry order. */
function perVenueOf<T>(make: (venue: SimulatedVenue) => T): Record<SimulatedVenue, T> {
  return Object.fromEntries(SIMULATED_VENUES.map((venue) => [venue, make(venue)])) as Record<
    SimulatedVenue,
    T
  >;
}

const counters = (): VenueCounters => ({ requests: 0, byPath: new Map(), byStatus: new Map(), resets: 0 });

/**
 * Whether the simulators can list `symbol`: a name of the static instrument tables, or a canonical
 * base asset they list as `<SYM>USDT` / `<SYM>-USDT-SWAP` (capitals and digits, no multiplier prefix
 * or suffix that a client would read as a bundle, e.g. `1000X` or `X1000`).
 */
const STATIC_ASSETS = new Set(
  SIMULATED_VENUES.flatMap((venue) =>
    Object.values(simulationOf(venue).instruments ?? {}).map((i) => i.symbol),
  ),
);
const isSupportedAsset = (symbol: string): boolean =>
  STATIC_ASSETS.has(symbol) ||
  (/^[A-Z0-9]{1,20}$/.test(symbol) && /[A-Z]/.test(symbol) && splitMultiplier(symbol).multiplier === 1);

/**
 * Starts, on 127.0.0.1, an HTTP simulator for every venue of the registry (Binance, Bybit, OKX,
 * Coinalyze) and a WebSocket server for every live one, all over one `SyntheticMarket` and one
 * clock. Hand `sim.clientOptions(venue)` to a client, compare what it returns with `sim.market`, inject faults with
 * `sim.faults`, count requests with `sim.stats`, and `await sim.close()` at the end.
 * @example
 * import { BinanceClient } from 'perpdata';
 * import { simulateVenues } from 'perpdata/testing';
 *
 * const sim = await simulateVenues({ clock: { start: '2024-06-01', speed: 60 } }); // a minute a second
 * const binance = new BinanceClient(sim.clientOptions('binance'));
 * sim.faults.errorRate(0.05, { venue: 'binance' }); // 5% of pages answer 503: the client retries
 * for await (const page of binance.candles({ symbol: 'BTC', interval: '1m', from: '2024-05-31', to: '2024-06-01' })) {
 *   console.log(page.length);
 * }
 * await binance.close();
 * await sim.close();
 */
// Long by design: builds the parts of one simulation in order (market, simulators, counters and faults, handlers, servers), which close over each other; servers that started are closed if one fails to start.
export async function simulateVenues(options: SimulateVenuesOptions = {}): Promise<Simulation> {
  const { budgets = {}, apiKey = 'test-key', ws: startWs = true } = options;
  if (options.now && options.clock)
    throw new InvalidArgumentError('simulateVenues: pass either now or clock, not both');
  if (typeof apiKey !== 'string' || apiKey.length === 0)
    throw new InvalidArgumentError('simulateVenues: apiKey must be a non-empty string');
  for (const asset of options.assets ?? []) {
    if (!isSupportedAsset(asset.symbol))
      throw new InvalidArgumentError(
        `simulateVenues: no venue can list ${JSON.stringify(asset.symbol)}; an asset is ${[...STATIC_ASSETS].join(', ')} or a canonical base asset (capitals and digits, no 1000-style multiplier), listed as <SYM>USDT on Binance and Bybit and <SYM>-USDT-SWAP (ctVal 1) on OKX`,
      );
  }
  const clock = makeClock(options);
  const now = clock.now;
  const market = new SyntheticMarket({
    ...(options.assets ? { assets: [...options.assets] } : {}),
    ...(options.holes ? { holes: [...options.holes] } : {}),
  });
  const simulators = perVenueOf((venue) => {
    const simulation = simulationOf(venue);
    const own = { ...(options.unlimited ? simulation.unlimited : {}), ...budgets[venue] };
    // Rate budgets and bans run on the real clock, as the clients' do: a frozen or fast market clock
    // must not freeze a budget window (or expire it at the clock's speed).
    return (simulation.create as (market: SyntheticMarket, options: object, context: object) => unknown)(
      market,
      own,
      { now, budgetNow: Date.now, apiKey },
    );
  }) as Simulation['simulators'];

  // Counters and faults.
  const perVenue = perVenueOf(counters);
  const stats: SimulationStats = {
    ...perVenue,
    requests(venue, path) {
      const list = venue ? [perVenue[venue]] : Object.values(perVenue);
      return list.reduce((sum, c) => sum + (path === undefined ? c.requests : (c.byPath.get(path) ?? 0)), 0);
    },
    reset() {
      for (const c of Object.values(perVenue)) {
        c.requests = 0;
        c.resets = 0;
        c.byPath.clear();
        c.byStatus.clear();
      }
    },
  };
  const rules = new Set<Rule>();
  /** Requests seen per venue and URL, so that seeded rates decide the k-th request to one URL. */
  const attempts = new Map<string, number>();
  const install = (rule: Omit<Rule, 'handle'>): FaultHandle => {
    const full: Rule = { ...rule, handle: { hits: 0 } };
    rules.add(full);
    return {
      get hits() {
        return full.handle.hits;
      },
      remove: () => {
        rules.delete(full);
      },
    };
  };
  const seeded = (seed: number, rate: number, venue: SimulatedVenue, url: URL, attempt: number) =>
    draw(seed, `${venue} ${url.pathname}${url.search} ${attempt}`) < rate;

  const faults: SimulationFaults = {
    errorRate(rate, o = {}) {
      checkRate(rate);
      const status = o.status ?? 503;
      checkStatus(status);
      const seed = o.seed ?? 1;
      return install({
        target: o,
        decide: (venue, url, _client, attempt) =>
          seeded(seed, rate, venue, url, attempt) ? serverError(venue, status) : undefined,
      });
    },
    failNext(n, o = {}) {
      checkCount(n);
      const status = o.status ?? 503;
      checkStatus(status);
      let left = n;
      return install({
        target: o,
        decide: (venue) => {
          if (left <= 0) return undefined;
          left--;
          return serverError(venue, status);
        },
      });
    },
    resetNext(n, o = {}) {
      checkCount(n);
      let left = n;
      return install({
        target: o,
        decide: () => {
          if (left <= 0) return undefined;
          left--;
          return connectionReset();
        },
      });
    },
    resetRate(rate, o = {}) {
      checkRate(rate);
      const seed = o.seed ?? 2;
      return install({
        target: o,
        decide: (venue, url, _client, attempt) =>
          seeded(seed, rate, venue, url, attempt) ? connectionReset() : undefined,
      });
    },
    ban(venue, o = {}) {
      const banned = simulationOf(venue).banned;
      if (!banned) throw new InvalidArgumentError(`simulateVenues: ${String(venue)} does not ban clients`);
      const clientId = o.clientId ?? '127.0.0.1';
      const ms = o.ms ?? 120_000;
      if (!(ms > 0)) throw new InvalidArgumentError(`ban ms must be positive, got ${ms}`);
      // Bans run on the real clock, as budgets do (the clients honour them on the real clock).
      const until = Date.now() + ms;
      return install({
        target: { venue, clientId },
        decide: () => {
          const t = Date.now();
          return t >= until ? undefined : banned(clientId, until, t);
        },
      });
    },
    drift(venue, path, mutate) {
      if (typeof mutate !== 'function') throw new InvalidArgumentError('drift needs a mutate function');
      return install({ target: { venue, path }, mutate });
    },
    clear() {
      rules.clear();
    },
  };

  const wrap =
    (venue: SimulatedVenue, inner: VenueHandler): VenueHandler =>
    async (request, clientId) => {
      const url = new URL(request.url);
      const c = perVenue[venue];
      c.requests++;
      c.byPath.set(url.pathname, (c.byPath.get(url.pathname) ?? 0) + 1);
      const key = `${venue} ${url.pathname}${url.search}`;
      const attempt = attempts.get(key) ?? 0;
      attempts.set(key, attempt + 1);
      let response: Response | undefined;
      for (const rule of rules) {
        if (!rule.decide || !matches(rule.target, venue, url, clientId)) continue;
        response = rule.decide(venue, url, clientId, attempt);
        if (response) {
          rule.handle.hits++;
          break;
        }
      }
      response ??= await inner(request, clientId);
      if (isConnectionReset(response)) {
        // The local server destroys the socket (MSW answers a network error).
        c.resets++;
        return response;
      }
      if (response.ok) {
        for (const rule of rules) {
          if (!rule.mutate || !matches(rule.target, venue, url, clientId)) continue;
          rule.handle.hits++;
          const headers: Record<string, string> = {};
          response.headers.forEach((value, name) => {
            if (name !== 'content-length') headers[name] = value;
          });
          response = json(rule.mutate(await response.json()), { status: response.status, headers });
        }
      }
      c.byStatus.set(response.status, (c.byStatus.get(response.status) ?? 0) + 1);
      return response;
    };
  const handlers = perVenueOf((venue) => wrap(venue, simulators[venue].handler));
  if (options.faults?.errorRate !== undefined && options.faults.errorRate > 0) {
    faults.errorRate(options.faults.errorRate, {
      ...(options.faults.status !== undefined ? { status: options.faults.status } : {}),
      ...(options.faults.seed !== undefined ? { seed: options.faults.seed } : {}),
    });
  }

  // Servers: started together, all closed if one fails to start.
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    await Promise.allSettled(closers.splice(0).map((close) => close()));
    // A server's 'close' event comes before libuv releases its handle (in the loop's close phase): wait a turn, so
    // that nothing of the simulation is left in the event loop once close() resolves.
    for (let turn = 0; turn < 2; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  try {
    const http: Record<SimulatedVenue, LocalServer> = {} as Record<SimulatedVenue, LocalServer>;
    for (const venue of SIMULATED_VENUES) {
      const server = await startLocalServer(handlers[venue]);
      closers.push(() => server.close());
      http[venue] = server;
    }
    const ws: Partial<Record<SimulatedExchange, SimulatedWsServer>> = {};
    if (startWs) {
      for (const venue of SIMULATED_VENUES) {
        const server = simulationOf(venue).server?.(clock, market);
        if (!server) continue;
        await server.start();
        closers.push(() => server.close());
        ws[venue as SimulatedExchange] = server;
      }
    }
    const urls = perVenueOf((venue) =>
      VENUES[venue].live
        ? { baseUrl: http[venue].url, wsUrl: ws[venue as SimulatedExchange]?.url ?? '' }
        : { baseUrl: http[venue].url },
    ) as Simulation['urls'];
    function clientOptions(venue: VenueOfRole<'exchange'>): SimulatedClientOptions;
    function clientOptions(venue: VenueOfRole<'aggregator'>, exchange?: Exchange): SimulatedCoinalyzeOptions;
    function clientOptions(
      venue: SimulatedVenue,
      exchange: Exchange = 'binance',
    ): SimulatedClientOptions | SimulatedCoinalyzeOptions {
      if (!Object.hasOwn(urls, venue))
        throw new InvalidArgumentError(`simulateVenues: no venue ${String(venue)}`);
      const endpoints = urls[venue] as { baseUrl: string; wsUrl?: string };
      if (VENUES[venue].role === 'aggregator') return { baseUrl: endpoints.baseUrl, apiKey, now, exchange };
      return { baseUrl: endpoints.baseUrl, wsUrl: endpoints.wsUrl ?? '', now };
    }
    let closing: Promise<void> | undefined;
    return {
      market,
      clock,
      urls,
      stats,
      faults,
      handlers,
      simulators,
      ws: ws as Simulation['ws'],
      clientOptions,
      close: () => {
        closing ??= closeAll();
        return closing;
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

function makeClock(options: SimulateVenuesOptions): SimulationClock {
  if (options.now) {
    const fixed = options.now;
    if (typeof fixed !== 'function') throw new InvalidArgumentError('simulateVenues: now must be a function');
    return { ...systemClock, now: () => fixed(), speed: 1 };
  }
  const speed = options.clock?.speed ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new InvalidArgumentError(`simulateVenues: clock.speed must be a positive number, got ${speed}`);
  const start =
    options.clock?.start === undefined ? Date.now() : toEpochMs(options.clock.start, 'clock.start');
  if (speed === 1 && options.clock?.start === undefined) return { ...systemClock, speed: 1 };
  return { ...scaledClock(speed, start), speed };
}
