import { describe, expect, it } from 'vitest';
import { createKernel, defineFlow, memoryStore, type Provider } from 'holdfast';
import { seededRandom, virtualClock } from 'holdfast/testing';
import { advanceUntil, unreliable } from '../support/unreliable-store.js';

/** A provider that reports process group 4242 and answers at once. */
const grouped: Provider = {
  async runTurn(request) {
    request.onProcessGroup?.(4242);
    return 'answer';
  },
};

function setup() {
  const inner = memoryStore();
  const u = unreliable(inner);
  const clock = virtualClock(1_000);
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, error() {}, warn: (m: string) => void warnings.push(m) };
  const flow = defineFlow('talk', async (ctx) => ctx.turn('agent', 'hi'));
  const host = { name: 'h', pid: 77, isAlive: () => true };
  const kernel = createKernel({
    store: u.store,
    flows: [flow],
    providers: { agent: grouped },
    clock,
    random: seededRandom(5),
    logger,
    host,
  });
  return { inner, u, clock, warnings, kernel };
}

describe('provider process groups are recorded best effort (S4)', () => {
  it('recorded at turn start under the kernel process and ended when the provider settles', async () => {
    const t = setup();
    await t.kernel.start();
    const handle = await t.kernel.submit({ key: 'repo:a', flow: 'talk', input: null });
    let result: unknown;
    void handle.result().then((r) => (result = r));
    await advanceUntil(t.clock, () => result !== undefined, 1_000);
    await t.kernel.stop();
    expect(await t.inner.listProcessGroups({})).toEqual([
      expect.objectContaining({
        pgid: 4242,
        ownerId: t.kernel.ownerId,
        host: 'h',
        pid: 77,
        runId: handle.id,
        key: 'repo:a',
        endedAt: 1_000,
      }),
    ]);
  });

  it('a store briefly unavailable for the record neither delays nor fails the turn; the record lands after, and is ended', async () => {
    const t = setup();
    await t.kernel.start();
    t.u.failNext('recordProcessGroup', 3);
    const handle = await t.kernel.submit({ key: 'repo:a', flow: 'talk', input: null });
    let result: unknown;
    void handle.result().then((r) => (result = r));
    await advanceUntil(t.clock, () => result !== undefined, 0); // no virtual time passes
    expect(result).toBe('answer');
    expect(await t.inner.listProcessGroups({})).toEqual([]);
    await advanceUntil(t.clock, () => t.u.calls('endProcessGroup') > 0, 5_000);
    await t.kernel.stop();
    expect(t.u.calls('recordProcessGroup')).toBe(4);
    expect(await t.inner.listProcessGroups({})).toEqual([expect.objectContaining({ pgid: 4242, endedAt: expect.any(Number) })]);
    expect(t.warnings).toEqual([]);
  });

  it('a store that stays unavailable: the run still completes, the record is given up with a warning', async () => {
    const t = setup();
    await t.kernel.start();
    t.u.failNext('recordProcessGroup', 1_000);
    const handle = await t.kernel.submit({ key: 'repo:a', flow: 'talk', input: null });
    let result: unknown;
    void handle.result().then((r) => (result = r));
    await advanceUntil(t.clock, () => result !== undefined, 0);
    await t.clock.advance(30_000);
    await t.kernel.stop();
    expect(result).toBe('answer');
    expect(t.u.calls('recordProcessGroup')).toBe(8);
    expect(t.u.calls('endProcessGroup')).toBe(0);
    expect(t.warnings).toEqual([expect.stringContaining('could not record process group')]);
  });
});
