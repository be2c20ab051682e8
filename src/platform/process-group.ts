import { hasProcTable, listProcessGroup, liveMembers } from './proc-table.js';

/**
 * Signals and liveness of whole process groups. A provider child leads its own group (see
 * `spawnProcessGroup`), so signalling `-pgid` reaches it and everything it started that did not
 * deliberately leave the group.
 */

const procTable = hasProcTable();

/**
 * Sends `signal` to every process of group `pgid`. Returns false when the group no longer exists
 * (ESRCH); other failures (EPERM) are thrown.
 */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  assertGroupId(pgid);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/**
 * True while any process of group `pgid` is still running. Zombies (exited, not yet reaped by a
 * parent — common in containers whose init does not reap orphans) count as gone: they run nothing
 * and hold nothing but a table slot. Without `/proc` this falls back to `kill(-pgid, 0)` alone.
 */
export function isProcessGroupAlive(pgid: number): boolean {
  if (!signalProcessGroup(pgid, 0)) return false;
  if (!procTable) return true;
  return listProcessGroup(pgid).length > 0;
}

export interface KillGroupOptions {
  /** Time between SIGTERM and SIGKILL. Default 2000 ms. */
  readonly graceMs?: number;
  /** How long to wait for the group to vanish after SIGKILL before giving up. Default 5000 ms. */
  readonly killWaitMs?: number;
}

/**
 * Kills group `pgid`: SIGTERM, then SIGKILL if anything is still alive after `graceMs`. Resolves
 * `true` once no live process of the group remains, `false` if something survived SIGKILL for
 * `killWaitMs` (a process stuck in uninterruptible sleep). Never rejects.
 */
export async function killProcessGroup(pgid: number, options: KillGroupOptions = {}): Promise<boolean> {
  const graceMs = options.graceMs ?? 2000;
  const killWaitMs = options.killWaitMs ?? 5000;
  if (!trySignal(pgid, 'SIGTERM')) return true;
  if (await waitForProcessGroupExit(pgid, graceMs)) return true;
  if (!trySignal(pgid, 'SIGKILL')) return true;
  return waitForProcessGroupExit(pgid, killWaitMs);
}

/**
 * Polls until no live process of group `pgid` remains (true) or `timeoutMs` passes (false).
 * Yields before the first check, so a caller signalling from an abort listener is not held up.
 * One full `/proc` scan names the group's members; later polls (every 1 ms at first, backing off
 * to 50 ms) re-read only those members' stat files, and a final full scan confirms that nothing
 * new joined the group meanwhile. Without `/proc`, `kill(-pgid, 0)` alone decides.
 */
export async function waitForProcessGroupExit(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let interval = 1;
  await new Promise<void>((resolve) => setImmediate(resolve));
  let members: number[] | undefined;
  for (;;) {
    if (!signalProcessGroup(pgid, 0)) return true;
    if (!procTable) members = [pgid];
    else if (members === undefined || liveMembers(pgid, members).length === 0) {
      members = listProcessGroup(pgid);
      if (members.length === 0) return true;
    }
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await new Promise<void>((resolve) => setTimeout(resolve, Math.min(interval, left)));
    interval = Math.min(interval * 2, 50);
  }
}

function trySignal(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    return signalProcessGroup(pgid, signal);
  } catch {
    // EPERM: the group id now names processes we do not own, so ours are gone.
    return false;
  }
}

function assertGroupId(pgid: number): void {
  // -0 and -1 would signal our own group or every process we may signal: never do that.
  if (!Number.isInteger(pgid) || pgid <= 1) throw new RangeError(`not a process group id: ${pgid}`);
}
