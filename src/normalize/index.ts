export * from './binance.js';
export * from './bybit.js';
export * from './coinalyze.js';
export * from './numbers.js';
export * from './okx.js';
export * from './symbols.js';
