import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The wake socket files that `unixSocketWake` leaves in a directory, as a janitor sees them. A
 * kernel listens on `hf-wake-<pid>-<random>.sock` and removes it on close; a killed kernel leaves
 * it behind. The pid in the name is the listening process's, on this host.
 */
const WAKE_SOCKET_NAME = /^hf-wake-(\d+)-[0-9a-f]+\.sock$/;

export interface WakeSocketFile {
  readonly path: string;
  /** The process that listened on it. */
  readonly pid: number;
}

/** The wake sockets in `dir` (none when it does not exist); other files are never listed. */
export function listWakeSockets(dir: string): WakeSocketFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const found: WakeSocketFile[] = [];
  for (const name of names) {
    const match = WAKE_SOCKET_NAME.exec(name);
    if (!match) continue;
    const path = join(dir, name);
    try {
      if (!lstatSync(path).isSocket()) continue;
    } catch {
      continue; // removed meanwhile
    }
    found.push({ path, pid: Number(match[1]) });
  }
  return found;
}

/**
 * Removes a wake socket file. True when this call removed it; false when it was already gone
 * (another janitor removed it first), so of two concurrent removals exactly one reports it.
 */
export function removeWakeSocket(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
