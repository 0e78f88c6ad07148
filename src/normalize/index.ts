export * from './binance.js';
export * from './numbers.js';
export * from './symbols.js';
