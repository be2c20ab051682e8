import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const found = new Map<string, string>();

/**
 * A plain JavaScript file shipped in `src/platform/` (the group watchdog, the lease keeper thread):
 * beside this module, whether it runs from source or from the compiled `dist/` (the build copies
 * them), else in `src/` of the package.
 */
export function platformScript(name: string): string {
  const cached = found.get(name);
  if (cached !== undefined) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, name), join(here, '..', '..', '..', 'src', 'platform', name)];
  const path = candidates.find((c) => existsSync(c));
  if (path === undefined) throw new Error(`holdfast: ${name} not found (looked in ${candidates.join(', ')})`);
  found.set(name, path);
  return path;
}

/** The `file:` URL of the file `name` (with its extension) in the directory of `importMetaUrl`. */
export function siblingFile(importMetaUrl: string, name: string): string {
  return pathToFileURL(join(dirname(fileURLToPath(importMetaUrl)), name)).href;
}
