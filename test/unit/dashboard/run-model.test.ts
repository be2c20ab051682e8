// The dashboard's fold of the run-event feed into run timelines (dashboard/run-model.js, plain
// browser JavaScript with no DOM use, so it runs here as it runs in the page).
import { describe, expect, it } from 'vitest';
import { createRunModel } from '../../../dashboard/run-model.js';

interface Span {
  kind: string;
  state: string;
  label: string;
  start: number;
  end: number | null;
  by?: string;
  resumed?: boolean;
  lines?: number;
  output?: string;
  outputCut?: boolean;
  committed?: boolean;
}
interface Run {
  status: string;
  spans: Span[];
  preempted: string[];
  children: string[];
  parentId: string | null;
  attempts: number;
  cancelRequested: string | null;
}
interface Model {
  apply(event: unknown): Run | null;
  applyRecord(record: unknown, cursorAtFetch: number): Run;
  get(id: string): Run | undefined;
}

/** A model fed `events` (`[type, runId, at, data]`), numbered from 1. */
function fold(events: readonly (readonly [string, string, number, Record<string, unknown>])[]): Model {
  const model = createRunModel() as unknown as Model;
  events.forEach(([type, runId, at, data], i) => model.apply({ seq: i + 1, type, runId, key: 'repo:a/b', at, data }));
  return model;
}

const kinds = (run: Run | undefined) => run!.spans.map((s) => `${s.kind}:${s.state}`);

describe('dashboard run model', () => {
  it('a steal preemption: preempted turn, the interrupt, the parked span, the urgent run, then the resumed turn', () => {
    const model = fold([
      ['run:queued', 'slow', 0, { flow: 'review', priority: 'normal' }],
      ['run:started', 'slow', 10, { flow: 'review', attempt: 1, epoch: 1 }],
      ['step:committed', 'slow', 12, { seq: 0, name: 'read' }],
      ['turn:started', 'slow', 13, { seq: 1, provider: 'agent', interrupted: false }],
      ['turn:output', 'slow', 50, { seq: 1, chunk: { kind: 'text', data: 'working\nworking\n' } }],
      ['run:queued', 'urgent', 60, { flow: 'answer', priority: 'urgent' }],
      ['run:interrupted', 'slow', 61, { kind: 'steal', by: 'urgent' }],
      ['turn:preempted', 'slow', 62, { seq: 1, provider: 'agent', reason: 'preempted' }],
      ['run:parked', 'slow', 63, { turnSeq: 1, by: 'urgent' }],
      ['run:started', 'urgent', 64, { flow: 'answer', attempt: 1, epoch: 1 }],
      ['step:committed', 'urgent', 66, { seq: 0, name: 'answer' }],
      ['run:completed', 'urgent', 67, { result: 'ok' }],
      ['run:started', 'slow', 70, { flow: 'review', attempt: 2, epoch: 1 }],
      ['run:resumed', 'slow', 70, { turnSeq: 1 }],
      ['turn:started', 'slow', 71, { seq: 1, provider: 'agent', interrupted: true }],
      ['turn:completed', 'slow', 90, { seq: 1, provider: 'agent' }],
      ['step:committed', 'slow', 90, { seq: 1, name: 'turn:agent' }],
      ['step:committed', 'slow', 95, { seq: 2, name: 'reply' }],
      ['run:completed', 'slow', 96, { result: 'done' }],
    ]);
    const slow = model.get('slow')!;
    expect(slow.status).toBe('completed');
    expect(kinds(slow)).toEqual(['queued:ok', 'step:ok', 'turn:preempted', 'preempted:ok', 'parked:ok', 'turn:ok', 'step:ok']);
    const parked = slow.spans.find((s) => s.kind === 'parked')!;
    expect(parked).toMatchObject({ start: 63, end: 70, by: 'urgent' });
    expect(slow.spans.find((s) => s.kind === 'preempted')).toMatchObject({ start: 61, end: 63, by: 'urgent' });
    expect(slow.spans.filter((s) => s.kind === 'turn').map((s) => s.resumed)).toEqual([false, true]);
    expect(slow.spans[2]).toMatchObject({ lines: 2, output: 'working\nworking\n' });
    expect(model.get('urgent')!.preempted).toEqual(['slow']);
    expect(kinds(model.get('urgent'))).toEqual(['queued:ok', 'step:ok']);
  });

  it('a step retry is a failed step and a backoff wait; a crash recovery is marked as a new attempt', () => {
    const model = fold([
      ['run:started', 'r', 0, { attempt: 1, epoch: 1 }],
      ['step:retrying', 'r', 5, { seq: 0, name: 'fetch', attempt: 1, delayMs: 100, error: { code: 'x', message: 'flaky' } }],
      ['run:waiting', 'r', 6, { kind: 'retry', wakeAt: 105 }],
      ['run:started', 'r', 106, { attempt: 2, epoch: 1 }],
      ['step:committed', 'r', 110, { seq: 0, name: 'fetch' }],
      ['run:started', 'r', 500, { attempt: 3, epoch: 2 }],
      ['run:completed', 'r', 510, {}],
    ]);
    const run = model.get('r')!;
    expect(kinds(run)).toEqual(['step:failed', 'wait:ok', 'step:ok', 'retry:ok']);
    expect(run.spans[1]).toMatchObject({ start: 5, end: 106 });
    expect(run.spans[3]!.label).toContain('attempt 3');
  });

  it('effects from claim to delivery, with a failed emit and its backoff; the journal entry is the same effect', () => {
    const model = fold([
      ['run:started', 'r', 0, { attempt: 1, epoch: 1 }],
      ['effect:claimed', 'r', 1, { effectKey: 'k', name: 'post', attempt: 1 }],
      ['effect:failed', 'r', 3, { effectKey: 'k', name: 'post', attempt: 1, error: { code: 'e', message: '502' }, retryAt: 50 }],
      ['run:waiting', 'r', 3, { kind: 'effect', wakeAt: 50 }],
      ['run:started', 'r', 50, { attempt: 2, epoch: 1 }],
      ['effect:claimed', 'r', 51, { effectKey: 'k', name: 'post', attempt: 2 }],
      ['effect:delivered', 'r', 55, { effectKey: 'k', name: 'post', attempt: 2 }],
      ['step:committed', 'r', 55, { seq: 0, name: 'effect:post' }],
      ['run:completed', 'r', 56, {}],
    ]);
    expect(kinds(model.get('r'))).toEqual(['effect:failed', 'wait:ok', 'effect:ok']);
    expect(model.get('r')!.spans[2]!.committed).toBe(true);
  });

  it('spawned children hang under their parent; a record never rolls back what newer events said', () => {
    const model = fold([
      ['run:started', 'parent', 0, { attempt: 1, epoch: 1 }],
      ['run:spawned', 'child', 2, { flow: 'lint', parentId: 'parent' }],
      ['run:waiting', 'parent', 3, { kind: 'child', wakeAt: null }],
      ['run:cancelled', 'child', 9, { error: { code: 'cancelled', message: 'by an operator' } }],
    ]);
    expect(model.get('parent')!.children).toEqual(['child']);
    expect(model.get('child')!.parentId).toBe('parent');
    const record = { id: 'child', key: 'repo:a/b', flow: 'lint', priority: 'normal', seq: 7, status: 'queued', attempts: 0 };
    expect(model.applyRecord({ ...record, createdAt: 1, startedAt: null, finishedAt: null }, 2).status).toBe('cancelled');
    const fresh = model.applyRecord(
      { ...record, id: 'other', cancelRequested: 'abort-drop', createdAt: 1, startedAt: null, finishedAt: null },
      4,
    );
    expect(fresh).toMatchObject({ status: 'queued', cancelRequested: 'abort-drop' });
    expect(kinds(fresh)).toEqual(['queued:open']);
  });

  it('keeps the tail of a long turn output and counts every line', () => {
    const line = `${'x'.repeat(99)}\n`;
    const model = fold([
      ['turn:started', 'r', 0, { seq: 0, provider: 'agent', interrupted: false }],
      ...Array.from({ length: 500 }, (_, i) => ['turn:output', 'r', i + 1, { seq: 0, chunk: { kind: 'text', data: line } }] as const),
    ]);
    const turn = model.get('r')!.spans[0]!;
    expect(turn.lines).toBe(500);
    expect(turn.outputCut).toBe(true);
    expect(turn.output!.length).toBeLessThanOrEqual(32 * 1024);
  });
});
