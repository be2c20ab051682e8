import { describe, expect, it } from 'vitest';
import * as holdfast from 'holdfast';
import * as testing from 'holdfast/testing';
import { createKernel, defineFlow, memoryStore, type FlowContext } from 'holdfast';

/**
 * K9: product code reaches concurrency only through the narrow API. These tests pin what is
 * exported and check that the objects handed to product code expose nothing behind them.
 */
describe('public API surface (K9)', () => {
  it('exports exactly the public names', () => {
    expect(Object.keys(holdfast).sort()).toEqual([
      'ChildFailedError',
      'DEFAULT_ARBITER_POLICY',
      'DEFAULT_EXPIRY_POLICY',
      'HoldfastError',
      'IdempotencyConflictError',
      'InvalidInputError',
      'JournalDivergenceError',
      'KernelStateError',
      'LaneJournalCorruptError',
      'LaneJournalNotEmptyError',
      'LaneLostError',
      'LaneRefusedError',
      'PREEMPT_KINDS',
      'PRIORITIES',
      'ProviderFailedError',
      'ProviderNotFoundError',
      'RUN_STATUSES',
      'RetryableError',
      'RunFailedError',
      'RunNotFoundError',
      'StaleEpochError',
      'StepTimeoutError',
      'StoreFormatError',
      'StoreUnavailableError',
      'TerminalError',
      'UnknownFlowError',
      'UnknownProviderError',
      'arbitrate',
      'checkGeneration',
      'compact',
      'createKernel',
      'createLanes',
      'defineConfig',
      'defineFlow',
      'execProvider',
      'isLeaseExpired',
      'livenessVerdict',
      'memoryStore',
      'normalizePath',
      'normalizeTree',
      'replay',
      'sqliteStore',
    ]);
    expect(Object.keys(testing).sort()).toEqual([
      'createSimulation',
      'fakeProvider',
      'memoryStore',
      'reorderingStore',
      'seededRandom',
      'virtualClock',
    ]);
  });

  it('a flow context has only its documented members, frozen', async () => {
    let seen: FlowContext | undefined;
    const probe = defineFlow('probe', async (ctx) => {
      seen = ctx;
      return null;
    });
    const kernel = createKernel({ store: memoryStore(), flows: [probe], wake: null });
    await kernel.start();
    await (await kernel.submit({ key: 'k', flow: 'probe' })).result();
    await kernel.stop();
    expect(Object.keys(seen!).sort()).toEqual([
      'attempt',
      'call',
      'effect',
      'fencingToken',
      'join',
      'key',
      'lane',
      'runId',
      'scratchDir',
      'signal',
      'sleep',
      'sleepUntil',
      'spawn',
      'step',
      'turn',
    ]);
    expect(Object.isFrozen(seen)).toBe(true);
    expect(Object.isFrozen(seen!.fencingToken)).toBe(true);
    expect(seen!.fencingToken).toEqual({ key: 'k', epoch: 1 });
    expect((seen as unknown as Record<string, unknown>).env).toBeUndefined();
  });

  it('a kernel exposes only the Kernel interface: no store, runtimes or leases', () => {
    const kernel = createKernel({ store: memoryStore(), flows: [], wake: null });
    expect(Object.keys(kernel).sort()).toEqual([
      'cancel',
      'getRun',
      'handle',
      'on',
      'once',
      'ownerId',
      'retry',
      'schedule',
      'start',
      'stop',
      'submit',
      'unschedule',
    ]);
    expect(Object.isFrozen(kernel)).toBe(true);
  });
});
