export * from './errors.js';
export * from './intervals.js';
export * from './redact.js';
export * from './time.js';
export * from './types.js';
