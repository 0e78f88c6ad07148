export * from './clients/index.js';
export * from './core/index.js';
export * from './derive/index.js';
export * from './normalize/index.js';
export * from './pipeline/index.js';
export * from './storage/index.js';
