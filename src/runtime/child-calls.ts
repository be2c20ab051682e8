import { findNonJson } from '../core/json-value.js';
import { checkWellFormed } from '../core/well-formed-text.js';
import { ChildFailedError, HoldfastError, InvalidInputError, UnknownFlowError } from '../errors.js';
import { PRIORITIES, type Json } from '../model/index.js';
import { checkDuration, type ChildRun, type SpawnOptions } from './flow.js';
import type { DurableCursor } from './run-environment.js';

/**
 * `ctx.spawn` (D7): the child is enqueued and the spawn journaled (`spawn:<flow>`, `{ childId }`)
 * in one transaction, under an idempotence key derived from the parent and the position, so a
 * re-run never spawns it twice: it replays the journal, or finds the same child.
 */
export async function spawnChild(cursor: DurableCursor, flow: string, input: Json, options: SpawnOptions): Promise<ChildRun> {
  const name = `spawn:${flow}`;
  const { seq, recorded } = cursor.next(name, 'ctx.spawn');
  const { env } = cursor;
  if (typeof flow !== 'string' || !env.flows.has(flow)) throw new UnknownFlowError(String(flow), [...env.flows.keys()]);
  const key = options.key ?? cursor.key;
  if (typeof key !== 'string' || key.trim() === '')
    throw new InvalidInputError(`ctx.spawn("${flow}"): key must be a non-empty string`, 'invalid_key');
  checkWellFormed(key, `ctx.spawn("${flow}") key`, 'invalid_key');
  const priority = options.priority ?? 'normal';
  if (!PRIORITIES.includes(priority))
    throw new InvalidInputError(`ctx.spawn("${flow}"): priority must be one of ${PRIORITIES.join(', ')}`, 'invalid_priority');
  const deadlineMs = checkDuration(options.deadlineMs, `ctx.spawn("${flow}") deadlineMs`, 'invalid_deadline');
  const bad = findNonJson(input, 'input');
  if (bad !== undefined)
    throw new InvalidInputError(`ctx.spawn("${flow}"): input must be plain JSON; it is not at ${bad}`, 'invalid_input');
  if (recorded !== undefined) return { id: (recorded as { childId: string }).childId, key, flow };
  cursor.live();
  cursor.at(seq, name);
  const now = env.clock.now();
  const childDeadline = deadlineMs ?? env.flows.get(flow)!.deadlineMs;
  const child = await env.durable('spawn child', () =>
    env.store.spawnChild({
      ...env.fence,
      runId: cursor.runId,
      seq,
      name,
      child: {
        id: env.random.uuid(),
        key,
        flow,
        input,
        idempotencyKey: `${cursor.runId}/spawn/${seq}`,
        priority,
        preempt: priority === 'urgent' ? 'steal' : null,
        parentId: cursor.runId,
        deadlineAt: childDeadline === undefined ? null : now + childDeadline,
        traceparent: env.trace.traceparent(),
        now,
      },
    }),
  );
  cursor.journaled(seq, name, { childId: child.id });
  env.events.emit('run:spawned', { runId: child.id, key: child.key, flow, parentId: cursor.runId });
  env.dispatch([{ key: child.key, runId: child.id, urgent: child.priority === 'urgent' }]);
  if (child.deadlineAt !== null) env.wakeAt(child.deadlineAt);
  return { id: child.id, key: child.key, flow };
}

/**
 * `ctx.join` (D7): journaled at `join` with the child's outcome once it has ended. While it runs,
 * the parent waits durably (`child`), woken by the transaction that ends the child.
 */
export async function joinChild(cursor: DurableCursor, child: ChildRun): Promise<Json> {
  if (!child || typeof child.id !== 'string') throw new InvalidInputError('ctx.join needs a child returned by ctx.spawn', 'invalid_child');
  const { seq, recorded } = cursor.next('join', 'ctx.join');
  const outcome = recorded ?? (await settle(cursor, seq, child.id));
  const ended = outcome as { status: string; result?: Json; error?: { code: string; message: string } };
  if (ended.status === 'completed') return ended.result ?? null;
  throw new ChildFailedError(child.id, ended.status, ended.error ?? { code: ended.status, message: ended.status });
}

async function settle(cursor: DurableCursor, seq: number, childId: string): Promise<Json> {
  cursor.live();
  cursor.at(seq, 'join');
  await cursor.suspend({ wait: { kind: 'child', wakeAt: null, onRun: childId, detail: { childId } } }); // resolves only if it has ended
  // Through `durable`: retried while the store is unavailable, never failing the run for it (K11).
  const run = await cursor.env.durable('read child', () => cursor.env.store.getRun(childId));
  if (!run) throw new HoldfastError('run_not_found', `child run ${childId} does not exist`);
  const outcome: Json =
    run.status === 'completed'
      ? { status: 'completed', result: run.result ?? null }
      : { status: run.status, error: { code: run.error?.code ?? run.status, message: run.error?.message ?? run.status } };
  return cursor.commit(seq, 'join', outcome);
}
