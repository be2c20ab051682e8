/**
 * holdfast public API. Product code reaches concurrency only through these names (K9): the kernel
 * (submit, handles, events), flows and their context, and the stores to construct it with.
 */
export { createKernel } from './runtime/kernel.js';
export type { Kernel, KernelOptions, RunView, ScheduleOptions } from './runtime/kernel.js';
export { defineFlow } from './runtime/flow.js';
export type {
  ChildRun,
  EffectCall,
  EffectOptions,
  Flow,
  FlowContext,
  FlowOptions,
  LaneHandle,
  LaneOptions,
  LaneSpec,
  RetryOptions,
  SpawnOptions,
  StepOptions,
  TurnOptions,
} from './runtime/flow.js';
export type { RunHandle } from './runtime/run-handle.js';
export type { SubmitOptions } from './runtime/submit-command.js';
export type { KernelEvents, KernelEventName } from './runtime/events.js';
export { sqliteStore } from './stores/sqlite/sqlite-store.js';
export type { SqliteStoreOptions } from './stores/sqlite/sqlite-store.js';
export { memoryStore } from './stores/memory/memory-store.js';
export { execProvider } from './providers/exec-provider.js';
export type { ExecProvider, ExecProviderOptions, ExecSession } from './providers/exec-provider.js';
export type {
  NativeSession,
  Provider,
  ProviderChunk,
  SoftStopRequest,
  SteerOutcome,
  TurnHandle,
  TurnRequest,
  TurnIdentity,
} from './ports/provider.js';
export type { Store } from './ports/store.js';
export type { LeaseKeeper, KeptLease } from './ports/lease-keeper.js';
export { createLanes } from './lanes/service.js';
export type { Lanes, LanesOptions, AcquireRequest, AcquireResult, LeaseRequest, LaneStatus, HoldingRun } from './lanes/service.js';
export {
  arbitrate,
  replay,
  compact,
  normalizePath,
  normalizeTree,
  isLeaseExpired,
  checkGeneration,
  livenessVerdict,
  DEFAULT_ARBITER_POLICY,
  DEFAULT_EXPIRY_POLICY,
} from './core/lane-lease/index.js';
export type {
  LaneDecision,
  RefuseReason,
  GenerationVerdict,
  LivenessVerdict,
  ExpiryPolicy,
  ProcessProbe,
} from './core/lane-lease/index.js';
export type { LaneStore } from './ports/lane-store.js';
export type { Clock, Random, TimerHandle } from './ports/clock.js';
export type { Logger } from './ports/logger.js';
export type {
  Json,
  Key,
  RunId,
  Epoch,
  Priority,
  RunStatus,
  PreemptKind,
  RunRecord,
  StepRecord,
  RunError,
  OwnerLease,
  LiveLease,
  FencingToken,
  OperatorAction,
  RunWait,
  WaitKind,
  EffectRecord,
  EffectStatus,
  ScheduleRecord,
  ScheduleTiming,
  StepAttempt,
  LaneRecord,
  LaneState,
  LaneMode,
  LaneOp,
} from './model/index.js';
export { PRIORITIES, RUN_STATUSES, PREEMPT_KINDS } from './model/index.js';
export {
  HoldfastError,
  InvalidInputError,
  UnknownFlowError,
  UnknownProviderError,
  StaleEpochError,
  JournalDivergenceError,
  StoreFormatError,
  KernelStateError,
  RunFailedError,
  TerminalError,
  RetryableError,
  StoreUnavailableError,
  IdempotencyConflictError,
  RunNotFoundError,
  StepTimeoutError,
  ChildFailedError,
  ProviderFailedError,
  ProviderNotFoundError,
} from './errors.js';
export { LaneJournalCorruptError, LaneJournalNotEmptyError, LaneLostError, LaneRefusedError } from './lane-errors.js';
export { defineConfig } from './daemon/config.js';
export type { HoldfastConfig, GithubRoute, WebhookTranslator } from './daemon/config.js';
export type { GithubCommand, GithubCommandType } from './core/github-command.js';
