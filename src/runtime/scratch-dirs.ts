import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { scratchFs } from '../platform/scratch-fs.js';

/**
 * Per-run scratch directories (S5): `<root>/<runId>`, created on a run's first `ctx.scratchDir()`
 * (only a runtime that holds the run's key gets there) and removed when the run ends. A crash
 * leaves the directory of a run in flight; it is removed when the run ends after recovery, and
 * `sweep` removes those of runs that ended meanwhile.
 */
export interface ScratchDirs {
  readonly root: string;
  create(runId: string): Promise<string>;
  remove(runId: string): Promise<void>;
  /** Removes the directories of runs that `ended` says are over; returns their ids. */
  sweep(ended: (runId: string) => Promise<boolean>): Promise<string[]>;
}

const RUN_ID = /^[A-Za-z0-9._-]{1,200}$/;

export function scratchDirs(root: string): ScratchDirs {
  const checked = (runId: string) => {
    if (!RUN_ID.test(runId))
      throw new InvalidInputError(`run id ${JSON.stringify(runId)} cannot name a scratch directory`, 'invalid_run_id');
    return runId;
  };
  return {
    root,
    create: (runId) => scratchFs.create(root, checked(runId)),
    remove: (runId) => scratchFs.remove(root, checked(runId)),
    async sweep(ended) {
      const removed: string[] = [];
      for (const name of await scratchFs.list(root)) {
        if (RUN_ID.test(name) && (await ended(name))) {
          await scratchFs.remove(root, name);
          removed.push(name);
        }
      }
      return removed;
    },
  };
}

/** Where scratch directories go by default: beside the store's files, else the OS temp dir. */
export function defaultScratchRoot(localDirectory: string | undefined): string {
  return join(localDirectory ?? tmpdir(), 'holdfast-scratch');
}
