// A real, tiny filesystem for disk-full and read-only fault tests: a tmpfs of a few megabytes
// mounted on a fresh directory. Mounting needs root (CAP_SYS_ADMIN); without it the caller skips
// with the reason. The mount is always undone when the test finishes: the processes started on it
// are killed and waited for first (an open file keeps a mount busy).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { isAlive, until } from './processes.js';

export interface TinyFs {
  readonly dir: string;
  /** Kills these processes (and waits until they are gone) before unmounting. */
  track(pid: number): void;
  /** Writes `name` in the mount until the filesystem is full; returns the bytes written. */
  fill(name: string): number;
  /** `mount -o remount,<mode>`: whether it worked and, if not, what mount said. */
  remount(mode: 'ro' | 'rw'): { readonly ok: boolean; readonly error: string };
  free(name: string): void;
}

/** Mounts a tmpfs of `sizeMb`, or says why it cannot (the caller skips the test with that). */
export function mountTinyFs(sizeMb: number): { readonly fs: TinyFs } | { readonly skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hf-tinyfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const said = ((error as { stderr?: Buffer }).stderr?.toString() ?? String(error)).trim();
    return {
      skip: `needs to mount a tmpfs (run the tests as root, or with CAP_SYS_ADMIN); mount said: ${said || String(error)}`,
    };
  }
  const pids: number[] = [];
  onTestFinished(async () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await waitFor(() => pids.every((pid) => !isAlive(pid)), 10_000);
    await unmount(dir);
  });
  return {
    fs: {
      dir,
      track: (pid) => void pids.push(pid),
      fill: (name) => fill(join(dir, name)),
      remount: (mode) => mountCommand(['-o', `remount,${mode}`, dir]),
      free: (name) => unlinkSync(join(dir, name)),
    },
  };
}

function fill(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    // Big writes first, then ever smaller ones for the last partly used page.
    for (const size of [1 << 16, 1 << 12, 1 << 9, 1]) {
      const chunk = Buffer.alloc(size, 0x2a);
      for (;;) {
        try {
          const n = writeSync(fd, chunk);
          written += n;
          if (n < size) break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

function mountCommand(args: string[]): { ok: boolean; error: string } {
  try {
    execFileSync('mount', args, { stdio: 'pipe' });
    return { ok: true, error: '' };
  } catch (error) {
    return { ok: false, error: ((error as { stderr?: Buffer }).stderr?.toString() ?? String(error)).trim() };
  }
}

/** Unmounts, retrying while it is busy; a lazy unmount as the last resort, so nothing stays mounted. */
async function unmount(dir: string): Promise<void> {
  let lastError = '';
  const done = await waitFor(() => {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      return true;
    } catch (error) {
      lastError = ((error as { stderr?: Buffer }).stderr?.toString() ?? String(error)).trim();
      return false;
    }
  }, 5_000);
  if (!done) {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    console.warn(`tiny-fs: ${dir} stayed busy (${lastError}); unmounted lazily`);
  }
  rmSync(dir, { recursive: true, force: true });
}

/** `until` that answers whether the condition came true instead of throwing (cleanup goes on). */
async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  try {
    await until('tiny-fs cleanup', check, () => '', timeoutMs);
    return true;
  } catch {
    return false;
  }
}
