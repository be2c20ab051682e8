// The fleet's guarantees, checked after the fact from the database, the step bodies' execution
// lines and the receiver's deliveries. Each check returns the violations it found (empty: none),
// as sentences a failure message can show.
import type pg from 'pg';
import type { Delivery, LogLine } from './fleet-support.js';

export interface RunRow {
  readonly id: string;
  readonly key: string;
  readonly idempotencyKey: string;
  readonly status: string;
  readonly attempts: number;
  readonly result: unknown;
}

export interface StepRow {
  readonly runId: string;
  readonly key: string;
  readonly seq: number;
  readonly name: string;
  readonly epoch: number;
  readonly committedAt: number;
}

export interface EffectRow {
  readonly key: string;
  readonly runId: string;
  readonly status: string;
  readonly attempts: number;
  readonly artifact: unknown;
}

export interface FleetState {
  readonly runs: RunRow[];
  readonly steps: StepRow[];
  readonly effects: EffectRow[];
}

const json = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/** Runs, committed steps and effects of the schema, read from outside the fleet. */
export async function readFleetState(pool: pg.Pool, schema: string): Promise<FleetState> {
  const s = `"${schema}"`;
  const runs = await pool.query<{
    id: string;
    key: string;
    idempotency_key: string;
    status: string;
    attempts: number;
    result: string | null;
  }>(`SELECT id, key, idempotency_key, status, attempts, result FROM ${s}.runs ORDER BY seq`);
  const steps = await pool.query<{ run_id: string; key: string; seq: number; name: string; epoch: string; committed_at: string }>(
    `SELECT r.id AS run_id, r.key, st.seq, st.name, st.epoch, st.committed_at FROM ${s}.steps st JOIN ${s}.runs r ON r.seq = st.run_seq`,
  );
  const effects = await pool.query<{ key: string; run_id: string; status: string; attempts: number; artifact: string | null }>(
    `SELECT key, run_id, status, attempts, artifact FROM ${s}.effects`,
  );
  return {
    runs: runs.rows.map((r) => ({ ...r, idempotencyKey: r.idempotency_key, result: json(r.result) })),
    steps: steps.rows.map((r) => ({
      runId: r.run_id,
      key: r.key,
      seq: r.seq,
      name: r.name,
      epoch: Number(r.epoch),
      committedAt: Number(r.committed_at),
    })),
    effects: effects.rows.map((r) => ({ key: r.key, runId: r.run_id, status: r.status, attempts: r.attempts, artifact: json(r.artifact) })),
  };
}

/** Every command submitted is one run, completed; no run nobody submitted. */
export function exactlyOnce(commands: readonly string[], runs: readonly RunRow[]): string[] {
  const byIdem = new Map<string, RunRow[]>();
  for (const run of runs) byIdem.set(run.idempotencyKey, [...(byIdem.get(run.idempotencyKey) ?? []), run]);
  const problems: string[] = [];
  for (const idem of commands) {
    const found = byIdem.get(idem) ?? [];
    if (found.length !== 1) problems.push(`command ${idem} has ${found.length} runs`);
    else if (found[0]!.status !== 'completed') problems.push(`command ${idem}: run ${found[0]!.id} is ${found[0]!.status}`);
  }
  const submitted = new Set(commands);
  for (const run of runs)
    if (!submitted.has(run.idempotencyKey)) problems.push(`run ${run.id} (${run.idempotencyKey}) was never submitted`);
  return problems;
}

/** Per key: a step committed under an epoch never commits after a step under a later epoch (commit timestamps). */
export function epochOrder(steps: readonly StepRow[]): string[] {
  const problems: string[] = [];
  for (const [key, of] of groupBy(steps, (s) => s.key)) {
    const spans = [...groupBy(of, (s) => String(s.epoch))]
      .map(([, e]) => ({
        epoch: e[0]!.epoch,
        first: Math.min(...e.map((s) => s.committedAt)),
        last: Math.max(...e.map((s) => s.committedAt)),
      }))
      .sort((a, b) => a.epoch - b.epoch);
    let latest = { epoch: 0, last: -Infinity };
    for (const span of spans) {
      if (span.first < latest.last) {
        problems.push(
          `key ${key}: epoch ${span.epoch} committed at ${span.first}, before epoch ${latest.epoch}'s last commit at ${latest.last}`,
        );
      }
      if (span.last >= latest.last) latest = span;
    }
  }
  return problems;
}

/** A step body's execution, from its `exec ... start` line. */
interface Execution {
  readonly pid: number;
  readonly run: string;
  readonly step: string;
  readonly epoch: number;
  readonly attempt: number;
  readonly at: number;
}

export function executions(log: readonly LogLine[]): Execution[] {
  return log
    .filter((l) => l.what === 'exec' && l.data.phase === 'start')
    .map((l) => ({
      pid: l.pid,
      run: String(l.data.run),
      step: String(l.data.step),
      epoch: Number(l.data.epoch),
      attempt: Number(l.data.attempt),
      at: l.at,
    }));
}

/**
 * From the step bodies' execution lines and the journal:
 * - every committed step has the execution that committed it (same epoch, started before the commit);
 * - no body of a committed step started after its commit, or under a later epoch (a committed step redone);
 * - per key, the committing executions (start to commit) never overlap: one run executes at a time.
 */
export function executionChecks(
  steps: readonly StepRow[],
  log: readonly LogLine[],
): { missing: string[]; redone: string[]; overlapping: string[] } {
  const byStep = groupBy(executions(log), (e) => `${e.run}/${e.step}`);
  const missing: string[] = [];
  const redone: string[] = [];
  const spans = new Map<string, { from: number; to: number; what: string }[]>();
  // Only the fixtures' ctx.step entries record their bodies; `effect:` and `turn:` entries do not.
  for (const step of steps.filter((s) => !s.name.includes(':'))) {
    const runs = byStep.get(`${step.runId}/${step.name}`) ?? [];
    const committing = runs.filter((e) => e.epoch === step.epoch && e.at <= step.committedAt).sort((a, b) => b.at - a.at)[0];
    if (committing === undefined)
      missing.push(`step ${step.name} of run ${step.runId} committed (epoch ${step.epoch}) with no execution before it`);
    for (const e of runs) {
      if (e.at > step.committedAt || e.epoch > step.epoch) {
        redone.push(
          `step ${step.name} of run ${step.runId}, committed at ${step.committedAt} under epoch ${step.epoch}, ran again at ${e.at} in ${e.pid} under epoch ${e.epoch}`,
        );
      }
    }
    if (committing) {
      const list = spans.get(step.key) ?? [];
      list.push({ from: committing.at, to: step.committedAt, what: `${step.runId}/${step.name}@${step.epoch}` });
      spans.set(step.key, list);
    }
  }
  const overlapping: string[] = [];
  for (const [key, list] of spans) {
    list.sort((a, b) => a.from - b.from);
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.from < list[i - 1]!.to)
        overlapping.push(
          `key ${key}: ${list[i]!.what} started at ${list[i]!.from}, before ${list[i - 1]!.what} committed at ${list[i - 1]!.to}`,
        );
    }
  }
  return { missing, redone, overlapping };
}

/**
 * The effects against the deduping receiver: every completed run's effect reached it and was acted
 * on once, the run's result is the receipt of that first delivery, no claim attempt emitted twice,
 * and nothing reached it that no run owed.
 */
export function effectChecks(state: FleetState, deliveries: readonly Delivery[]): { problems: string[]; repeats: number } {
  const problems: string[] = [];
  const byKey = groupBy(deliveries, (d) => d.effectKey);
  const effects = new Map(state.effects.map((e) => [e.key, e]));
  const owed = new Set<string>();
  for (const run of state.runs.filter((r) => r.status === 'completed')) {
    const effect = state.effects.find((e) => e.runId === run.id);
    if (!effect) {
      problems.push(`run ${run.id} completed without an effect`);
      continue;
    }
    owed.add(effect.key);
    const got = byKey.get(effect.key) ?? [];
    const accepted = got.filter((d) => d.accepted);
    if (accepted.length !== 1) problems.push(`effect ${effect.key} was acted on ${accepted.length} times`);
    else if (JSON.stringify(run.result) !== JSON.stringify(accepted[0]!.receipt)) {
      problems.push(`run ${run.id} returned ${JSON.stringify(run.result)}, not the receipt ${accepted[0]!.receipt} of its effect`);
    }
    if (effect.status !== 'delivered' || JSON.stringify(effect.artifact) !== JSON.stringify({ receipt: accepted[0]?.receipt })) {
      problems.push(`effect ${effect.key} is ${effect.status} with artifact ${JSON.stringify(effect.artifact)}`);
    }
    const attempts = got.map((d) => d.attempt);
    if (new Set(attempts).size !== attempts.length)
      problems.push(`effect ${effect.key}: one claim attempt emitted twice (${attempts.join(', ')})`);
    if (Math.max(...attempts) > effect.attempts)
      problems.push(`effect ${effect.key}: delivered attempt ${Math.max(...attempts)} > claimed ${effect.attempts}`);
  }
  for (const key of byKey.keys()) if (!owed.has(key) && !effects.has(key)) problems.push(`the receiver got ${key}, which no run owed`);
  return { problems, repeats: deliveries.length - byKey.size };
}

export function groupBy<T>(items: readonly T[], by: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = by(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
