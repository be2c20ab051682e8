export type { Json } from './json.js';
export * from './run.js';
export * from './lane.js';
