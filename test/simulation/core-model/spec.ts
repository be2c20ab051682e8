import type { InterruptReason } from '../../../src/core/interrupt.js';
import type { Priority } from '../../../src/model/index.js';
import { pending, type Command, type ModelKey, type ModelState, type RunState } from './model.js';

/*
 * The requirements, written out independently of the core's own functions, so that the
 * exploration compares the decisions with what they must be rather than with themselves.
 */

const RANK: Record<Priority, number> = { urgent: 0, normal: 1, background: 2 };

/**
 * K4, K6, D8 and the cancel rule: every pending run with an abort-drop request is dropped; of the
 * others, those queued or running, or waiting with their time come (a parked run's at once), the
 * claim takes one left running first, then urgent ones, then parked ones, then normal before
 * background, oldest first within each.
 */
export function expectedClaim(s: ModelState, commands: readonly Command[], key: ModelKey): { drop: number[]; claim: number | undefined } {
  const mine = s.runs.map((run, index) => ({ run, index })).filter(({ run, index }) => commands[index]!.key === key && pending(run));
  const drop = mine.filter(({ run }) => run.cancel === 'abort-drop').map(({ index }) => index);
  const candidates = mine.filter(({ run }) => run.cancel !== 'abort-drop' && due(run, s.now));
  const order = ({ run, index }: { run: RunState; index: number }) => [
    run.status === 'running' ? 0 : 1,
    commands[index]!.priority === 'urgent' ? 0 : 1,
    run.parked ? 0 : 1,
    RANK[commands[index]!.priority],
    run.seq,
  ];
  candidates.sort((a, b) => {
    const x = order(a);
    const y = order(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return 0;
  });
  return { drop: drop.sort(), claim: candidates[0]?.index };
}

function due(run: RunState, now: number): boolean {
  if (run.status === 'queued' || run.status === 'running') return true;
  return run.status === 'waiting' && run.wakeAt !== null && run.wakeAt <= now;
}

/** K6 and D8: what an interruption leaves the run as. */
export function expectedEffect(reason: InterruptReason): { status: RunState['status']; parked: boolean } {
  if (reason.kind === 'preempt' && reason.mode === 'steal') return { status: 'waiting', parked: true };
  const mode = reason.kind === 'preempt' || reason.kind === 'cancel' ? reason.mode : undefined;
  if (mode === 'abort-drop') return { status: 'cancelled', parked: false };
  return { status: 'queued', parked: false };
}
