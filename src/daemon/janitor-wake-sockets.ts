import { listWakeSockets, removeWakeSocket } from '../platform/wake-socket-files.js';
import { isDeadHere, type JanitorContext } from './janitor-context.js';

/**
 * Removes the wake sockets (`unixSocketWake`) that kernel processes of this host left in `dir`
 * when they died: a socket whose process is provably dead. A live process's socket, and one whose
 * process cannot be told, stay. Returns how many this call removed (of janitors removing the same
 * file together, one counts it).
 */
export function removeDeadWakeSockets(context: JanitorContext, dir: string): number {
  let removed = 0;
  for (const socket of listWakeSockets(dir)) {
    if (isDeadHere(context, socket.pid) && removeWakeSocket(socket.path)) removed++;
  }
  return removed;
}
