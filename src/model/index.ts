export type { Json } from './json.js';
export * from './run.js';
export * from './lane.js';
export * from './wait.js';
export * from './effect.js';
export * from './schedule.js';
