import { describeLease, emit, EXIT, minutes, number, type Verb } from './common.js';

export const liveVerb: Verb = {
  usage: 'holdfast lane live [--expire-dead] [--db PATH] [--json]',
  options: { 'expire-dead': { type: 'boolean' } },
  async run(ctx) {
    const leases = await ctx.lanes.live({ expireDead: ctx.values['expire-dead'] === true });
    emit(ctx, { leases }, leases.length === 0 ? 'no live leases' : leases.map(describeLease).join('\n'));
    return EXIT.done;
  },
};

export const statusVerb: Verb = {
  usage: 'holdfast lane status [--window-minutes N] [--db PATH] [--json]',
  options: { 'window-minutes': { type: 'string' } },
  async run(ctx) {
    const window = number(ctx.values, 'window-minutes', (n) => n > 0, 'a positive number of minutes');
    const statuses = await ctx.lanes.status({ windowMs: window === undefined ? undefined : window * 60_000 });
    const lines = statuses.map(
      (s) =>
        `${s.verdict.padEnd(9)} age ${minutes(s.ageMs)} beat ${minutes(s.sinceBeatMs)} ago${s.expired ? ' EXPIRED' : ''}  ${describeLease(s.lease)}`,
    );
    emit(ctx, { leases: statuses }, lines.length === 0 ? 'no live leases' : lines.join('\n'));
    return EXIT.done;
  },
};
