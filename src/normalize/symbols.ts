import { UnknownSymbolError } from '../core/errors.js';
import type { Exchange } from '../core/types.js';

/** A venue's perpetual contract and how it maps to the canonical base asset. */
export interface InstrumentInfo {
  /** Venue of the instrument. */
  readonly exchange: Exchange;
  /** The venue's id: `'BTCUSDT'`, `'1000PEPEUSDT'`, `'SHIB1000USDT'`, `'BTC-USDT-SWAP'`. */
  readonly instrument: string;
  /** Canonical base asset: `'BTC'`, `'PEPE'`, `'SHIB'`. */
  readonly symbol: string;
  /** Quote / settlement currency, e.g. `'USDT'`. */
  readonly quote: string;
  /**
   * Base units per quoted unit: `1000` for `1000PEPEUSDT` (a price is for 1,000 PEPE, a quantity counts
   * bundles of 1,000), `1` otherwise. Canonical price = venue price / multiplier; base volume = venue qty × multiplier.
   */
  readonly multiplier: number;
  /** Base units per contract where the venue counts contracts (OKX `ctVal`); `undefined` where quantities are already in (bundles of) the base. */
  readonly contractSize?: number | undefined;
  /** Listing time, epoch ms, where the venue reports it. */
  readonly listedAt?: number | undefined;
  /** Venue status string (`TRADING`, `Trading`, `live`, …). */
  readonly status?: string | undefined;
}

const MULTIPLIER_PREFIX = /^(1000000|100000|10000|1000|100|1M)(?=[A-Z])/;
const MULTIPLIER_SUFFIX = /(?<=[A-Z])(1000000|100000|10000|1000)$/;

/**
 * Splits a venue base asset like `'1000PEPE'`, `'1MBABYDOGE'` or `'SHIB1000'` into the canonical
 * symbol and its multiplier. Names whose digits belong to the coin (`'1INCH'`, `'0G'`, `'2Z'`) are
 * left whole. Venues' instrument lists stay the source of truth: call this on their base-asset field,
 * never on a bare ticker.
 * @example splitMultiplier('1000PEPE') // { symbol: 'PEPE', multiplier: 1000 }
 */
export function splitMultiplier(base: string): { symbol: string; multiplier: number } {
  const prefix = MULTIPLIER_PREFIX.exec(base);
  if (prefix?.[1] && base.length - prefix[1].length >= 2) {
    const digits = prefix[1];
    return { symbol: base.slice(digits.length), multiplier: digits === '1M' ? 1_000_000 : Number(digits) };
  }
  const suffix = MULTIPLIER_SUFFIX.exec(base);
  if (suffix?.[1] && base.length - suffix[1].length >= 2) {
    return { symbol: base.slice(0, -suffix[1].length), multiplier: Number(suffix[1]) };
  }
  return { symbol: base, multiplier: 1 };
}

/**
 * An immutable two-way map between canonical symbols and venue instruments. Build one from
 * `client.instruments()` (clients do this lazily on first use) or from a list you keep.
 * @example
 * import { SymbolRegistry } from 'perpdata/normalize';
 *
 * const registry = new SymbolRegistry([
 *   { exchange: 'binance', instrument: '1000PEPEUSDT', symbol: 'PEPE', quote: 'USDT', multiplier: 1000 },
 * ]);
 * registry.toInstrument('binance', 'PEPE').instrument; // '1000PEPEUSDT'
 */
export class SymbolRegistry {
  readonly #bySymbol = new Map<string, InstrumentInfo>();
  readonly #byInstrument = new Map<string, InstrumentInfo>();

  constructor(instruments: Iterable<InstrumentInfo> = []) {
    for (const info of instruments) {
      // Canonical symbols are upper-case; the first listing of a symbol on a venue wins.
      const symbolKey = `${info.exchange}:${info.symbol.toUpperCase()}`;
      if (!this.#bySymbol.has(symbolKey)) this.#bySymbol.set(symbolKey, info);
      this.#byInstrument.set(`${info.exchange}:${info.instrument}`, info);
    }
  }

  /** The instrument of a canonical symbol on a venue; throws `UnknownSymbolError` when there is none. */
  toInstrument(exchange: Exchange, symbol: string): InstrumentInfo {
    const info = this.#bySymbol.get(`${exchange}:${symbol.toUpperCase()}`);
    if (!info) throw new UnknownSymbolError(symbol, { venue: exchange, endpoint: 'symbol registry' });
    return info;
  }

  /** The instrument entry for a venue id; throws `UnknownSymbolError` when there is none. */
  fromInstrument(exchange: Exchange, instrument: string): InstrumentInfo {
    const info = this.#byInstrument.get(`${exchange}:${instrument}`);
    if (!info) throw new UnknownSymbolError(instrument, { venue: exchange, endpoint: 'symbol registry' });
    return info;
  }

  /** `fromInstrument` that answers `undefined` instead of throwing. */
  findInstrument(exchange: Exchange, instrument: string): InstrumentInfo | undefined {
    return this.#byInstrument.get(`${exchange}:${instrument}`);
  }

  /** Whether the venue lists the canonical symbol. */
  has(exchange: Exchange, symbol: string): boolean {
    return this.#bySymbol.has(`${exchange}:${symbol.toUpperCase()}`);
  }

  /** Every instrument of the registry, optionally of one venue. */
  list(exchange?: Exchange): InstrumentInfo[] {
    const all = [...this.#byInstrument.values()];
    return exchange ? all.filter((i) => i.exchange === exchange) : all;
  }

  /** A new registry with `instruments` added (later entries replace earlier ones). */
  with(instruments: Iterable<InstrumentInfo>): SymbolRegistry {
    return new SymbolRegistry([...this.#byInstrument.values(), ...instruments]);
  }
}
