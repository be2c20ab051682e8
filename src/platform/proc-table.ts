import { readdirSync, readFileSync } from 'node:fs';

/** One row of the Linux process table, as far as process groups care. */
export interface ProcEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  /** The one-letter state from `/proc/<pid>/stat` (`R`, `S`, `D`, `Z` zombie, `X` dead ...). */
  readonly state: string;
}

/** True when this host exposes a Linux-style `/proc` that the helpers below can read. */
export function hasProcTable(): boolean {
  try {
    readFileSync('/proc/self/stat', 'utf8');
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses `/proc/<pid>/stat`. The command name (field 2) is in parentheses and may itself contain
 * spaces and parentheses, so the fields after it are read from the last `)`.
 */
export function parseProcStat(pid: number, stat: string): ProcEntry | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const rest = stat.slice(close + 2).split(' ');
  const state = rest[0];
  const ppid = Number(rest[1]);
  const pgrp = Number(rest[2]);
  if (state === undefined || !Number.isInteger(ppid) || !Number.isInteger(pgrp)) return undefined;
  return { pid, ppid, pgrp, state };
}

/** Every process currently in the table (processes that vanish while being read are skipped). */
export function readProcTable(): ProcEntry[] {
  const entries: ProcEntry[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return entries;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited between readdir and read
    }
    const entry = parseProcStat(pid, stat);
    if (entry) entries.push(entry);
  }
  return entries;
}

/** True for a process that has exited but not yet been reaped by its parent: it runs nothing. */
export function isDeadState(state: string): boolean {
  return state === 'Z' || state === 'X' || state === 'x';
}

/**
 * The pids of the live (not zombie) processes whose process group is `pgid`, from `/proc`.
 * Returns an empty list on hosts without `/proc`.
 */
export function listProcessGroup(pgid: number): number[] {
  return readProcTable()
    .filter((e) => e.pgrp === pgid && !isDeadState(e.state))
    .map((e) => e.pid);
}

/**
 * Which of `pids` are still live members of group `pgid`, reading only their own stat files:
 * a cheap re-check after a full `listProcessGroup` scan has named the members.
 */
export function liveMembers(pgid: number, pids: readonly number[]): number[] {
  return pids.filter((pid) => {
    try {
      const entry = parseProcStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
      return entry !== undefined && entry.pgrp === pgid && !isDeadState(entry.state);
    } catch {
      return false;
    }
  });
}
