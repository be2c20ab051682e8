import { readFileSync } from 'node:fs';
import { hasProcTable, listProcessGroup } from './proc-table.js';
import { signalProcessGroup } from './process-group.js';

/**
 * Identity and killing of provider process groups whose kernel process died (S4). A group id is a
 * pid, and pids are reused: the start time of the group's leader, recorded when the group started,
 * tells our group apart from a later process that got the same number.
 */

const procTable = hasProcTable();

/**
 * When process `pid` started, in clock ticks since boot (field 22 of `/proc/<pid>/stat`), or
 * undefined when there is no such process or no `/proc` to read it from.
 */
export function processStartTime(pid: number): number | undefined {
  return readStat(pid)?.startTime;
}

/** What `killOrphanGroup` found and did. */
export type OrphanKill =
  /** SIGKILL was sent to the group. */
  | 'killed'
  /** No process of the group is left (ESRCH): nothing to kill. */
  | 'gone'
  /** The group's id now names another process (another start time, or another user's): left alone. */
  | 'reused';

/**
 * SIGKILLs process group `pgid` unless its id was reused: when `leaderStart` is known and a process
 * with pid `pgid` exists with another start time, the number belongs to someone else now (a pid is
 * never reused while a process group of that id has a member, so our group is gone). A leader that
 * exited while members of its group live on is not there to compare; the members are killed.
 * EPERM (the group belongs to another user, so not to a kernel of ours) counts as reused.
 */
export function killOrphanGroup(pgid: number, leaderStart: number | null): OrphanKill {
  const leader = readStat(pgid);
  if (leader !== undefined && leaderStart !== null && leader.startTime !== leaderStart) return 'reused';
  if (procTable && listProcessGroup(pgid).length === 0) return 'gone'; // at most zombies are left
  try {
    return signalProcessGroup(pgid, 'SIGKILL') ? 'killed' : 'gone';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EPERM') return 'reused';
    throw error;
  }
}

function readStat(pid: number): { startTime: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The fields after the command name (which may contain spaces and parentheses) start at field 3;
  // starttime is field 22.
  const startTime = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19]);
  return Number.isInteger(startTime) ? { startTime } : undefined;
}
