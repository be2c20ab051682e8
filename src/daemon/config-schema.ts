import { z } from 'zod';
import { GITHUB_COMMAND_TYPES } from '../core/github-command.js';
import { HoldfastError } from '../errors.js';
import { PREEMPT_KINDS, PRIORITIES } from '../model/index.js';
import type { HoldfastConfig } from './config.js';

/** The config file is missing, cannot be loaded, or a field does not have the expected shape. */
export class ConfigError extends HoldfastError {
  constructor(message: string) {
    super('invalid_config', message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const flow = z.custom<unknown>(
  (v) => isObject(v) && typeof v.name === 'string' && typeof v.run === 'function',
  'a flow made with defineFlow(name, fn)',
);
const provider = z.custom<unknown>(
  (v) => isObject(v) && (typeof v.runTurn === 'function' || typeof v.startTurn === 'function'),
  'a provider with startTurn(request) or runTurn(request)',
);
const store = z.union(
  [z.string().min(1), z.custom<unknown>((v) => isObject(v) && typeof v.enqueue === 'function' && typeof v.close === 'function')],
  { error: 'a SQLite file path (or postgres:// URL), or a store instance such as sqliteStore({ path })' },
);
const translator = z.custom<unknown>(
  (v) => isObject(v) && typeof v.translate === 'function' && (v.verify === undefined || typeof v.verify === 'function'),
  'an object with translate(request) and optionally verify(request)',
);
const positiveMs = z.number().int().positive();
const route = z.strictObject({
  flow: z.string().min(1),
  priority: z.enum(PRIORITIES).optional(),
  preempt: z.enum(PREEMPT_KINDS).optional(),
});

const schema = z.strictObject({
  store,
  flows: z.array(flow).min(1, 'at least one flow made with defineFlow'),
  providers: z.record(z.string(), provider).optional(),
  http: z.strictObject({ host: z.string().min(1).optional(), port: z.number().int().min(0).max(65535).optional() }).optional(),
  ingress: z
    .strictObject({
      github: z
        .strictObject({
          secret: z.string().min(1).optional(),
          routes: z.partialRecord(z.enum(GITHUB_COMMAND_TYPES), route).optional(),
          botLogins: z.array(z.string().min(1)).optional(),
        })
        .optional(),
      translators: z
        .record(
          z
            .string()
            .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a lower-case name usable in a URL')
            .refine((n) => n !== 'github', 'github is the built-in route'),
          translator,
        )
        .optional(),
      bodyLimitBytes: z.number().int().positive().optional(),
    })
    .optional(),
  adminToken: z.string().min(16, 'a token of at least 16 characters').optional(),
  workers: z.number().int().min(0).max(64).optional(),
  kernel: z
    .strictObject({
      concurrency: z.number().int().positive().optional(),
      ownerTtlMs: positiveMs.optional(),
      hungAfterMs: positiveMs.optional(),
      interruptGraceMs: positiveMs.optional(),
      pollIntervalMs: positiveMs.optional(),
      retention: z.strictObject({ completedAfterMs: z.number().int().min(0) }).optional(),
    })
    .optional(),
  schedules: z.array(z.looseObject({ id: z.string().min(1), key: z.string().min(1), flow: z.string().min(1) })).optional(),
  shutdown: z.strictObject({ timeoutMs: positiveMs.optional() }).optional(),
  supervisor: z
    .strictObject({
      maxRestarts: z.number().int().min(0).optional(),
      windowMs: positiveMs.optional(),
      backoffMs: positiveMs.optional(),
      hungAfterMs: positiveMs.optional(),
      killHung: z.boolean().optional(),
    })
    .optional(),
  janitor: z.strictObject({ intervalMs: positiveMs.optional() }).optional(),
  log: z.strictObject({ level: z.enum(['debug', 'info', 'warn', 'error']).optional() }).optional(),
});

/** Whether `host` is a loopback address (the admin API may then run without a token). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Checks a config module's export. Throws ConfigError naming every bad field (`ingress.github.routes.pr_comment.flow`)
 * with the expected shape, and the cross-field rules: a token when bound off loopback, a store
 * location for worker processes, routes only to flows the config registers.
 */
export function validateConfig(value: unknown, source: string): HoldfastConfig {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.length ? issue.path.join('.') : '(the config)'}: ${issue.message}`);
    throw new ConfigError(`${source} is not a valid holdfast config:\n${lines.join('\n')}`);
  }
  const config = value as HoldfastConfig;
  const problems: string[] = [];
  const host = config.http?.host ?? '127.0.0.1';
  if (!isLoopback(host) && !config.adminToken)
    problems.push(`  adminToken: required when http.host is ${host} (off loopback); set it or HOLDFAST_ADMIN_TOKEN`);
  if ((config.workers ?? 0) > 0 && typeof config.store !== 'string')
    problems.push(
      '  store: worker processes open the store themselves, so with workers > 0 give a location (a file path), not an instance',
    );
  const flows = new Set(config.flows.map((f) => f.name));
  for (const [type, r] of Object.entries(config.ingress?.github?.routes ?? {}))
    if (r && !flows.has(r.flow))
      problems.push(`  ingress.github.routes.${type}.flow: no flow named "${r.flow}" in flows (known: ${[...flows].join(', ')})`);
  if (config.ingress?.github?.routes && !config.ingress.github.secret)
    problems.push('  ingress.github.secret: required to verify X-Hub-Signature-256; set it or HOLDFAST_GITHUB_SECRET');
  if (problems.length) throw new ConfigError(`${source} is not a valid holdfast config:\n${problems.join('\n')}`);
  return config;
}
