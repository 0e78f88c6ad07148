/**
 * The candle edge cases every venue client shares, as one suite run per venue with a table of what
 * differs (paths, error bodies, page sizes, expectations) — as `test/storage/contract.ts` is run per
 * storage adapter. Each venue file calls `venueContract(table)` against its own simulator and keeps the
 * cases only it has. A case whose entry a venue leaves out is not registered for that venue.
 */
import { describe, expect, it } from 'vitest';
import {
  HttpError,
  InvalidArgumentError,
  UnknownSymbolError,
  ValidationError,
} from '../../src/core/errors.js';
import type { Interval } from '../../src/core/intervals.js';
import type { Candle } from '../../src/core/types.js';
import { type InstrumentInfo, SymbolRegistry } from '../../src/normalize/symbols.js';
import type { SyntheticMarket } from '../../src/testing/market.js';
import { collect } from './helpers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** The part of a venue client the shared cases use. */
export interface CandleClient {
  candles(request: { symbol: string; interval: Interval; from: number; to: number }): AsyncIterable<Candle[]>;
  registry(): Promise<unknown>;
  close(): Promise<void>;
}

type Intercept = ((url: URL) => Response | undefined) | undefined;

/** What differs per venue. */
export interface VenueTable {
  /** The describe name, e.g. `'BybitClient.candles'`. */
  name: string;
  /** A client on the venue's simulator and still clock. */
  client(extra?: { registry?: SymbolRegistry }): CandleClient;
  market: SyntheticMarket;
  /** The simulated present. */
  now: number;
  /** The venue-side hole the market was made with. */
  hole: { symbol: string; from: number; to: number };
  /** Installs the simulator's interceptor (reset after each test by the venue file). */
  intercept(fn: Intercept): void;
  /** The venue's simulator: its answers (for the interceptor to rewrite) and its request count. */
  sim: { handler(request: Request, clientId: string): unknown; stats: { requests: number } };
  /** Whether a URL asks for candle history. */
  isCandlePath(url: URL): boolean;
  /** The candle history requests the simulator served (the venue's own counter). */
  candleCalls(): number;
  /** The venue's candle check: values from the market, `ms` apart from `from`. */
  expectSeries(candles: Candle[], from: number, count: number, symbol: string, ms?: number): void;

  /** A range of exactly two full pages of 1m candles. */
  twoPages?: { pageRows: number; loadRegistry: boolean; requests: number };
  /** Multiplier contracts, read one after another from 2024-05-20 03:00. */
  multiplier?: {
    contracts: string;
    reads: { symbol: string; interval: Interval; count: number; ms: number }[];
  };
  halfOpen: {
    t: number;
    /** Also `[t - 1, t + 1m - 1)`. */
    belowStart?: boolean;
    /** Title suffix and a check of the last candle request. */
    asked?: { note: string; check(url: URL | undefined, t: number): void };
  };
  /** A 5m range of 50 candles: one request. */
  onePage?: { what: string; check(url: URL | undefined, t: number): void; weight?: () => number };
  /** Hourly unless given. */
  beforeListing?: { interval: Interval; step: number };
  /** Reading across the hole: whether the registry is loaded first, and a check of the candle requests. */
  holeRead?: { loadRegistry: boolean; calls(n: number): void };
  /** 600 one-minute candles up to an hour ahead unless given. */
  future: { note: string; interval?: Interval; step?: number; ahead?: number; count?: number };
  /** A venue that serves shorter pages than asked. */
  shortPages?: { limit: number; why: string; how: string; rows: number };
  /** A symbol the registry does not list. */
  unknownSymbol?: true;
  /** The venue's answer for an instrument it does not know. */
  venueUnknownSymbol?: { what: string; instrument: InstrumentInfo; from: number; to: number };
  /** The venue's answer for any other refusal. */
  venueError?: { what: string; reply(): Response; venueCode: number | string; message?: string };
  drift: {
    note?: string;
    reply(): Response;
    endpoint: string;
    interval: Interval;
    from: number;
    to: number;
    sample?: string;
  };
  /** Two failures the client retries, in order. */
  retried?: { what: string; replies(): Response[] };
}

/** Registers the shared candle edge cases for one venue. */
export function venueContract(v: VenueTable): void {
  describe(`${v.name} (shared venue edges)`, () => {
    pagingCases(v);
    rangeCases(v);
    errorCases(v);
  });
}

/** Registers the paging cases (long only because it holds several `it` blocks, each short). */
function pagingCases(v: VenueTable): void {
  const { twoPages, multiplier, onePage, shortPages } = v;
  if (twoPages)
    it('default: a range of exactly two pages returns every candle once, in order, with venue values', async () => {
      const client = v.client();
      if (twoPages.loadRegistry) await client.registry();
      const from = Date.UTC(2024, 4, 20);
      const before = v.sim.stats.requests;
      const to = from + 2 * twoPages.pageRows * MIN;
      const { rows, pages } = await collect(client.candles({ symbol: 'BTC', interval: '1m', from, to }));
      v.expectSeries(rows, from, 2 * twoPages.pageRows, 'BTC');
      expect(pages).toBe(2);
      expect(v.sim.stats.requests - before).toBe(twoPages.requests);
      await client.close();
    });

  if (multiplier)
    it(`behavior: multiplier contracts (${multiplier.contracts}) give prices per one coin and volume in coins`, async () => {
      const client = v.client();
      const from = Date.UTC(2024, 4, 20, 3);
      for (const [i, read] of multiplier.reads.entries()) {
        const { symbol, interval, count, ms } = read;
        const { rows } = await collect(client.candles({ symbol, interval, from, to: from + count * ms }));
        v.expectSeries(rows, from, count, symbol, ms);
        if (i === 0) expect(rows[0]!.open).toBeLessThan(0.001);
      }
      await client.close();
    });

  if (onePage)
    it(`behavior: a range inside one page costs one request ${onePage.what}`, async () => {
      const client = v.client();
      await client.registry();
      const before = { calls: v.candleCalls(), weight: onePage.weight?.() ?? 0 };
      let asked: URL | undefined;
      v.intercept((url) => {
        if (v.isCandlePath(url)) asked = url;
        return undefined;
      });
      const t = Date.UTC(2024, 4, 21);
      const { rows, pages } = await collect(
        client.candles({ symbol: 'ETH', interval: '5m', from: t, to: t + 50 * 5 * MIN }),
      );
      expect(rows).toHaveLength(50);
      expect(pages).toBe(1);
      expect(v.candleCalls() - before.calls).toBe(1);
      if (onePage.weight) expect(onePage.weight() - before.weight).toBe(1);
      onePage.check(asked, t);
      await client.close();
    });

  if (shortPages)
    it(`behavior: pages shorter than asked (${shortPages.limit}${shortPages.why}) are walked ${shortPages.how}, not taken as the end`, async () => {
      const client = v.client();
      await client.registry();
      const limit = String(shortPages.limit);
      v.intercept((url) => {
        if (!v.isCandlePath(url) || url.searchParams.get('limit') === limit) return undefined;
        const capped = new URL(url);
        capped.searchParams.set('limit', limit);
        return v.sim.handler(new Request(capped), 'direct') as Response;
      });
      const from = Date.UTC(2024, 4, 10);
      const { rows } = await collect(
        client.candles({ symbol: 'BTC', interval: '1m', from, to: from + shortPages.rows * MIN }),
      );
      v.expectSeries(rows, from, shortPages.rows, 'BTC');
      await client.close();
    });
}

/** Registers the range cases (long only because it holds several `it` blocks, each short). */
function rangeCases(v: VenueTable): void {
  const { halfOpen, future } = v;
  const beforeListing = v.beforeListing ?? { interval: '1h', step: HOUR };
  // Registry loaded first; at most the page before the hole and the one after it.
  const holeRead = v.holeRead ?? {
    loadRegistry: true,
    calls: (n: number) => expect(n).toBeLessThanOrEqual(2),
  };
  it(`behavior: off-by-one-ms bounds are half-open on open time${halfOpen.asked ? `; ${halfOpen.asked.note}` : ''}`, async () => {
    const client = v.client();
    let asked: URL | undefined;
    if (halfOpen.asked)
      v.intercept((url) => {
        if (v.isCandlePath(url)) asked = url;
        return undefined;
      });
    const t = halfOpen.t;
    const a = await collect(
      client.candles({ symbol: 'BTC', interval: '1m', from: t + 1, to: t + 3 * MIN + 1 }),
    );
    expect(a.rows.map((c) => c.ts)).toEqual([t + MIN, t + 2 * MIN, t + 3 * MIN]);
    const b = await collect(client.candles({ symbol: 'BTC', interval: '1m', from: t, to: t + 3 * MIN }));
    expect(b.rows.map((c) => c.ts)).toEqual([t, t + MIN, t + 2 * MIN]);
    halfOpen.asked?.check(asked, t);
    if (halfOpen.belowStart) {
      const c = await collect(
        client.candles({ symbol: 'BTC', interval: '1m', from: t - 1, to: t + MIN - 1 }),
      );
      expect(c.rows.map((x) => x.ts)).toEqual([t]);
    }
    await client.close();
  });

  it('behavior: an empty range yields nothing ([t, t) too); an inverted one is an InvalidArgumentError', async () => {
    const client = v.client();
    const forming = Math.floor(v.now / MIN) * MIN;
    expect(
      (await collect(client.candles({ symbol: 'BTC', interval: '1m', from: forming, to: forming + MIN })))
        .rows,
    ).toEqual([]);
    expect(
      (await collect(client.candles({ symbol: 'BTC', interval: '1m', from: forming, to: forming }))).rows,
    ).toEqual([]);
    await expect(
      collect(client.candles({ symbol: 'BTC', interval: '1m', from: forming + MIN, to: forming })),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await client.close();
  });

  it('behavior: a range that starts before listing starts at the first candle', async () => {
    const client = v.client();
    const listed = v.market.asset('PEPE')!.listedAt;
    const { interval, step } = beforeListing;
    const { rows } = await collect(
      client.candles({ symbol: 'PEPE', interval, from: listed - 30 * 24 * HOUR, to: listed + 5 * step }),
    );
    expect(rows.map((c) => c.ts)).toEqual([0, 1, 2, 3, 4].map((i) => listed + i * step));
    await client.close();
  });

  it('behavior: a venue-side hole is skipped, not looped on, and stays visible as missing timestamps', async () => {
    const client = v.client();
    if (holeRead.loadRegistry) await client.registry();
    const hole = v.hole;
    const before = v.candleCalls();
    const { rows } = await collect(
      client.candles({
        symbol: hole.symbol,
        interval: '1m',
        from: hole.from - 5 * MIN,
        to: hole.to + 5 * MIN,
      }),
    );
    const present = new Set(rows.map((c) => c.ts));
    expect(rows).toHaveLength(10);
    for (let ts = hole.from; ts < hole.to; ts += MIN) expect(present.has(ts)).toBe(false);
    holeRead.calls(v.candleCalls() - before);
    await client.close();
  });

  it(`behavior: a range ending in the future stops at the last closed ${future.note}`, async () => {
    const client = v.client();
    const { interval = '1m', step = MIN, ahead = HOUR, count = 600 } = future;
    const from = Math.floor(v.now / step) * step - count * step;
    const { rows } = await collect(client.candles({ symbol: 'BTC', interval, from, to: v.now + ahead }));
    expect(rows).toHaveLength(count);
    expect(rows.at(-1)!.ts).toBe(Math.floor(v.now / step) * step - step);
    await client.close();
  });
}

/** Registers the error cases (long only because it holds several `it` blocks, each short). */
function errorCases(v: VenueTable): void {
  const { venueUnknownSymbol, venueError, drift, retried } = v;
  const now = v.now;
  if (v.unknownSymbol)
    it('error: an unknown symbol fails before any data request', async () => {
      const client = v.client();
      await client.registry();
      const before = v.sim.stats.requests;
      await expect(
        collect(client.candles({ symbol: 'NOPE', interval: '1m', from: now - HOUR, to: now })),
      ).rejects.toBeInstanceOf(UnknownSymbolError);
      expect(v.sim.stats.requests).toBe(before);
      await client.close();
    });

  if (venueUnknownSymbol)
    it(`error: ${venueUnknownSymbol.what} is an UnknownSymbolError naming the instrument, not retried`, async () => {
      const { instrument, from, to } = venueUnknownSymbol;
      const client = v.client({ registry: new SymbolRegistry([instrument]) });
      let calls = 0;
      v.intercept((url) => {
        if (v.isCandlePath(url)) calls++;
        return undefined;
      });
      const error = await collect(
        client.candles({ symbol: instrument.symbol, interval: '1m', from, to }),
      ).catch((e) => e);
      expect(error).toBeInstanceOf(UnknownSymbolError);
      expect(error.message).toContain(instrument.instrument);
      expect(calls).toBe(1);
      await client.close();
    });

  if (venueError)
    it(`error: ${venueError.what} is an HttpError, never data, and is not retried`, async () => {
      const client = v.client();
      await client.registry();
      const calls = countedReplies(v, () => venueError.reply());
      const error = await collect(
        client.candles({ symbol: 'BTC', interval: '1m', from: now - 3 * HOUR, to: now - 2 * HOUR }),
      ).catch((e) => e);
      expect(error).toBeInstanceOf(HttpError);
      expect(error).not.toBeInstanceOf(ValidationError);
      expect(error.venueCode).toBe(venueError.venueCode);
      if (venueError.message) expect(error.message).toContain(venueError.message);
      expect(calls()).toBe(1);
      await client.close();
    });

  it(`error: a drifting payload${drift.note ? ` (${drift.note})` : ''} is a ValidationError naming the endpoint, never retried`, async () => {
    const client = v.client();
    await client.registry();
    const calls = countedReplies(v, () => drift.reply());
    const error = await collect(
      client.candles({ symbol: 'BTC', interval: drift.interval, from: drift.from, to: drift.to }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.endpoint).toBe(drift.endpoint);
    if (drift.sample) expect(error.sample).toContain(drift.sample);
    expect(calls()).toBe(1);
    await client.close();
  });

  if (retried)
    it(`behavior: ${retried.what} retried and the page still arrives`, async () => {
      const client = v.client();
      await client.registry();
      const replies = retried.replies();
      const calls = countedReplies(v, () => replies.shift());
      const { rows } = await collect(
        client.candles({ symbol: 'BTC', interval: '1m', from: now - 10 * MIN - 30_000, to: now }),
      );
      expect(rows).toHaveLength(10);
      // Both failures were served, then exactly one more request: the page.
      expect(replies).toHaveLength(0);
      expect(calls()).toBe(3);
      await client.close();
    });
}

/** Answers every candle request with `reply()` (undefined: the simulator answers); counts them. */
function countedReplies(v: VenueTable, reply: () => Response | undefined): () => number {
  let calls = 0;
  v.intercept((url) => {
    if (!v.isCandlePath(url)) return undefined;
    calls++;
    return reply();
  });
  return () => calls;
}
