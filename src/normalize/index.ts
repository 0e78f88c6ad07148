export * from './numbers.js';
export * from './symbols.js';
