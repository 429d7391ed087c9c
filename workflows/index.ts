// The workflow bundle's entry: every workflow type the worker serves.
export { selfTest } from './self-test.js';
export { uyuniSync } from './sync.js';
export { queuePatches } from './queue.js';
