import { emit, EXIT, required, text, type Verb } from './common.js';

export const haltVerb: Verb = {
  usage:
    'holdfast lane halt --handle HANDLE [--lane NAME] [--owner WHO] [--reason TEXT] [--command CMD] [--run-id ID] [--db PATH] [--json]',
  options: {
    handle: { type: 'string' },
    lane: { type: 'string' },
    owner: { type: 'string' },
    reason: { type: 'string' },
    command: { type: 'string' },
    'run-id': { type: 'string' },
  },
  async run(ctx) {
    const v = ctx.values;
    const result = await ctx.lanes.halt({
      handle: required(v, 'handle'),
      lane: text(v, 'lane'),
      owner: text(v, 'owner'),
      reason: text(v, 'reason'),
      command: text(v, 'command'),
      runId: text(v, 'run-id'),
    });
    emit(
      ctx,
      result,
      `halt recorded as #${result.seq} (nothing was stopped)${result.command ? `; to stop it run: ${result.command}` : ''}`,
    );
    return EXIT.done;
  },
};

export const spawnVerb: Verb = {
  usage: 'holdfast lane spawn --lane NAME [--owner WHO] [--run-id ID] [--reason TEXT] [--db PATH] [--json]',
  options: { lane: { type: 'string' }, owner: { type: 'string' }, 'run-id': { type: 'string' }, reason: { type: 'string' } },
  async run(ctx) {
    const v = ctx.values;
    const result = await ctx.lanes.spawn({
      lane: required(v, 'lane'),
      owner: text(v, 'owner'),
      runId: text(v, 'run-id'),
      reason: text(v, 'reason'),
    });
    emit(ctx, result, `spawn intent recorded as #${result.seq} (no lease granted)`);
    return EXIT.done;
  },
};
