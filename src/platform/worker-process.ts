import { fork, type ChildProcess } from 'node:child_process';

/** A worker child process with an IPC channel, as a supervisor sees it. */
export interface WorkerProcess {
  readonly pid: number;
  send(message: unknown): boolean;
  /** Sends `signal` to the worker; false if it is already gone. */
  kill(signal: NodeJS.Signals): boolean;
  onMessage(handler: (message: unknown) => void): void;
  /** Called once when the worker has exited (code, or the signal that ended it). */
  onExit(handler: (code: number | null, signal: NodeJS.Signals | null) => void): void;
}

/**
 * Forks `modulePath` as a worker: the same Node flags as this process (so a TypeScript loader
 * carries over), its own stdio passed through, an IPC channel. If the worker cannot be spawned,
 * `onExit` reports it as an exit with code 1.
 */
export function forkWorker(modulePath: string, args: readonly string[], env: NodeJS.ProcessEnv): WorkerProcess {
  const child: ChildProcess = fork(modulePath, [...args], {
    env,
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exited = false;
  const exitHandlers: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];
  const finish = (code: number | null, signal: NodeJS.Signals | null) => {
    if (exited) return;
    exited = true;
    for (const handler of exitHandlers) handler(code, signal);
  };
  child.on('exit', finish);
  child.on('error', () => finish(1, null));
  return {
    pid: child.pid ?? -1,
    send: (message) => {
      if (!child.connected) return false;
      try {
        return child.send(message as never, () => {}); // a failed send means the worker is going; its exit says so
      } catch {
        return false;
      }
    },
    kill: (signal) => !exited && child.kill(signal),
    onMessage: (handler) => child.on('message', handler),
    onExit: (handler) => exitHandlers.push(handler),
  };
}
