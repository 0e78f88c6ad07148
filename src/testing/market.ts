/**
 * A deterministic synthetic market that every venue mock serves in its own format. Values are in
 * canonical units (price per one base unit, volumes in base units, rates as fractions), so a test can
 * compare what a client returns with what the market says, for any venue.
 */

/** One listed asset of the synthetic market. */
export interface SyntheticAsset {
  /** Canonical base asset, e.g. `'BTC'`, `'PEPE'`. */
  symbol: string;
  /** Price level around which candles move, per one base unit. */
  basePrice: number;
  /** Epoch ms of the first candle; nothing exists before it. */
  listedAt: number;
}

/** Holes: ranges `[from, to)` in which the venue has no rows for a symbol (a venue-side outage). */
export interface SyntheticHole {
  symbol: string;
  from: number;
  to: number;
}

/** Options of `SyntheticMarket`: the listed assets and the venue-side holes. */
export interface MarketOptions {
  assets?: SyntheticAsset[];
  holes?: SyntheticHole[];
}

/** One candle of the synthetic market, in canonical units. */
export interface SyntheticCandle {
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  trades: number;
  takerBuyVolume: number;
}

/** Small integer hash of a string and a number, stable across runs. */
function hash(text: string, n: number): number {
  let h = 2166136261 ^ Math.floor(n / 1000);
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  h = Math.imul(h ^ (h >>> 15), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A value in [0, 1) determined by its inputs. */
function unit(text: string, n: number): number {
  return hash(text, n) / 4294967296;
}

/** Rounds to `digits` significant decimals so that string round-trips are exact. */
function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** The assets of a default market: BTC, ETH and two 1000-multiplier coins (PEPE, SHIB). */
export const DEFAULT_ASSETS: SyntheticAsset[] = [
  { symbol: 'BTC', basePrice: 60_000, listedAt: Date.UTC(2019, 8, 8) },
  { symbol: 'ETH', basePrice: 3_000, listedAt: Date.UTC(2019, 10, 27) },
  { symbol: 'PEPE', basePrice: 0.00001, listedAt: Date.UTC(2023, 4, 5) },
  { symbol: 'SHIB', basePrice: 0.00002, listedAt: Date.UTC(2021, 4, 10) },
];

/** The synthetic market: every function is pure in its arguments. */
export class SyntheticMarket {
  readonly assets: SyntheticAsset[];
  readonly holes: SyntheticHole[];

  constructor(options: MarketOptions = {}) {
    this.assets = options.assets ?? DEFAULT_ASSETS;
    this.holes = options.holes ?? [];
  }

  /** The asset of a canonical symbol, `undefined` when the market does not list it. */
  asset(symbol: string): SyntheticAsset | undefined {
    return this.assets.find((a) => a.symbol === symbol);
  }

  /** Whether the venue has a row for `symbol` at `ts` (listed, and not inside a hole). */
  has(symbol: string, ts: number): boolean {
    const asset = this.asset(symbol);
    if (!asset || ts < asset.listedAt) return false;
    return !this.holes.some((h) => h.symbol === symbol && ts >= h.from && ts < h.to);
  }

  /** The candle of `symbol` opening at `ts` with length `ms`. Prices keep 8 significant digits. */
  candle(symbol: string, ts: number, ms: number): SyntheticCandle {
    const asset = this.asset(symbol);
    if (!asset) throw new Error(`synthetic market has no ${symbol}`);
    const p = asset.basePrice;
    const decimals = Math.max(0, 8 - Math.ceil(Math.log10(p)));
    const key = `${symbol}:${ms}`;
    const open = round(p * (0.9 + 0.2 * unit(key, ts)), decimals);
    const close = round(p * (0.9 + 0.2 * unit(key, ts + ms)), decimals);
    const high = round(Math.max(open, close) * (1 + 0.01 * unit(`${key}:h`, ts)), decimals);
    const low = round(Math.min(open, close) * (1 - 0.01 * unit(`${key}:l`, ts)), decimals);
    // Volumes are whole multiples of 1000 base units for cheap coins so bundle conversions stay exact.
    const lot = p < 1 ? 1000 : 0.001;
    const volume = round(lot * (1 + Math.floor(unit(`${key}:v`, ts) * 100_000)), 3);
    const takerBuyVolume = round(lot * Math.floor((volume / lot) * unit(`${key}:b`, ts)), 3);
    const quoteVolume = round(volume * ((open + close) / 2), 4);
    const trades = 1 + Math.floor(unit(`${key}:n`, ts) * 5000);
    return { ts, open, high, low, close, volume, quoteVolume, trades, takerBuyVolume };
  }

  /** Funding rate (fraction) settled at `ts`. */
  fundingRate(symbol: string, ts: number): number {
    return round((unit(`${symbol}:funding`, ts) - 0.3) * 0.0004, 8);
  }

  /** Mark price at `ts`. */
  markPrice(symbol: string, ts: number): number {
    return this.candle(symbol, ts, 60_000).open;
  }

  /** One-sided open interest in base units at `ts`. */
  openInterest(symbol: string, ts: number): number {
    const asset = this.asset(symbol);
    const scale = asset ? 1_000_000 / asset.basePrice : 1;
    return round(scale * (50 + 50 * unit(`${symbol}:oi`, ts)), 3);
  }

  /** Long share (fraction 0..1) of a long/short population at `ts`. */
  longShare(symbol: string, ts: number, kind: string): number {
    return round(0.3 + 0.4 * unit(`${symbol}:ls:${kind}`, ts), 4);
  }

  /** Taker buy and sell volume in base units over the period starting at `ts`. */
  takerVolume(symbol: string, ts: number, ms: number): { buy: number; sell: number } {
    const c = this.candle(symbol, ts, ms);
    return { buy: c.takerBuyVolume, sell: round(c.volume - c.takerBuyVolume, 3) };
  }

  /** Liquidated USD of longs and shorts over the period starting at `ts`. */
  liquidations(symbol: string, ts: number): { longUsd: number; shortUsd: number } {
    return {
      longUsd: round(100_000 * unit(`${symbol}:liqL`, ts), 2),
      shortUsd: round(100_000 * unit(`${symbol}:liqS`, ts), 2),
    };
  }
}
