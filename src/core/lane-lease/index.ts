/** The pure lane-lease core (L1–L9): no I/O, no clock. */
export { normalizePath, normalizeTree, isOnlyGlobs, prefixesCollide, firstOverlap } from './paths.js';
export {
  arbitrate,
  collidingLeases,
  DEFAULT_ARBITER_POLICY,
  type ArbiterPolicy,
  type LaneDecision,
  type LaneRequest,
  type RefuseReason,
} from './arbiter.js';
export { replay, applyRecord, effectOf, changesState, EMPTY_LANE_STATE, type LaneEffect, type LaneSnapshot } from './replay.js';
export { compact } from './compact.js';
export {
  isLeaseExpired,
  leaseExpiresAt,
  withoutExpired,
  DEFAULT_EXPIRY_POLICY,
  type ExpiryContext,
  type ExpiryPolicy,
  type ProcessProbe,
} from './expiry.js';
export { checkGeneration, type GenerationVerdict } from './generations.js';
export { livenessVerdict, DEFAULT_BEAT_WINDOW_MS, type LivenessVerdict } from './liveness-verdict.js';
export { decodeLaneRecord, encodeLaneRecordLine, readJournal, readJournalLines, type JournalReadResult } from './codec.js';
export { parseRunHolder, runHolder, isRunHolder, type RunHolder } from './run-holder.js';
