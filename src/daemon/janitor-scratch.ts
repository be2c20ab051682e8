import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { scratchFs } from '../platform/scratch-fs.js';
import type { JanitorContext } from './janitor-context.js';

/** A run id as scratch directories are named (runtime/scratch-dirs); anything else is left alone. */
const RUN_DIR = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

/**
 * Removes the scratch directories (S5, `<root>/<runId>`) of runs that ended: completed, failed or
 * cancelled. A directory of a pending run (even one whose owner died: its next owner resumes it),
 * of a run this store does not know, or named like no run id, is left alone. Each directory is
 * first renamed aside, atomically, so of janitors removing it together exactly one does (and
 * counts it). Dies between the rename and the removal: the renamed directory (`.reaped-...`) is
 * removed by the next kernel's scratch sweep at start.
 */
export async function removeFinishedScratch(context: JanitorContext, root: string): Promise<number> {
  let removed = 0;
  for (const name of await scratchFs.list(root)) {
    if (!RUN_DIR.test(name)) continue;
    const run = await context.store.getRun(name);
    if (run === undefined || !(run.status === 'completed' || run.status === 'failed' || run.status === 'cancelled')) continue;
    const aside = join(root, `.reaped-${context.janitorId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)}-${name}`);
    try {
      await rename(join(root, name), aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // another janitor, or the run's kernel, was first
      throw error;
    }
    await rm(aside, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
