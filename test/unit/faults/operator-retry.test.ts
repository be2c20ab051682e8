import { describe, expect, it } from 'vitest';
import { HoldfastError, RunNotFoundError, createKernel, defineFlow, memoryStore, type KernelEvents } from 'holdfast';
import { seededRandom, virtualClock } from 'holdfast/testing';

/** What the "deploy" flow's second step depends on: broken until the operator fixes it. */
let configBroken = true;
const stepCalls: string[] = [];

const deploy = defineFlow('deploy', async (ctx, input: { version: string }) => {
  const built = await ctx.step('build', () => {
    stepCalls.push('build');
    return `artifact-${input.version}`;
  });
  const shipped = await ctx.step('ship', () => {
    stepCalls.push('ship');
    if (configBroken) throw new Error('config missing: DEPLOY_TARGET');
    return `${built} shipped`;
  });
  return shipped;
});

const hold = defineFlow('hold', async (ctx) =>
  ctx.step('hold', () => new Promise<null>((resolve) => ctx.signal.addEventListener('abort', () => resolve(null)))),
);

function setup() {
  const store = memoryStore();
  const clock = virtualClock(1_000);
  const kernel = createKernel({ store, flows: [deploy, hold], clock, random: seededRandom(21), pollIntervalMs: 60_000 });
  const reopened: KernelEvents['run:reopened'][] = [];
  kernel.on('run:reopened', (e) => reopened.push(e));
  return { store, clock, kernel, reopened };
}

describe('kernel.retry(runId): an operator re-opens a failed run', () => {
  it('a run that failed after committing a step resumes from that step once the cause is fixed, and completes', async () => {
    configBroken = true;
    stepCalls.length = 0;
    const { store, clock, kernel, reopened } = setup();
    await kernel.start();
    const command = { key: 'repo:a', flow: 'deploy', input: { version: '1.2' }, idempotencyKey: 'deploy-1.2' } as const;
    const handle = await kernel.submit<{ version: string }, string>(command);
    await expect(handle.result()).rejects.toMatchObject({ status: 'failed', code: 'flow_error' });
    expect(await store.getRun(handle.id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'flow_error', message: expect.stringContaining('DEPLOY_TARGET') },
    });
    expect(stepCalls).toEqual(['build', 'ship']);

    configBroken = false; // the operator fixes the cause
    await clock.advance(500);
    const started = kernel.once('run:started', (e) => e.runId === handle.id);
    expect(await kernel.retry(handle.id)).toBe('queued');
    expect(reopened).toEqual([{ runId: handle.id, key: 'repo:a', from: 'failed' }]);
    expect((await started).attempt).toBe(2);
    expect(await kernel.handle(handle.id).result()).toBe('artifact-1.2 shipped');
    // `build` was journaled: it is not called again; only `ship` runs again.
    expect(stepCalls).toEqual(['build', 'ship', 'ship']);
    const run = await kernel.getRun(handle.id);
    expect(run).toMatchObject({ status: 'completed', attempts: 2, error: undefined, result: 'artifact-1.2 shipped' });
    expect(run?.steps.map((s) => [s.seq, s.name])).toEqual([
      [0, 'build'],
      [1, 'ship'],
    ]);
    expect(await store.operatorActions(handle.id)).toEqual([{ runId: handle.id, action: 'retry', detail: 'failed', at: 1_500 }]);

    // The idempotence key still names this run, with its new outcome.
    const again = await kernel.submit<{ version: string }, string>(command);
    expect(again).toMatchObject({ id: handle.id, created: false });
    expect(await again.result()).toBe('artifact-1.2 shipped');
    expect(await store.listRuns({})).toHaveLength(1);

    // A completed run cannot be retried; nothing is recorded for the refusal.
    const refused = kernel.retry(handle.id);
    await expect(refused).rejects.toBeInstanceOf(HoldfastError);
    await expect(refused).rejects.toMatchObject({ code: 'run_not_retryable' });
    expect(await store.operatorActions(handle.id)).toHaveLength(1);
    expect(reopened).toHaveLength(1);
    expect(stepCalls).toEqual(['build', 'ship', 'ship']);
    await kernel.stop();
  });

  it('retry of an unknown id throws run_not_found; of a queued or running run run_not_retryable; a cancelled run can be retried', async () => {
    const { store, kernel, reopened } = setup();
    await expect(kernel.retry('no-such-run')).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(kernel.retry('no-such-run')).rejects.toMatchObject({ code: 'run_not_found', runId: 'no-such-run' });

    // Pure client: the run stays queued.
    const queued = await kernel.submit({ key: 'repo:b', flow: 'hold' });
    await expect(kernel.retry(queued.id)).rejects.toMatchObject({ code: 'run_not_retryable' });
    expect(await kernel.cancel(queued.id, { mode: 'abort-drop' })).toBe('queued');
    await kernel.start();
    await expect(kernel.handle(queued.id).result()).rejects.toMatchObject({ status: 'cancelled' });

    const running = await kernel.submit({ key: 'repo:c', flow: 'hold' });
    await kernel.once('run:started', (e) => e.runId === running.id);
    await expect(kernel.retry(running.id)).rejects.toMatchObject({ code: 'run_not_retryable' });
    expect(await store.getRun(running.id)).toMatchObject({ status: 'running', attempts: 1 });

    // The cancelled one is re-opened and runs.
    const started = kernel.once('run:started', (e) => e.runId === queued.id);
    expect(await kernel.retry(queued.id)).toBe('queued');
    expect((await started).attempt).toBe(1);
    expect(reopened).toEqual([{ runId: queued.id, key: 'repo:b', from: 'cancelled' }]);
    expect((await store.operatorActions(queued.id)).map((a) => [a.action, a.detail])).toEqual([
      ['cancel', 'abort-drop'],
      ['retry', 'cancelled'],
    ]);
    expect((await store.getRun(queued.id))?.cancelRequested).toBeNull();
    await kernel.stop();
    expect(await store.getRun(queued.id)).toMatchObject({ status: 'queued', error: undefined });
  });
});
