/** The signals that end a daemon, and the exit code each calls for (128 + signal number). */
export const TERMINATION_EXIT = { SIGTERM: 143, SIGINT: 130 } as const;
export type TerminationSignal = keyof typeof TERMINATION_EXIT;

/**
 * Funnels SIGTERM and SIGINT into `onSignal` (S3). Node's default (exit at once) is replaced for
 * both, so a second signal during teardown reaches `onSignal` too, which decides to ignore it.
 * Returns a function that restores the defaults.
 */
export function onTerminationSignal(onSignal: (signal: TerminationSignal) => void): () => void {
  const handlers = (Object.keys(TERMINATION_EXIT) as TerminationSignal[]).map((signal) => {
    const handler = () => onSignal(signal);
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  return () => handlers.forEach((off) => off());
}

/** Ends this process with `code` once pending output is written (stdout/stderr are flushed by Node on exit). */
export function exitProcess(code: number): never {
  process.exit(code);
}

/** Calls `onLost` when the parent process's IPC channel closes (the parent died or let go of this process). */
export function onParentGone(onLost: () => void): void {
  process.on('disconnect', onLost);
}

/** Sends a message to the parent over the IPC channel, if there is one; false when it is gone. */
export function sendToParent(message: unknown): boolean {
  if (!process.send || !process.connected) return false;
  try {
    return process.send(message);
  } catch {
    return false;
  }
}

/** Receives messages the parent sends over the IPC channel. */
export function onParentMessage(handler: (message: unknown) => void): void {
  process.on('message', handler);
}
