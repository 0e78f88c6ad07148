/**
 * One table per venue (`capabilities`), read by `serves()`, `history()`, the pipeline and the README:
 * the README's venue × kind table is generated from it (and checked here), every venue rejects what it
 * does not serve the same way, and `[t, t)` never costs a request.
 *
 * Regenerate the README table with `UPDATE_README=1 npx vitest run test/clients/capabilities.test.ts`.
 *
 * Every venue of the registry is covered with no table here: its simulator comes from
 * `simulateVenues()`, its client from the one lookup of `test/venue-clients.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_KINDS, type HistoryKind, type KindCapability } from '../../src/clients/capabilities.js';
import type { CoinalyzeClient } from '../../src/clients/coinalyze/rest.js';
import { InvalidArgumentError, UnsupportedError } from '../../src/core/errors.js';
import { countPeriods, floorToInterval, INTERVALS, type Interval } from '../../src/core/intervals.js';
import { DATA_KINDS, type Exchange, SOURCES, type Source } from '../../src/core/types.js';
import { VENUES as REGISTRY } from '../../src/core/venues.js';
import { type Simulation, simulateVenues } from '../../src/testing/index.js';
import { simulatedClient } from '../venue-clients.js';
import { collect } from './helpers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2024, 5, 1, 12, 0, 30);
const lifted = { limit: 1_000_000, intervalMs: 60_000 };

let sim: Simulation;
beforeAll(async () => {
  sim = await simulateVenues({ now: () => NOW, ws: false, unlimited: true });
});
afterAll(() => sim.close());

type Venue = Source;
/** The README's columns: the registry's venues, in its order. */
const VENUES: readonly Venue[] = SOURCES;
/** A client of `venue` on the simulation (an aggregator over `exchange`), its budget lifted. */
const clientOf = (venue: Venue, exchange?: Exchange) =>
  simulatedClient(sim, venue, { rateLimit: lifted }, exchange);
const requests = (venue: Venue) => sim.stats.requests(venue);

// ---------------------------------------------------------------------------------------------
// The README table, rendered from `capabilities`.

const T0 = Date.UTC(2026, 0, 15, 12, 7);
const fmt = (n: number) => n.toLocaleString('en-US');

/** How far back a kind reaches, in words, from its `earliest` function. */
function keeps(c: KindCapability): string {
  const intervals: (Interval | undefined)[] = c.intervals.length > 0 ? [...c.intervals] : [undefined];
  const at = intervals.map((i) => ({ i, e: c.earliest(T0, i), later: c.earliest(T0 + 7 * DAY, i) }));
  if (at.every((a) => a.e === Number.NEGATIVE_INFINITY)) return 'from listing';
  if (at.every((a) => a.e === a.later && Number.isFinite(a.e)))
    return `since ${new Date(at[0]!.e).toISOString().slice(0, 10)}`;
  const finite = at.filter((a) => Number.isFinite(a.e));
  const forever = at.filter((a) => !Number.isFinite(a.e)).map((a) => a.i);
  const rows = finite.map((a) =>
    a.i ? Math.round(countPeriods(a.e, floorToInterval(T0, a.i), a.i) / 10) * 10 : Number.NaN,
  );
  const tail = forever.length > 0 ? ` (${forever.join(' ')}: from listing)` : '';
  if (rows.every((r) => r === rows[0] && Number.isFinite(r))) return `latest ${fmt(rows[0]!)} periods${tail}`;
  const probe = finite.find((a) => a.i === c.defaultInterval) ?? finite[0]!;
  return `latest ${fmt(Math.round((T0 - probe.e) / DAY))} days${tail}`;
}

/** One cell: how, intervals, depth, ratio kinds, live. */
function cell(c: KindCapability | null): string {
  if (!c) return '—';
  const parts: string[] = [];
  if (c.rest === 'history') {
    const all = c.intervals.length === INTERVALS.length;
    parts.push(
      c.intervals.length === 0 ? 'REST' : `REST ${all ? 'all intervals' : c.intervals.join(' ')}`,
      keeps(c),
    );
  } else if (c.rest === 'snapshot') parts.push('REST current value');
  else parts.push('no REST');
  if (c.ratioKinds) parts.push(c.ratioKinds.join(', '));
  if (c.live) parts.push('live');
  return parts.join('; ');
}

/** A markdown table's cells, row by row, without the padding a formatter adds. */
function cells(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .map((line) =>
      line
        .trim()
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((c) => c.trim().replace(/^:?-+:?$/, '---')),
    );
}

function renderTable(): string {
  const clients = VENUES.map((v) => clientOf(v));
  const header = `| kind | ${VENUES.map((v) => REGISTRY[v].title).join(' | ')} |`;
  const rule = `| --- | ${VENUES.map(() => '---').join(' | ')} |`;
  const rows = HISTORY_KINDS.map(
    (kind) => `| \`${kind}\` | ${clients.map((c) => cell(c.capabilities.kinds[kind])).join(' | ')} |`,
  );
  for (const c of clients) void c.close();
  return [header, rule, ...rows].join('\n');
}

describe('capabilities', () => {
  it('default: every HistoryKind is listed on every client (indicators never)', () => {
    expect(HISTORY_KINDS).toEqual(DATA_KINDS.filter((k) => k !== 'indicators'));
    for (const venue of VENUES) {
      const client = clientOf(venue);
      expect(Object.keys(client.capabilities.kinds).sort()).toEqual([...HISTORY_KINDS].sort());
      expect(client.capabilities.source).toBe(venue);
      expect(client.serves('indicators')).toBe(false);
      void client.close();
    }
  });

  it("default: the README's venue × kind table says what capabilities says", () => {
    const path = new URL('../../README.md', import.meta.url);
    const readme = readFileSync(path, 'utf8');
    const start = '<!-- venue-table:start (generated by test/clients/capabilities.test.ts) -->';
    const end = '<!-- venue-table:end -->';
    const table = renderTable();
    const i = readme.indexOf(start);
    const j = readme.indexOf(end);
    expect(i, 'README.md has the venue table markers').toBeGreaterThan(-1);
    expect(j).toBeGreaterThan(i);
    if (process.env.UPDATE_README === '1') {
      writeFileSync(path, `${readme.slice(0, i + start.length)}\n${table}\n${readme.slice(j)}`);
      return;
    }
    // Cells are compared, not padding: the formatter aligns the README's columns.
    expect(cells(readme.slice(i + start.length, j))).toEqual(cells(table));
  });

  it('default: the retention windows are the venues’ (Binance 30 days, OKX 1,440 rows and ~3 months, Coinalyze 1,500 buckets)', () => {
    const binance = clientOf('binance');
    const okx = clientOf('okx');
    const coinalyze = clientOf('coinalyze');
    const oi = binance.capabilities.kinds.openInterest!;
    expect(T0 - oi.earliest(T0, '5m')).toBeGreaterThan(30 * DAY - 10 * MIN);
    expect(T0 - oi.earliest(T0, '5m')).toBeLessThanOrEqual(30 * DAY);
    expect(binance.capabilities.kinds.candles!.earliest(T0, '1m')).toBe(Number.NEGATIVE_INFINITY);
    const rubik = okx.capabilities.kinds.openInterest!;
    expect((floorToInterval(T0, '1h') - rubik.earliest(T0, '1h')) / HOUR).toBe(1438);
    expect(T0 - okx.capabilities.kinds.funding!.earliest(T0)).toBe(90 * DAY);
    const candles = coinalyze.capabilities.kinds.candles!;
    expect((floorToInterval(T0, '1m') - candles.earliest(T0, '1m')) / MIN).toBe(1498);
    expect(candles.earliest(T0, '1d')).toBe(Number.NEGATIVE_INFINITY);
    // Polling cadence: the interval for interval kinds, 8 h for funding, a minute for current values.
    expect(oi.pollMs('1h')).toBe(HOUR);
    expect(oi.pollMs()).toBe(5 * MIN);
    expect(binance.capabilities.kinds.funding!.pollMs()).toBe(8 * HOUR);
    expect(binance.capabilities.kinds.predictedFunding!.pollMs()).toBe(MIN);
    for (const c of [binance, okx, coinalyze]) void c.close();
  });

  it('default: Coinalyze follows its exchange (no long/short ratio for OKX instruments)', () => {
    const okx = clientOf('coinalyze', 'okx');
    expect(okx.capabilities.kinds.longShortRatio).toBeNull();
    expect(okx.serves('longShortRatio')).toBe(false);
    expect(clientOf('coinalyze', 'bybit').serves('longShortRatio', '1h')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// One dispatch, the same refusals everywhere.

// Inside every venue's retention at NOW (Coinalyze keeps 1,500 1m buckets: about 25 hours).
const FROM = Date.UTC(2024, 5, 1, 5);
const TO = FROM + 6 * HOUR;

/** A served `history()` series for the cross-venue table: the default interval, or none. */
function seriesOf(c: KindCapability) {
  return { symbol: 'BTC', from: FROM, to: TO, ...(c.defaultInterval ? { interval: c.defaultInterval } : {}) };
}

describe.each(VENUES)('%s: history(), serves(), UnsupportedError', (venue) => {
  it('default: every kind with REST history comes through history() on its default interval', async () => {
    const client = clientOf(venue);
    for (const kind of HISTORY_KINDS) {
      const c = client.capabilities.kinds[kind];
      if (c?.rest !== 'history') continue;
      const { rows } = await collect(client.history(kind, seriesOf(c)));
      expect(rows.length, `${venue} ${kind}`).toBeGreaterThan(0);
      for (const r of rows) {
        expect(r.ts).toBeGreaterThanOrEqual(FROM);
        expect(r.ts).toBeLessThan(TO);
        expect(r.source).toBe(venue);
        expect(r.symbol).toBe('BTC');
        if (c.defaultInterval) expect((r as { interval?: Interval }).interval).toBe(c.defaultInterval);
      }
      for (let i = 1; i < rows.length; i++) expect(rows[i]!.ts).toBeGreaterThan(rows[i - 1]!.ts);
    }
    await client.close();
  });

  it('default: serves() answers from the table, without a request', async () => {
    const client = clientOf(venue);
    const before = requests(venue);
    for (const kind of HISTORY_KINDS) {
      const c = client.capabilities.kinds[kind];
      expect(client.serves(kind)).toBe(c !== null);
      for (const interval of INTERVALS) {
        expect(client.serves(kind, interval)).toBe(c?.intervals.includes(interval) ?? false);
      }
    }
    expect(requests(venue)).toBe(before);
    await client.close();
  });

  it('behavior: unserved kinds, intervals and ratio kinds reject the first next() with UnsupportedError', async () => {
    const client = clientOf(venue);
    const before = requests(venue);
    const refusals: { kind: HistoryKind; interval?: Interval; ratioKind?: 'topAccount' | 'topPosition' }[] =
      [];
    for (const kind of HISTORY_KINDS) {
      const c = client.capabilities.kinds[kind];
      if (c?.rest !== 'history') {
        refusals.push({ kind, ...(c?.defaultInterval ? { interval: c.defaultInterval } : {}) });
        continue;
      }
      if (c.intervals.length === 0) refusals.push({ kind, interval: '1h' });
      const missing = INTERVALS.find((i) => !c.intervals.includes(i));
      if (c.intervals.length > 0 && missing) refusals.push({ kind, interval: missing });
      for (const ratioKind of ['topAccount', 'topPosition'] as const) {
        if (kind === 'longShortRatio' && !c.ratioKinds?.includes(ratioKind))
          refusals.push({ kind, interval: c.defaultInterval!, ratioKind });
      }
    }
    expect(refusals.length).toBeGreaterThan(0);
    for (const r of refusals) {
      const pages = client.history(r.kind, { symbol: 'BTC', from: FROM, to: TO, ...r });
      // No sync throw: the iterable exists, its first next() rejects.
      const iterator = pages[Symbol.asyncIterator]();
      await expect(iterator.next(), JSON.stringify(r)).rejects.toBeInstanceOf(UnsupportedError);
    }
    // A kind that is not a HistoryKind at all is refused the same way.
    await expect(
      collect(client.history('indicators' as HistoryKind, { symbol: 'BTC', from: FROM, to: TO })),
    ).rejects.toBeInstanceOf(UnsupportedError);
    expect(requests(venue)).toBe(before);
    await client.close();
  });

  it('behavior: a kind with intervals and no interval is an InvalidArgumentError', async () => {
    const client = clientOf(venue);
    await expect(
      collect(client.history('candles', { symbol: 'BTC', from: FROM, to: TO })),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await client.close();
  });

  it('behavior: [t, t) is empty on every kind (no page, no request); from > to is an InvalidArgumentError', async () => {
    const client = clientOf(venue);
    const before = requests(venue);
    for (const kind of HISTORY_KINDS) {
      const c = client.capabilities.kinds[kind];
      if (c?.rest !== 'history') continue;
      const intervals = c.intervals.length > 0 ? c.intervals : [undefined];
      for (const interval of intervals) {
        const params = { symbol: 'BTC', from: FROM, to: FROM, ...(interval ? { interval } : {}) };
        const { rows, pages } = await collect(client.history(kind, params));
        expect([rows.length, pages], `${venue} ${kind} ${interval}`).toEqual([0, 0]);
        await expect(
          collect(client.history(kind, { ...params, from: FROM + 1 })),
          `${venue} ${kind} ${interval}`,
        ).rejects.toBeInstanceOf(InvalidArgumentError);
      }
    }
    expect(requests(venue), 'no request at all, not even the instrument list').toBe(before);
    await client.close();
  });
});

describe('[t, t) on the direct history methods', () => {
  it('behavior: every method of every venue yields nothing for [t, t), without a request', async () => {
    const p = { symbol: 'BTC', from: FROM, to: FROM };
    const clients = VENUES.map((venue) => clientOf(venue));
    const before = VENUES.map(requests);
    const calls: { name: string; pages: AsyncIterable<unknown[]> }[] = [];
    for (const client of clients) {
      // The history methods are named after the kinds: every kind a venue serves over REST history.
      for (const kind of HISTORY_KINDS) {
        const c = client.capabilities.kinds[kind];
        if (c?.rest !== 'history') continue;
        const interval = c.intervals.includes('1h') ? '1h' : c.defaultInterval;
        const method = (client as unknown as Record<HistoryKind, (q: object) => AsyncIterable<unknown[]>>)[
          kind
        ];
        calls.push({
          name: `${client.venue}.${kind}`,
          pages: method.call(client, { ...p, ...(interval ? { interval } : {}) }),
        });
      }
    }
    // Coinalyze's own variants: USD open interest and several symbols at once.
    const coinalyze = clients[VENUES.indexOf('coinalyze')] as CoinalyzeClient;
    const i = { ...p, interval: '1h' as const };
    calls.push(
      { name: 'coinalyze.openInterest usd', pages: coinalyze.openInterest({ ...i, usd: true }) },
      { name: 'coinalyze.candlesMany', pages: coinalyze.candlesMany({ ...i, symbols: ['BTC', 'ETH'] }) },
    );
    expect(calls.length).toBeGreaterThanOrEqual(21);
    for (const { name, pages } of calls) expect(await collect(pages), name).toEqual({ rows: [], pages: 0 });
    expect(VENUES.map(requests)).toEqual(before);
    for (const c of clients) await c.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Current values and funding periods.

describe('snapshot() and fundingPeriod()', () => {
  it('default: predicted funding is a current value on every venue that says so (Binance, Bybit, OKX)', async () => {
    const clients = VENUES.map((venue) => clientOf(venue));
    const current = clients.filter((c) => c.capabilities.kinds.predictedFunding?.rest === 'snapshot');
    expect(current.map((c) => c.venue)).toEqual(expect.arrayContaining(['binance', 'bybit', 'okx']));
    for (const client of current) {
      const venue = client.venue;
      const rows = await client.snapshot('predictedFunding', { symbol: 'BTC' });
      expect(rows).toHaveLength(1);
      expect(rows[0]!.source).toBe(venue);
      expect(rows[0]!.rate).toBeCloseTo(sim.market.fundingRate('BTC', rows[0]!.nextFundingTime!), 12);
      await expect(client.snapshot('openInterest', { symbol: 'BTC' })).rejects.toBeInstanceOf(
        UnsupportedError,
      );
      await expect(
        collect(client.history('predictedFunding', { symbol: 'BTC', from: FROM, to: TO })),
      ).rejects.toBeInstanceOf(UnsupportedError);
    }
    for (const c of clients) await c.close();
  });

  it('default: Coinalyze current open interest in base units and USD; no current funding (unit not documented)', async () => {
    const coinalyze = clientOf('coinalyze', 'bybit');
    const [oi] = await coinalyze.snapshot('openInterest', { symbol: 'PEPE' });
    const minute = floorToInterval(NOW, '1m');
    expect(oi).toMatchObject({
      source: 'coinalyze',
      exchange: 'bybit',
      symbol: 'PEPE',
      interval: '1m',
      ts: minute,
    });
    expect(oi!.openInterest).toBeCloseTo(sim.market.openInterest('PEPE', minute), 3);
    expect(oi!.openInterestUsd).toBeCloseTo(
      sim.market.openInterest('PEPE', minute) * sim.market.markPrice('PEPE', minute),
      3,
    );
    await expect(coinalyze.snapshot('funding', { symbol: 'BTC' })).rejects.toBeInstanceOf(UnsupportedError);
    await expect(coinalyze.snapshot('predictedFunding', { symbol: 'BTC' })).rejects.toBeInstanceOf(
      UnsupportedError,
    );
    await coinalyze.close();
  });

  it('default: the funding period per instrument, read once and reused', async () => {
    const bybit = clientOf('bybit');
    const okx = clientOf('okx');
    const coinalyze = clientOf('coinalyze');
    expect(await bybit.fundingPeriod('BTC')).toBe(8 * HOUR);
    const before = requests('bybit');
    expect(await bybit.fundingPeriod('BTC')).toBe(8 * HOUR);
    expect(requests('bybit')).toBe(before);
    expect(await okx.fundingPeriod('ETH')).toBe(8 * HOUR);
    expect(await coinalyze.fundingPeriod('BTC')).toBe(8 * HOUR);
    for (const c of [bybit, okx, coinalyze]) await c.close();
  });

  it('behavior: Binance reads fundingInfo (adjusted instruments only); absent instruments fund every 8 h', async () => {
    const adjusted = [
      { symbol: '1000PEPEUSDT', fundingIntervalHours: 4, adjustedFundingRateCap: '0.02', disclaimer: false },
      { symbol: 'ETHUSDT', fundingIntervalHours: 1, adjustedFundingRateCap: '0.02', disclaimer: false },
    ];
    const fundingInfo = sim.faults.drift('binance', '/fapi/v1/fundingInfo', () => adjusted);
    try {
      const binance = clientOf('binance');
      expect(await binance.fundingPeriod('PEPE')).toBe(4 * HOUR);
      expect(await binance.fundingPeriod('ETH')).toBe(HOUR);
      expect(await binance.fundingPeriod('BTC')).toBe(8 * HOUR);
      await binance.close();
    } finally {
      fundingInfo.remove();
    }
    const binance = clientOf('binance');
    expect(await binance.fundingPeriod('PEPE')).toBe(8 * HOUR); // the simulator lists it at 8 h
    await binance.close();
  });
});
