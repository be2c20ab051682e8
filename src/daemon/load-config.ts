import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HoldfastConfig } from './config.js';
import { ConfigError, validateConfig } from './config-schema.js';

/** Config file names looked for in the working directory, in this order. */
export const CONFIG_NAMES = ['holdfast.config.ts', 'holdfast.config.mjs', 'holdfast.config.js', 'holdfast.config.json'] as const;

/** A loaded config and where it came from (relative store paths resolve against `dir`). */
export interface LoadedConfig {
  readonly config: HoldfastConfig;
  readonly file: string;
  readonly dir: string;
}

/** Finds the config: `explicit` (relative to `cwd`) or the first of CONFIG_NAMES in `cwd`. */
export function findConfigFile(cwd: string, explicit?: string): string {
  if (explicit !== undefined) {
    const file = resolve(cwd, explicit);
    if (!existsSync(file)) throw new ConfigError(`no config file at ${file}; check --config`);
    if (statSync(file).isDirectory()) throw new ConfigError(`${file} is a directory; --config takes a file`);
    return file;
  }
  for (const name of CONFIG_NAMES) {
    const file = resolve(cwd, name);
    if (existsSync(file)) return file;
  }
  throw new ConfigError(`no ${CONFIG_NAMES.join(', ')} in ${cwd}; create one (see the README) or pass --config FILE`);
}

/**
 * Loads and validates a config module (TypeScript through tsx, JavaScript, or JSON). In a JSON
 * config, `flows` and `providers` are module paths whose default export is the array or record.
 * `HOLDFAST_GITHUB_SECRET` and `HOLDFAST_ADMIN_TOKEN` in `env` override the file's values.
 */
export async function loadConfig(file: string, env: Readonly<Record<string, string | undefined>>): Promise<LoadedConfig> {
  const dir = dirname(file);
  let raw = await importConfig(file);
  if (file.endsWith('.json') && typeof raw === 'object' && raw !== null)
    raw = await resolveModuleFields(raw as Record<string, unknown>, dir, file);
  const withEnv = applyEnv(raw, env);
  const config = validateConfig(withEnv, file);
  const store =
    typeof config.store === 'string' && !/^[a-z]+:\/\//.test(config.store) && !isAbsolute(config.store)
      ? resolve(dir, config.store)
      : config.store;
  return { config: { ...config, store }, file, dir };
}

async function importConfig(file: string): Promise<unknown> {
  try {
    if (file.endsWith('.json')) return JSON.parse(readFileSync(file, 'utf8'));
    if (file.endsWith('.ts')) {
      const { tsImport } = await import('tsx/esm/api').catch(() => {
        throw new ConfigError(`${file} is TypeScript: install tsx (npm install tsx) or write holdfast.config.mjs`);
      });
      return unwrapDefault(await tsImport(pathToFileURL(file).href, import.meta.url), file);
    }
    return unwrapDefault(await import(pathToFileURL(file).href), file);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`could not load ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function unwrapDefault(module: Record<string, unknown>, file: string): unknown {
  let value = module.default;
  // A TypeScript module compiled to CommonJS nests the default export once more.
  if (typeof value === 'object' && value !== null && 'default' in value && !('store' in value)) value = value.default;
  if (value === undefined) throw new ConfigError(`${file} has no default export; export default defineConfig({ ... })`);
  return value;
}

async function resolveModuleFields(raw: Record<string, unknown>, dir: string, file: string): Promise<Record<string, unknown>> {
  const out = { ...raw };
  for (const field of ['flows', 'providers'] as const) {
    if (typeof raw[field] !== 'string') continue;
    const path = resolve(dir, raw[field]);
    try {
      const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
      out[field] = module.default ?? (field === 'flows' ? Object.values(module) : module);
    } catch (error) {
      throw new ConfigError(`${file}: ${field} names ${path}, which could not be loaded: ${(error as Error).message}`);
    }
  }
  return out;
}

function applyEnv(raw: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const config = raw as { ingress?: { github?: object } };
  const secret = env.HOLDFAST_GITHUB_SECRET;
  const token = env.HOLDFAST_ADMIN_TOKEN;
  return {
    ...config,
    ...(secret && { ingress: { ...config.ingress, github: { ...config.ingress?.github, secret } } }),
    ...(token && { adminToken: token }),
  };
}
