// OpenTelemetry spans of runs (I4) with a real SDK registered the way a user would: a
// BasicTracerProvider exporting to memory, and the AsyncLocalStorage context manager.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKernel, defineFlow, sqliteStore, TerminalError, type Kernel } from 'holdfast';
import { fakeProvider } from 'holdfast/testing';
import { createAdminRoutes } from '../../../src/daemon/admin/admin-routes.js';
import type { HoldfastClient } from '../../../src/daemon/client/holdfast-client.js';
import { systemClock } from '../../../src/platform/system-clock.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  trace.disable();
  context.disable();
  await provider.shutdown();
});

const PARENT = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
const TRACEPARENT = `00-${PARENT.traceId}-${PARENT.spanId}-01`;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  exporter.reset();
});

function kernelWith(flows: Parameters<typeof createKernel>[0]['flows'], providers = {}): Kernel {
  const store = sqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'hf-spans-')), 'state.db') });
  const kernel = createKernel({ store, flows, providers, clock: systemClock });
  cleanup.push(() => store.close());
  cleanup.push(() => kernel.stop({ timeoutMs: 5_000 }));
  return kernel;
}

const named = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
const one = (name: string, where: (s: ReadableSpan) => boolean = () => true) => {
  const found = named(name).filter(where);
  expect(found, `${name} spans`).toHaveLength(1);
  return found[0]!;
};
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const traceOf = (span: ReadableSpan) => span.spanContext().traceId;

describe('OpenTelemetry spans of runs', () => {
  it('a run with two steps, a turn and an effect: one run span, its children with their attributes, user spans nested', async () => {
    const agent = fakeProvider([{ durationMs: 5, result: { label: 'bug' } }], { clock: systemClock });
    const flow = defineFlow('triage', async (ctx, input: { issue: number }) => {
      const plan = await ctx.step('plan', () => `plan ${input.issue}`);
      const answer = await ctx.turn<{ label: string }>('agent', { plan });
      await ctx.step('label', async () => {
        const span = trace.getTracer('user-code').startSpan('user.label');
        span.end();
        return answer.label;
      });
      return ctx.effect('reply', () => ({ comment: 7 }));
    });
    const kernel = kernelWith([flow], { agent });
    await kernel.start();
    const handle = await kernel.submit({ key: 'repo:acme/web', flow: 'triage', input: { issue: 7 }, traceparent: TRACEPARENT });
    expect(await handle.result()).toEqual({ comment: 7 });

    const run = one('holdfast.run');
    expect(traceOf(run)).toBe(PARENT.traceId);
    expect(parentOf(run)).toBe(PARENT.spanId);
    expect(run.parentSpanContext?.isRemote).toBe(true);
    expect(run.attributes).toMatchObject({
      'holdfast.run_id': handle.id,
      'holdfast.key': 'repo:acme/web',
      'holdfast.flow': 'triage',
      'holdfast.epoch': 1,
      'holdfast.attempt': 1,
      'holdfast.priority': 'normal',
      'holdfast.outcome': 'completed',
    });
    expect(run.status.code).toBe(SpanStatusCode.UNSET);
    const base = { 'holdfast.run_id': handle.id, 'holdfast.key': 'repo:acme/web', 'holdfast.flow': 'triage', 'holdfast.epoch': 1 };
    const steps = named('holdfast.step').sort((a, b) => Number(a.attributes['holdfast.seq']) - Number(b.attributes['holdfast.seq']));
    expect(steps.map((s) => [s.attributes['holdfast.name'], s.attributes['holdfast.seq'], s.attributes['holdfast.attempt']])).toEqual([
      ['plan', 0, 1],
      ['label', 2, 1],
    ]);
    const turn = one('holdfast.turn');
    expect(turn.attributes).toMatchObject({
      ...base,
      'holdfast.name': 'turn:agent',
      'holdfast.seq': 1,
      'holdfast.provider': 'agent',
      'holdfast.session_id': handle.id,
      'holdfast.resumed': false,
    });
    const effect = one('holdfast.effect');
    expect(effect.attributes).toMatchObject({ ...base, 'holdfast.name': 'reply', 'holdfast.seq': 3, 'holdfast.attempt': 1 });
    expect(effect.attributes['holdfast.effect_key']).toBe(`${handle.id}/3/reply`);
    for (const child of [...steps, turn, effect]) {
      expect(child.attributes).toMatchObject(base);
      expect(parentOf(child), child.name).toBe(idOf(run));
      expect(traceOf(child)).toBe(PARENT.traceId);
      expect(child.status.code).toBe(SpanStatusCode.UNSET);
    }
    // Spans user code starts inside a step are children of the step's span.
    expect(parentOf(one('user.label'))).toBe(idOf(steps[1]!));
    expect(named('holdfast.submit')).toEqual([]); // a traceparent was given: no span of the submit's own
  });

  it('a traceparent header of POST /v1/commands is carried into the run; a malformed one is ignored', async () => {
    const flow = defineFlow('echo', async (ctx, input: string) => ctx.step('echo', () => input));
    const kernel = kernelWith([flow]);
    await kernel.start();
    const routes = createAdminRoutes({
      client: {} as HoldfastClient,
      submit: async (command) => {
        const handle = await kernel.submit(command);
        return { runId: handle.id, created: handle.created };
      },
    });
    const post = async (traceparent: string) => {
      const response = await routes.request('/v1/commands', {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent },
        body: JSON.stringify({ key: 'k', flow: 'echo', input: traceparent }),
      });
      expect(response.status).toBe(202);
      const { runId } = (await response.json()) as { runId: string };
      await kernel.handle(runId).result();
      return runId;
    };
    const carried = await post(TRACEPARENT.toUpperCase());
    expect((await kernel.getRun(carried))?.traceparent).toBe(TRACEPARENT);
    const traced = one('holdfast.run', (s) => s.attributes['holdfast.run_id'] === carried);
    expect([traceOf(traced), parentOf(traced)]).toEqual([PARENT.traceId, PARENT.spanId]);

    const ignored = await post('00-not-a-trace-01');
    const own = one('holdfast.run', (s) => s.attributes['holdfast.run_id'] === ignored);
    expect(traceOf(own)).not.toBe(PARENT.traceId);
    // Submitted outside any trace: a holdfast.submit span of its own is the run's parent.
    const submit = one('holdfast.submit');
    expect(submit.attributes).toMatchObject({ 'holdfast.key': 'k', 'holdfast.flow': 'echo' });
    expect([traceOf(own), parentOf(own)]).toEqual([traceOf(submit), idOf(submit)]);
    expect(parentOf(submit)).toBeUndefined();
  });

  it('a failure sets the error status; a steal adds a preempted event; every execution of a run stays in its trace', async () => {
    const agent = fakeProvider(
      (request) => (request.interrupted ? { durationMs: 5, result: 'resumed' } : { durationMs: 60_000, result: 'never' }),
      { clock: systemClock },
    );
    const flows = [
      defineFlow('long', async (ctx) => ctx.turn('agent', null)),
      defineFlow('urgent', async (ctx) => ctx.step('fix', () => 'fixed')),
      defineFlow('broken', async (ctx) =>
        ctx.step('explode', () => {
          throw new TerminalError('no way', 'boom');
        }),
      ),
      defineFlow('parent', async (ctx) => ctx.call('urgent')),
    ];
    const kernel = kernelWith(flows, { agent });
    await kernel.start();

    const broken = await kernel.submit({ key: 'b', flow: 'broken' });
    await expect(broken.result()).rejects.toMatchObject({ code: 'boom' });
    const failedRun = one('holdfast.run', (s) => s.attributes['holdfast.flow'] === 'broken');
    expect(failedRun.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom: no way' });
    expect(failedRun.attributes['holdfast.outcome']).toBe('failed');
    const failedStep = one('holdfast.step', (s) => s.attributes['holdfast.name'] === 'explode');
    expect(failedStep.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no way' });
    expect(failedStep.events.map((e) => e.name)).toEqual(['exception']);

    const started = kernel.once('turn:started');
    const long = await kernel.submit({ key: 'p', flow: 'long', traceparent: TRACEPARENT });
    await started;
    const urgent = await kernel.submit({ key: 'p', flow: 'urgent', priority: 'urgent', preempt: 'steal' });
    expect(await long.result()).toBe('resumed');
    await urgent.result();
    const executions = named('holdfast.run').filter((s) => s.attributes['holdfast.run_id'] === long.id);
    expect(executions.map((s) => s.attributes['holdfast.outcome'])).toEqual(['interrupted', 'completed']);
    for (const execution of executions) expect([traceOf(execution), parentOf(execution)]).toEqual([PARENT.traceId, PARENT.spanId]);
    const preempted = { 'holdfast.preempt_kind': 'steal', 'holdfast.preempted_by': urgent.id };
    expect(executions[0]!.events.map((e) => [e.name, e.attributes])).toEqual([['holdfast.preempted', preempted]]);
    const turns = named('holdfast.turn').filter((s) => s.attributes['holdfast.run_id'] === long.id);
    expect(turns.map((s) => [s.attributes['holdfast.resumed'], s.status.code, s.events.map((e) => e.name)])).toEqual([
      [false, SpanStatusCode.UNSET, ['holdfast.preempted']],
      [true, SpanStatusCode.UNSET, []],
    ]);
    expect(parentOf(turns[0]!)).toBe(idOf(executions[0]!));
    expect(parentOf(turns[1]!)).toBe(idOf(executions[1]!));

    // A child run's spans are in its parent's trace, under the parent execution's run span.
    const parent = await kernel.submit({ key: 'c', flow: 'parent', traceparent: TRACEPARENT });
    expect(await parent.result()).toBe('fixed');
    const parentRuns = named('holdfast.run').filter((s) => s.attributes['holdfast.run_id'] === parent.id);
    const child = one('holdfast.run', (s) => s.attributes['holdfast.flow'] === 'urgent' && s.attributes['holdfast.key'] === 'c');
    expect(traceOf(child)).toBe(PARENT.traceId);
    expect(parentRuns.map(idOf)).toContain(parentOf(child));
  });
});
