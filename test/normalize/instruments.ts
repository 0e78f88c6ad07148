/** Instruments the normaliser tests share. */
import type { InstrumentInfo } from '../../src/normalize/symbols.js';

export const BTC: InstrumentInfo = {
  exchange: 'binance',
  instrument: 'BTCUSDT',
  symbol: 'BTC',
  quote: 'USDT',
  multiplier: 1,
};

/** A 1000-multiplier contract: prices per one PEPE, volumes in PEPE. */
export const PEPE: InstrumentInfo = {
  exchange: 'binance',
  instrument: '1000PEPEUSDT',
  symbol: 'PEPE',
  quote: 'USDT',
  multiplier: 1000,
};

/** Bybit's 1000-multiplier PEPE contract. */
export const BYBIT_PEPE: InstrumentInfo = {
  exchange: 'bybit',
  instrument: '1000PEPEUSDT',
  symbol: 'PEPE',
  quote: 'USDT',
  multiplier: 1000,
};

/** OKX's PEPE swap: one contract is 10,000,000 PEPE. */
export const OKX_PEPE: InstrumentInfo = {
  exchange: 'okx',
  instrument: 'PEPE-USDT-SWAP',
  symbol: 'PEPE',
  quote: 'USDT',
  multiplier: 1,
  contractSize: 10_000_000,
};
