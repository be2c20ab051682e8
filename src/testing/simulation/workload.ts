import type { CancelMode, Json, PreemptKind, Priority } from '../../model/index.js';
import type { Random } from '../../ports/clock.js';
import type { WorkInput } from './workload-flows.js';

/** A command the workload may submit: a flow and its input; priority and preempt are drawn unless fixed. */
export interface SimulationCommand {
  readonly flow: string;
  readonly input?: Json;
  readonly priority?: Priority;
  readonly preempt?: PreemptKind;
}

/** The seeded workload (I5): how many commands, on which keys, and how often they are cancelled, retried and submitted twice. */
export interface WorkloadOptions {
  /** Keys the commands go to (default `repo:a`, `repo:b`). */
  readonly keys?: readonly string[];
  /** Commands to draw from (default: the built-in `work`/`reply`/`child` workload). */
  readonly commands?: readonly SimulationCommand[];
  /** How many commands are submitted: a number or [min, max] (default [3, 8]). */
  readonly count?: number | readonly [number, number];
  /** Virtual time over which they are submitted, faults injected (default 20 000 ms). */
  readonly durationMs?: number;
  /** Chance that a command is cancelled later (default 0.2), retried by an operator (0.15), submitted twice (0.2). */
  readonly cancelChance?: number;
  readonly retryChance?: number;
  readonly duplicateChance?: number;
  /** Chance that a command is urgent (default 0.3); the rest is normal, or background for one in four. */
  readonly urgentChance?: number;
}

/** One thing the client does at `at` (virtual ms). */
export type ClientAction =
  | {
      readonly at: number;
      readonly kind: 'submit';
      readonly command: number;
      readonly key: string;
      readonly flow: string;
      readonly input: Json;
      readonly priority: Priority;
      readonly preempt?: PreemptKind;
      readonly deadlineMs?: number;
    }
  | { readonly at: number; readonly kind: 'cancel'; readonly command: number; readonly mode: CancelMode }
  | { readonly at: number; readonly kind: 'retry'; readonly command: number };

const PREEMPTS: readonly (PreemptKind | undefined)[] = ['steal', 'steal', 'abort-keep', 'abort-drop', undefined];

/** Draws the client's actions from `random`, sorted by time. Deterministic for a given stream. */
export function generateWorkload(random: Random, options: WorkloadOptions): ClientAction[] {
  const keys = options.keys ?? ['repo:a', 'repo:b'];
  const durationMs = options.durationMs ?? 20_000;
  const [min, max] = typeof options.count === 'number' ? [options.count, options.count] : (options.count ?? [3, 8]);
  const int = (lo: number, hi: number) => lo + Math.floor(random.next() * (hi - lo + 1));
  const chance = (p: number) => random.next() < p;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random.next() * list.length)]!;
  const actions: ClientAction[] = [];
  const count = int(min, max);
  for (let command = 0; command < count; command++) {
    const at = int(0, Math.floor(durationMs * 0.6));
    const key = pick(keys);
    const urgent = chance(options.urgentChance ?? 0.3);
    const drawn = options.commands ? pick(options.commands) : builtInCommand(urgent, keys, random);
    const priority: Priority = drawn.priority ?? (urgent ? 'urgent' : chance(0.25) ? 'background' : 'normal');
    const preempt = priority === 'urgent' ? (drawn.preempt ?? pick(PREEMPTS)) : undefined;
    const deadlineMs = chance(0.1) ? int(3_000, 15_000) : undefined;
    const submit = { kind: 'submit' as const, command, key, flow: drawn.flow, input: drawn.input ?? null, priority };
    actions.push({ at, ...submit, ...(preempt && { preempt }), ...(deadlineMs !== undefined && { deadlineMs }) });
    if (chance(options.duplicateChance ?? 0.2)) actions.push({ at: at + int(0, 5_000), ...submit, ...(preempt && { preempt }) });
    if (chance(options.cancelChance ?? 0.2)) {
      actions.push({ at: at + int(50, 6_000), kind: 'cancel', command, mode: chance(0.7) ? 'abort-drop' : 'abort-keep' });
    }
    if (chance(options.retryChance ?? 0.15)) actions.push({ at: at + int(2_000, 12_000), kind: 'retry', command });
  }
  return actions.sort((a, b) => a.at - b.at || a.command - b.command);
}

/** A command of the built-in workload: `reply` when urgent, else a `work` run with drawn features. */
function builtInCommand(urgent: boolean, keys: readonly string[], random: Random): SimulationCommand {
  const chance = (p: number) => random.next() < p;
  if (urgent) return { flow: 'reply', input: { text: `urgent ${Math.floor(random.next() * 1000)}` } };
  const input: WorkInput = {
    task: `task ${Math.floor(random.next() * 1000)}`,
    turns: 1 + Math.floor(random.next() * 2),
    ...(chance(0.3) && { sleepMs: 200 + Math.floor(random.next() * 3_000) }),
    ...(chance(0.25) && { flaky: true }),
    ...(chance(0.25) && {
      child: {
        ...(chance(0.5) && { key: keys[Math.floor(random.next() * keys.length)]! }),
        ...(chance(0.5) && { sleepMs: 100 + Math.floor(random.next() * 2_000) }),
      },
    }),
    ...(chance(0.4) && { effect: { failOnce: chance(0.3) } }),
    ...(chance(0.08) && { fail: true }),
  };
  return { flow: 'work', input: input as unknown as Json };
}
