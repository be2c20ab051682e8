import type { LaneStatus } from '../../lanes/service.js';
import { describeLease, emit, EXIT, minutes, number, type Verb } from './common.js';

export const liveVerb: Verb = {
  usage: 'holdfast lane live [--expire-dead] [--db PATH] [--json]',
  options: { 'expire-dead': { type: 'boolean' } },
  readOnly: true,
  async run(ctx) {
    const leases = await ctx.lanes.live({ expireDead: ctx.values['expire-dead'] === true });
    emit(ctx, { leases }, leases.length === 0 ? 'no live leases' : leases.map(describeLease).join('\n'));
    return EXIT.done;
  },
};

export const statusVerb: Verb = {
  usage: 'holdfast lane status [--window-minutes N] [--db PATH | --url URL [--token T]] [--json]',
  options: { 'window-minutes': { type: 'string' } },
  readOnly: true,
  async run(ctx) {
    const window = number(ctx.values, 'window-minutes', (n) => n > 0, 'a positive number of minutes');
    const statuses = await ctx.lanes.status({ windowMs: window === undefined ? undefined : window * 60_000 });
    emit(ctx, { leases: statuses }, formatLaneStatuses(statuses));
    return EXIT.done;
  },
};

/** `holdfast lane status` for a person: one line per live lease with its verdict. */
export function formatLaneStatuses(statuses: readonly LaneStatus[]): string {
  const lines = statuses.map(
    (s) =>
      `${s.verdict.padEnd(9)} age ${minutes(s.ageMs)} beat ${minutes(s.sinceBeatMs)} ago${s.expired ? ' EXPIRED' : ''}  ${describeLease(s.lease)}${holding(s)}`,
  );
  return lines.length === 0 ? 'no live leases' : lines.join('\n');
}

/** The run holding a lease taken with ctx.lane: `held by run ID (flow on key, status, N steps)`. */
function holding(s: LaneStatus): string {
  const run = s.run;
  if (run === undefined) return '';
  if (run.status === null) return `\n          held by run ${run.id} (not in this database)`;
  return `\n          held by run ${run.id} (flow ${run.flow} on key ${run.key}, ${run.status}, ${run.committedSteps} step(s) committed, ctx.lane at position ${run.position})`;
}
