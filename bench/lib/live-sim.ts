/**
 * Child process of `bench/live.bench.ts`: `simulateVenues()` (Binance, Bybit, OKX, HTTP and WebSocket)
 * over `BENCH_LIVE_SIM_SYMBOLS` synthetic assets on a clock running `BENCH_LIVE_SIM_SPEED` times faster
 * than real time from `BENCH_LIVE_SIM_EPOCH`, in a process of its own so that the bench's CPU figures
 * are the client's. Every closed-candle frame a stream server sends is timed (absolute real ms,
 * `performance.timeOrigin + performance.now()`, right after `socket.send()` queued it) by wrapping
 * `ServerConnection.prototype.send`: the simulators have no push hook of their own.
 *
 * IPC: sends `{ ready, urls, simAt, realAt }` once listening (one reading of both clocks, from which the
 * parent builds the same scaled clock); answers `'dump'` with every push `[venue, symbol index, ts,
 * realAt]` (flattened), its own CPU seconds and the REST requests per venue and path; `'stop'` closes the servers and exits.
 */
import { ServerConnection, simulateVenues } from '../../src/testing/index.js';
import { liveSymbols } from './live-symbols.js';

const SYMBOLS = Number(process.env.BENCH_LIVE_SIM_SYMBOLS);
const SPEED = Number(process.env.BENCH_LIVE_SIM_SPEED);
const EPOCH = Number(process.env.BENCH_LIVE_SIM_EPOCH);
const nowAbs = (): number => performance.timeOrigin + performance.now();

const symbols = liveSymbols(SYMBOLS);
const index = new Map(symbols.map((s, i) => [s, i]));
/** Venue indexes, as the parent numbers them. */
const VENUE = { binance: 0, bybit: 1, okx: 2 } as const;
const venueOfPath = (path: string): number | undefined =>
  path.startsWith('/market/')
    ? VENUE.binance
    : path === '/v5/public/linear'
      ? VENUE.bybit
      : path === '/ws/v5/business'
        ? VENUE.okx
        : undefined;

// Closed candles only: Binance `"x":true`, Bybit `"confirm":true`, OKX a row ending in confirm "1".
const BINANCE = /"s":"([A-Z0-9]+)USDT","k":\{"t":(\d+),/;
const BYBIT = /^\{"topic":"kline\.1\.([A-Z0-9]+)USDT","data":\[\{"start":(\d+),/;
const OKX = /"instId":"([A-Z0-9]+)-USDT-SWAP"\},"data":\[\["(\d+)"/;
const pushes: number[] = [];

const send = ServerConnection.prototype.send;
ServerConnection.prototype.send = function (this: ServerConnection, text: string): void {
  send.call(this, text);
  const venue = venueOfPath(this.path);
  if (venue === undefined) return;
  let m: RegExpExecArray | null = null;
  if (venue === VENUE.binance) m = text.includes('"x":true') ? BINANCE.exec(text) : null;
  else if (venue === VENUE.bybit) m = text.includes('"confirm":true') ? BYBIT.exec(text) : null;
  else m = text.endsWith('"1"]]}') ? OKX.exec(text) : null;
  if (!m) return;
  const i = index.get(m[1] as string);
  if (i === undefined) return;
  pushes.push(venue, i, Number(m[2]), nowAbs());
};

const listedAt = Date.UTC(2020, 0, 1);
const sim = await simulateVenues({
  clock: { start: EPOCH, speed: SPEED },
  assets: symbols.map((symbol, i) => ({ symbol, basePrice: 1 + (i % 97) * 3.7, listedAt })),
});
const simAt = sim.clock.now();
const realAt = nowAbs();
const urls = {
  binance: sim.urls.binance,
  bybit: sim.urls.bybit,
  okx: sim.urls.okx,
};
process.send?.({ ready: true, urls, simAt, realAt });
process.on('message', (message: string) => {
  if (message === 'dump') {
    const { user, system } = process.cpuUsage();
    const rest = Object.fromEntries(
      (['binance', 'bybit', 'okx'] as const).map((v) => [v, Object.fromEntries(sim.stats[v].byPath)]),
    );
    process.send?.({ pushes, cpuSeconds: (user + system) / 1e6, rest });
  } else if (message === 'stop') {
    void sim.close().then(() => process.exit(0));
  }
});
