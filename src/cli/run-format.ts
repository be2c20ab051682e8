import type { RunDetail } from '../daemon/client/holdfast-client.js';
import type { EffectRecord, RunRecord } from '../model/index.js';

/** An instant as the CLI prints it (ISO 8601, UTC). */
export function instant(ms: number): string {
  return new Date(ms).toISOString();
}

/** One run on one line: id, key, flow, priority, status, attempts, outcome. */
export function formatRun(run: RunRecord): string {
  const outcome = run.error ? `${run.error.code}: ${run.error.message}` : run.result === undefined ? '' : JSON.stringify(run.result);
  return `${run.id}  ${run.key}  ${run.flow}  ${run.priority}  ${run.status}  attempts=${run.attempts}  ${outcome}`.trimEnd();
}

/** A run with its wait, deadline, journal, failed attempts, operator actions and children, indented. */
export function formatRunDetail(view: RunDetail, indent = ''): string {
  const lines = [`${indent}${formatRun(view)}`];
  if (view.wait) {
    const until = view.wait.wakeAt === null ? `until run ${view.wait.onRun} ends` : `until ${instant(view.wait.wakeAt)}`;
    lines.push(`${indent}  waiting (${view.wait.kind}) ${until}`);
  }
  if (view.deadlineAt !== null) lines.push(`${indent}  deadline ${instant(view.deadlineAt)}`);
  if (view.compacted) lines.push(`${indent}  journal compacted`);
  for (const step of view.steps) lines.push(`${indent}  #${step.seq} ${step.name} (epoch ${step.epoch}) ${JSON.stringify(step.result)}`);
  for (const a of view.failedAttempts) {
    const next = a.retryAt === null ? 'no retry' : `retry at ${instant(a.retryAt)}`;
    lines.push(`${indent}  #${a.seq} ${a.name} attempt ${a.attempt} failed: ${a.error.code}: ${a.error.message} (${next})`);
  }
  for (const action of view.actions) lines.push(`${indent}  operator ${action.action} ${action.detail} at ${instant(action.at)}`);
  for (const child of view.children) lines.push(`${indent}  child:`, formatRunDetail(child, `${indent}    `).trimEnd());
  return `${lines.join('\n')}\n`;
}

/** One outbox entry on one line. */
export function formatEffect(e: EffectRecord): string {
  const when = (ms: number | null) => (ms === null ? '-' : instant(ms));
  const tail =
    e.status === 'failed'
      ? `next attempt ${e.nextAttemptAt === null ? 'never' : when(e.nextAttemptAt)}  ${e.error?.code}: ${e.error?.message}`
      : e.status === 'delivered'
        ? `artifact ${JSON.stringify(e.artifact)}`
        : `claimed ${when(e.claimedAt)}`;
  const origins = e.origins.length ? `  origins ${e.origins.join(',')}` : '';
  return `${e.key}  ${e.name}  ${e.status}  run ${e.runId}  attempts ${e.attempts}${origins}  ${tail}`;
}
