import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isDeadState, parseProcStat } from './proc-table.js';

/**
 * Process liveness and host identity, recorded with owner leases (K1) and lane leases (L6) so a
 * holder on this host whose process is gone can be recognised. Decisions in core/ never read these
 * themselves; they are passed in.
 */

/**
 * `true` if a process with this pid exists on this host, `false` if none does (a zombie, dead but
 * not yet reaped, counts as none), `undefined` if it cannot tell.
 */
export function probeProcessAlive(pid: number): boolean | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    if (code === 'EPERM') return true;
    return undefined;
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    const entry = parseProcStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return entry !== undefined && isDeadState(entry.state);
  } catch {
    return false;
  }
}

/** This process's host name and pid. */
export function currentProcess(): { host: string; pid: number } {
  return { host: hostname(), pid: process.pid };
}
