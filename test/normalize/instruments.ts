/** Binance instruments the normaliser tests share. */
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
