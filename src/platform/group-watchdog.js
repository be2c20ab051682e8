// Process-group watchdog for provider children. Plain JavaScript so that it starts with bare
// `node` (no TypeScript loader) from both src/ and an installed package.
//
//   node group-watchdog.js <program> [args...]
//
// The kernel spawns this script detached, so it leads a new process group, with fd 3 a socket
// whose other end only the kernel holds (the lifeline). It then:
//   - spawns <program> in the same group, with fds 0-2 passed straight through (no copying) and
//     fd 3 replaced by /dev/null so the lifeline is not inherited;
//   - reports on fd 3, one JSON line each: {"event":"spawned","pid"}, {"event":"spawn_error",
//     "code","message"} (then exits 127), {"event":"exit","code","signal"} (then exits with the
//     child's code, or 128 + signal number);
//   - when the lifeline reaches EOF — the kernel exited or was SIGKILLed, the OS closes its end
//     either way — sends SIGKILL to its whole group, itself included. This is what makes provider
//     children die with the kernel.
// SIGTERM/SIGINT/SIGHUP sent to the group are ignored here once the child exists: the child
// receives them too, and the watchdog must outlive it so the lifeline stays watched until the group
// is gone. One that arrives before the child was spawned ends the group at once, so the child is
// never started after its turn was already aborted.
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants } from 'node:os';

const LIFELINE_FD = 3;
const [program, ...args] = process.argv.slice(2);

function report(message) {
  try {
    writeSync(LIFELINE_FD, `${JSON.stringify(message)}\n`);
  } catch {
    // The kernel is gone; the lifeline handler kills the group.
  }
}

function killOwnGroup() {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } finally {
    process.exit(137);
  }
}

let child;
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => {
    if (child === undefined) killOwnGroup();
  });
}

const lifeline = new Socket({ fd: LIFELINE_FD, readable: true, writable: false });
lifeline.on('data', () => {});
lifeline.on('end', killOwnGroup);
lifeline.on('close', killOwnGroup);
lifeline.on('error', killOwnGroup);

if (program === undefined) {
  report({ event: 'spawn_error', code: 'EINVAL', message: 'no program given' });
  process.exit(127);
}

child = spawn(program, args, { stdio: ['inherit', 'inherit', 'inherit', 'ignore'] });
child.on('spawn', () => report({ event: 'spawned', pid: child.pid }));
child.on('error', (err) => {
  report({ event: 'spawn_error', code: err.code ?? 'UNKNOWN', message: err.message });
  process.exit(127);
});
child.on('exit', (code, signal) => {
  report({ event: 'exit', code, signal });
  process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
});
