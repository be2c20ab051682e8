// Which peers are installed in bench/peers/node_modules, and at which version.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PEERS = ['@dbos-inc/dbos-sdk', 'graphile-worker', 'pg-boss', 'pg'] as const;
const modules = fileURLToPath(new URL('./node_modules/', import.meta.url));

/** The installed version of `name` in bench/peers/node_modules, or null when it is not installed. */
export function installedVersion(name: string): string | null {
  const file = `${modules}${name}/package.json`;
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : null;
}

/** The peers missing from bench/peers/node_modules. */
export function missingPeers(): string[] {
  return PEERS.filter((name) => installedVersion(name) === null);
}
