export type { Clock, Random, TimerHandle } from './clock.js';
export type * from './store.js';
export type * from './lane-store.js';
export type { Provider, ProviderChunk, TurnIdentity, TurnRequest } from './provider.js';
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';
export type { WakeListener, WakeMessage, WakeTransport } from './wake.js';
