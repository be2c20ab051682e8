import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Scratch directories on disk (S5): one per run id under `root`. Creating is idempotent; removing
 * a missing one is not an error.
 */
export const scratchFs = {
  async create(root: string, name: string): Promise<string> {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    return dir;
  },
  async remove(root: string, name: string): Promise<void> {
    await rm(join(root, name), { recursive: true, force: true });
  },
  async list(root: string): Promise<string[]> {
    try {
      return (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  },
};
