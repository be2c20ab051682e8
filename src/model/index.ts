export type { Json } from './json.js';
export * from './run.js';
