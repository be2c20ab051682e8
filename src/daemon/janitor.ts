import { InvalidInputError, StoreUnavailableError } from '../errors.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import { silentLogger, type Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import { currentProcess, probeProcessAlive } from '../platform/process-liveness.js';
import { systemRandom } from '../platform/system-clock.js';
import { defaultScratchRoot } from '../runtime/scratch-dirs.js';
import type { JanitorContext } from './janitor-context.js';
import { countHalfClaimedEffects } from './janitor-effects.js';
import { reapOrphanGroups } from './janitor-process-groups.js';
import { removeFinishedScratch } from './janitor-scratch.js';
import { removeDeadWakeSockets } from './janitor-wake-sockets.js';

export interface JanitorOptions {
  readonly store: Store;
  readonly clock: Clock;
  /** How often `start()` sweeps again after its first sweep. */
  readonly intervalMs: number;
  /** This host's name as kernels record it (default: the OS host name, which kernels use by default). */
  readonly host?: string;
  /** This janitor's identity in its claims (default: `<host>/<pid>/janitor-<uuid>`). */
  readonly janitorId?: string;
  /** Where runs' scratch directories are (default: the kernels' default, beside the store's files). */
  readonly scratchRoot?: string;
  /** Where kernels' wake sockets are (default: the store's `localDirectory`; none: not swept). */
  readonly socketDir?: string;
  /** How long ended process group records are kept (default one day). */
  readonly processRecordsRetainMs?: number;
  readonly logger?: Logger;
}

/** What one sweep did. Counts are of what this janitor did itself: janitors sweeping together never count one thing twice. */
export interface JanitorReport {
  /** Wake socket files of dead kernel processes removed. */
  readonly wakeSockets: number;
  /** Process groups of dead kernel processes claimed and killed. */
  readonly processGroupsKilled: number;
  /** Process groups of dead kernel processes claimed and found gone (or their id reused by another process). */
  readonly processGroupsGone: number;
  /** Claimed, unrecorded effects of pending runs without a live owner: their next owner re-emits them (reported only). */
  readonly effectsAwaitingRecovery: number;
  /** Claimed, unrecorded effects of runs that ended or do not exist (reported, and logged as a warning). */
  readonly effectsStranded: number;
  /** Scratch directories of ended runs removed. */
  readonly scratchDirs: number;
  /** Ended process group records deleted (retention). */
  readonly processRecordsPruned: number;
  /** Parts of the sweep that failed (logged; the next sweep tries again). */
  readonly failures: number;
}

export interface Janitor {
  /**
   * One sweep (S4): reaps what dead owners left behind, exactly once however many janitors share
   * the store, and never what a live owner holds. A sweep already in progress is joined, not
   * doubled. Never rejects: a part that fails (the store unavailable) is logged and counted in
   * `failures`, and the next sweep tries again. Dies during a sweep: what it claimed and did not
   * finish is reaped by a later sweep (see each part).
   */
  sweep(): Promise<JanitorReport>;
  /** Sweeps now, then every `intervalMs` until `stop()`. Resolves after the first sweep. */
  start(): Promise<void>;
  /** Stops sweeping; resolves once a sweep in progress has finished. */
  stop(): Promise<void>;
}

const DAY_MS = 86_400_000;

/**
 * A janitor for a store: on start and every `intervalMs`, it removes the wake sockets of dead
 * kernel processes of this host, kills the provider process groups they recorded, reports the
 * effects they left half-claimed (the next owner re-emits them; see janitor-effects), removes the
 * scratch directories of ended runs, and prunes old process group records. Time comes from
 * `clock`; process liveness and killing from platform/.
 */
export function createJanitor(options: JanitorOptions): Janitor {
  const { store, clock } = options;
  if (!(typeof options.intervalMs === 'number' && options.intervalMs > 0 && Number.isFinite(options.intervalMs))) {
    throw new InvalidInputError(
      `janitor intervalMs must be a positive number of milliseconds, got ${String(options.intervalMs)}`,
      'invalid_option',
    );
  }
  const self = currentProcess();
  const host = options.host ?? self.host;
  const context: JanitorContext = {
    store,
    clock,
    host,
    janitorId: options.janitorId ?? `${host}/${self.pid}/janitor-${systemRandom.uuid()}`,
    pid: self.pid,
    isAlive: probeProcessAlive,
    logger: options.logger ?? silentLogger,
  };
  const scratchRoot = options.scratchRoot ?? defaultScratchRoot(store.localDirectory);
  const socketDir = options.socketDir ?? store.localDirectory;
  const retainMs = options.processRecordsRetainMs ?? DAY_MS;
  let running: Promise<JanitorReport> | undefined;
  let timer: TimerHandle | undefined;
  let started = false;

  const sweepOnce = async (): Promise<JanitorReport> => {
    let failures = 0;
    const part = async <T>(what: string, fallback: T, work: () => Promise<T> | T): Promise<T> => {
      try {
        return await work();
      } catch (error) {
        failures++;
        const level = error instanceof StoreUnavailableError ? 'warn' : 'error';
        context.logger[level](`holdfast janitor: could not ${what}; the next sweep tries again`, { error: String(error) });
        return fallback;
      }
    };
    const wakeSockets = socketDir === undefined ? 0 : await part('remove wake sockets', 0, () => removeDeadWakeSockets(context, socketDir));
    const groups = await part('reap process groups', { killed: 0, gone: 0, reused: 0 }, () => reapOrphanGroups(context));
    const effects = await part('count half-claimed effects', { awaitingRecovery: 0, stranded: 0 }, () => countHalfClaimedEffects(context));
    const scratchDirs = await part('remove scratch directories', 0, () => removeFinishedScratch(context, scratchRoot));
    const pruned = await part('prune process group records', 0, () => store.pruneProcessGroups(clock.now() - retainMs));
    const report: JanitorReport = {
      wakeSockets,
      processGroupsKilled: groups.killed,
      processGroupsGone: groups.gone + groups.reused,
      effectsAwaitingRecovery: effects.awaitingRecovery,
      effectsStranded: effects.stranded,
      scratchDirs,
      processRecordsPruned: pruned,
      failures,
    };
    const reaped = report.wakeSockets + report.processGroupsKilled + report.processGroupsGone + report.scratchDirs;
    context.logger[reaped > 0 || report.effectsAwaitingRecovery > 0 ? 'info' : 'debug']('holdfast janitor: swept', { ...report });
    return report;
  };

  const sweep = (): Promise<JanitorReport> => {
    running ??= sweepOnce().finally(() => (running = undefined));
    return running;
  };

  const schedule = (): void => {
    timer = clock.setTimer(options.intervalMs, () => {
      timer = undefined;
      void sweep().then(() => {
        if (started) schedule();
      });
    });
  };

  return {
    sweep,
    async start() {
      if (started) return;
      started = true;
      await sweep();
      if (started && timer === undefined) schedule();
    },
    async stop() {
      started = false;
      timer?.cancel();
      timer = undefined;
      await running;
    },
  };
}
