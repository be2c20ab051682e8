import type { Provider } from '../ports/provider.js';
import type { Store } from '../ports/store.js';
import type { Flow } from '../runtime/flow.js';
import type { ScheduleOptions } from '../runtime/schedules.js';
import type { GithubCommandType } from '../core/github-command.js';
import type { WebhookTranslator } from './ingress/custom-ingress.js';
import type { GithubRoute } from './ingress/github-route.js';

export type { GithubRoute, WebhookTranslator };

/**
 * What `holdfast serve` runs: the default export of `holdfast.config.{ts,js,mjs,json}`, written
 * with `defineConfig`. Every field is checked at start; an error names the field and the expected
 * shape.
 */
export interface HoldfastConfig {
  /**
   * A store instance, or a location: a SQLite file path (relative to the config file) or a
   * `postgres://` URL. Worker processes (`workers` > 0) need a location, since each opens its own.
   */
  readonly store: Store | string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- flows of any input/output types
  readonly flows: readonly Flow<any, unknown>[];
  readonly providers?: Readonly<Record<string, Provider>>;
  /** HTTP bind; default 127.0.0.1:7420. Port 0 picks a free port. */
  readonly http?: { readonly host?: string; readonly port?: number };
  readonly ingress?: {
    readonly github?: {
      /** The webhook secret; `HOLDFAST_GITHUB_SECRET` in the environment wins. */
      readonly secret?: string;
      readonly routes?: Partial<Record<GithubCommandType, GithubRoute>>;
      /** Logins whose comments and reviews never trigger anything (the bot's own). */
      readonly botLogins?: readonly string[];
    };
    readonly translators?: Readonly<Record<string, WebhookTranslator>>;
    /** Largest webhook body accepted, in bytes (default 1 MiB); larger is answered 413. */
    readonly bodyLimitBytes?: number;
  };
  /** Bearer token of the admin API; `HOLDFAST_ADMIN_TOKEN` wins. Required when bound off loopback. */
  readonly adminToken?: string;
  /** 0 (default): the kernel runs in the daemon's process. N: N supervised worker processes. */
  readonly workers?: number;
  readonly kernel?: {
    readonly concurrency?: number;
    readonly ownerTtlMs?: number;
    readonly hungAfterMs?: number;
    readonly interruptGraceMs?: number;
    readonly pollIntervalMs?: number;
    readonly retention?: { readonly completedAfterMs: number };
  };
  readonly schedules?: readonly ScheduleOptions[];
  readonly shutdown?: {
    /** Past this, teardown exits anyway; everything left is recovered by the next start (default 30 000). */
    readonly timeoutMs?: number;
  };
  readonly supervisor?: {
    /** Restarts allowed within `windowMs` before the daemon gives up (default 5 in 60 000 ms). */
    readonly maxRestarts?: number;
    readonly windowMs?: number;
    /** First restart delay, doubled per restart in the window up to 30 s (default 500 ms). */
    readonly backoffMs?: number;
    /** A worker whose event loop is silent this long is reported hung (default 30 000 ms). */
    readonly hungAfterMs?: number;
    /** Kill and restart a hung worker (default false: a slow worker is never restarted). */
    readonly killHung?: boolean;
  };
  readonly janitor?: { readonly intervalMs?: number };
  readonly log?: { readonly level?: 'debug' | 'info' | 'warn' | 'error' };
}

/** Types a config module's default export; returns it unchanged. */
export function defineConfig(config: HoldfastConfig): HoldfastConfig {
  return config;
}
