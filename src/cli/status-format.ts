import type { HoldfastStatus, KeyStatus, PriorityCounts, WaitingRunBrief } from '../daemon/client/holdfast-client.js';
import { instant } from './run-format.js';

const short = (id: string) => id.slice(0, 8);
const counts = (q: PriorityCounts) => `${q.urgent} urgent, ${q.normal} normal, ${q.background} background`;

/** `holdfast status` for a person: one block per key, then the totals. */
export function formatStatus(status: HoldfastStatus): string {
  const lines = [`${status.source} at ${instant(status.at)}`];
  if (status.keys.length === 0) lines.push('no keys with live work');
  for (const key of status.keys) lines.push(...formatKey(key));
  const t = status.totals;
  lines.push(
    `totals: ${t.keys} key${t.keys === 1 ? '' : 's'}; queued ${counts(t.queued)}; ${t.running} running, ${t.parked} parked, ${t.waiting} waiting`,
  );
  if (status.truncated) lines.push('(more live runs than one status reads: counts cover the oldest ones)');
  return `${lines.join('\n')}\n`;
}

function formatKey(key: KeyStatus): string[] {
  const lease = key.owner;
  const owner =
    lease === null
      ? 'no owner yet'
      : lease.ownerId === null
        ? `no owner (released at epoch ${lease.epoch})`
        : `owner ${lease.ownerId} epoch ${lease.epoch} lease ${lease.live ? 'until' : 'expired at'} ${instant(lease.expiresAt)}`;
  const lines = [`${key.key}  ${owner}`, `  queued ${counts(key.queued)}`];
  if (key.running)
    lines.push(`  running ${short(key.running.id)} ${key.running.flow} (${key.running.priority}, attempt ${key.running.attempts})`);
  for (const run of key.parked) lines.push(`  parked  ${formatWaiting(run)}`);
  for (const run of key.waiting) lines.push(`  waiting ${formatWaiting(run)}`);
  return lines;
}

function formatWaiting(run: WaitingRunBrief): string {
  const until = run.wakeAt !== null ? `until ${instant(run.wakeAt)}` : run.onRun !== null ? `until run ${short(run.onRun)} ends` : '';
  return `${short(run.id)} ${run.flow} (${run.kind}) ${until}`.trimEnd();
}
