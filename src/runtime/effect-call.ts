import { effectRetryDelay } from '../core/effect-claim.js';
import { faultMutation } from '../core/fault-mutations.js';
import { findNonJson } from '../core/json-value.js';
import { checkWellFormed } from '../core/well-formed-text.js';
import { HoldfastError, InvalidInputError, TerminalError } from '../errors.js';
import type { Json } from '../model/index.js';
import type { EffectCall, EffectOptions } from './flow.js';
import { toRunError } from './run-error.js';
import type { DurableCursor } from './run-environment.js';
import { callNow } from './step-function.js';

/** How long a run waits before looking again at an effect key another run holds. */
const BUSY_RECHECK_MS = 1_000;

/**
 * `ctx.effect` (D3): claim durably, emit, record. Journaled at the position `effect:<name>` with
 * `{ artifact }` (or `{ coveredBy }` when nothing was owed), so a re-run returns it without
 * claiming again. See FlowContext.effect for what happens on crashes and failures.
 */
export async function runEffect<A extends Json>(
  cursor: DurableCursor,
  name: string,
  fn: (effect: EffectCall) => Promise<A> | A,
  options: EffectOptions & { readonly origins?: readonly string[] },
): Promise<A | undefined> {
  const journalName = `effect:${name}`;
  const { seq, recorded } = cursor.next(journalName, 'ctx.effect');
  const origins = checkOrigins(options.origins, name);
  if (options.key !== undefined && (typeof options.key !== 'string' || options.key === '')) {
    throw new InvalidInputError(`ctx.effect("${name}"): key must be a non-empty string`, 'invalid_effect_key');
  }
  if (options.key !== undefined) checkWellFormed(options.key, `ctx.effect("${name}") key`, 'invalid_effect_key');
  if (typeof fn !== 'function')
    throw new InvalidInputError(`ctx.effect("${name}") needs a function that emits the effect`, 'invalid_effect');
  if (recorded !== undefined) return outcomeOf(recorded) as A | undefined;
  cursor.live();
  cursor.at(seq, journalName);
  const { env } = cursor;
  const effectKey = options.key ?? `${cursor.runId}/${seq}/${name}`;
  const ids = { runId: cursor.runId, key: cursor.key, effectKey, name };
  const early = { idempotencyKey: effectKey, fencingToken: cursor.fencingToken, attempt: 0, origins, signal: cursor.signal };
  if (faultMutation('emit-before-claim')) await callNow(fn, early).catch(() => undefined); // test-only switch, off in product code
  const claim = await env.durable('claim effect', () =>
    env.store.claimEffect({ ...env.fence, runId: cursor.runId, seq, name, effectKey, origins, now: env.clock.now() }),
  );
  switch (claim.state) {
    case 'delivered':
      cursor.journaled(seq, journalName, { artifact: claim.artifact });
      return claim.artifact as A;
    case 'covered':
      cursor.journaled(seq, journalName, { coveredBy: [...claim.coveredBy] });
      return undefined;
    case 'busy':
      await cursor.suspend({
        wait: { kind: 'effect', wakeAt: env.clock.now() + BUSY_RECHECK_MS, detail: { effectKey, holder: claim.holder } },
      });
      throw unreachable();
    case 'backoff':
      await cursor.suspend({ wait: { kind: 'effect', wakeAt: claim.retryAt, detail: { effectKey } } });
      throw unreachable();
    case 'claimed':
      break;
  }
  env.events.emit('effect:claimed', { ...ids, attempt: claim.attempt });
  let artifact: A;
  try {
    const spanAttributes = {
      'holdfast.name': name,
      'holdfast.seq': seq,
      'holdfast.effect_key': effectKey,
      'holdfast.attempt': claim.attempt,
    };
    artifact = await env.trace.child('holdfast.effect', spanAttributes, () =>
      callNow(fn, {
        idempotencyKey: effectKey,
        fencingToken: cursor.fencingToken,
        attempt: claim.attempt,
        origins: claim.origins,
        signal: cursor.signal,
      }),
    );
    const bad = findNonJson(artifact === undefined ? null : artifact, 'artifact');
    if (bad !== undefined)
      throw new TerminalError(`effect "${name}" returned an artifact that is not plain JSON at ${bad}`, 'invalid_effect_result');
  } catch (error) {
    cursor.live();
    const terminal = error instanceof TerminalError;
    const now = env.clock.now();
    const retryAt = terminal ? null : now + effectRetryDelay(claim.attempt);
    const failure = toRunError(error, 'effect_failed');
    await env.durable('fail effect', () =>
      env.store.failEffect({ ...env.fence, runId: cursor.runId, effectKey, error: failure, now, retryAt }),
    );
    env.events.emit('effect:failed', { ...ids, attempt: claim.attempt, error: failure, retryAt });
    if (retryAt === null) throw error;
    return cursor.endInWait({ kind: 'effect', wakeAt: retryAt, detail: { effectKey } }); // failEffect entered the wait
  }
  cursor.live();
  const value = artifact === undefined ? null : artifact;
  const kept = await env.durable('record effect', () =>
    env.store.recordEffect({ ...env.fence, runId: cursor.runId, seq, name, effectKey, artifact: value, now: env.clock.now() }),
  );
  cursor.journaled(seq, journalName, { artifact: kept });
  env.events.emit('effect:delivered', { ...ids, attempt: claim.attempt });
  return kept as A;
}

function outcomeOf(recorded: Json): Json | undefined {
  const entry = recorded as { artifact?: Json; coveredBy?: string[] };
  return 'coveredBy' in entry ? undefined : (entry.artifact ?? null);
}

function checkOrigins(value: unknown, name: string): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((o) => typeof o !== 'string' || o === '')) {
    throw new InvalidInputError(`ctx.effect("${name}"): origins must be an array of non-empty strings`, 'invalid_effect_origins');
  }
  for (const origin of value as string[]) checkWellFormed(origin, `ctx.effect("${name}") origin`, 'invalid_effect_origins');
  return value as string[];
}

function unreachable(): HoldfastError {
  return new HoldfastError('internal', 'a durable wait returned; it never does once entered');
}
