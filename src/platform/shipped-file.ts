import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const found = new Map<string, string>();

/**
 * A plain JavaScript file shipped in `src/platform/` (the group watchdog, the thread bootstrap):
 * beside this module when running from source, or in `src/` of the package when running from
 * the compiled `dist/`, which does not hold copies of them.
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

/**
 * The `file:` URL of module `name` beside the module at `importMetaUrl`, with that module's own
 * extension (`.ts` from source, `.js` from the compiled package), for loading in a worker thread.
 */
export function siblingModule(importMetaUrl: string, name: string): string {
  const extension = importMetaUrl.endsWith('.ts') ? '.ts' : '.js';
  return pathToFileURL(join(dirname(fileURLToPath(importMetaUrl)), `${name}${extension}`)).href;
}
