import { killOrphanGroup } from '../platform/orphan-process-group.js';
import { isDeadHere, type JanitorContext } from './janitor-context.js';

/** Open records looked at per sweep. */
const RECORDS_PER_SWEEP = 1_000;

export interface ReapedGroups {
  /** Claimed and sent SIGKILL. */
  readonly killed: number;
  /** Claimed, and nothing of the group was left. */
  readonly gone: number;
  /** Claimed, and the group's id now names another process (left alone). */
  readonly reused: number;
}

/**
 * Reaps the provider process groups recorded by kernel processes of this host that are dead (S4):
 * each is claimed in the store first (`claimOrphanReap`: one janitor wins), then killed (SIGKILL
 * to the group, unless its id now belongs to another process), then its record is ended. A group
 * recorded by a live process, or by a process on another host, is never touched.
 *
 * Dies after a claim and before the kill: the claim expires (REAP_CLAIM_TTL_MS) and a later sweep
 * reaps the group. Dies after the kill and before the end: the record stays open; a later claim
 * finds the group gone and ends it.
 */
export async function reapOrphanGroups(context: JanitorContext): Promise<ReapedGroups> {
  const { store, clock, janitorId } = context;
  const counts = { killed: 0, gone: 0, reused: 0 };
  const open = await store.listProcessGroups({ open: true, limit: RECORDS_PER_SWEEP });
  for (const record of open) {
    if (record.host !== context.host || !isDeadHere(context, record.pid)) continue;
    if (!(await store.claimOrphanReap(record.id, janitorId, clock.now()))) continue;
    const outcome = killOrphanGroup(record.pgid, record.leaderStart);
    counts[outcome]++;
    context.logger.info('holdfast janitor: reaped the process group of a dead kernel', {
      pgid: record.pgid,
      ownerId: record.ownerId,
      runId: record.runId,
      outcome,
    });
    await store.endProcessGroup(record.pgid, record.ownerId, clock.now());
  }
  return counts;
}
