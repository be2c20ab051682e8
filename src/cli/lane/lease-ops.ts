import { describeLease, emit, EXIT, leaseId, number, required, text, type Verb } from './common.js';

const LEASE_OPTIONS = { lane: { type: 'string' }, owner: { type: 'string' }, lease: { type: 'string' } } as const;

export const releaseVerb: Verb = {
  usage: 'holdfast lane release --lane NAME --owner WHO [--lease ID] [--db PATH] [--json]',
  options: LEASE_OPTIONS,
  async run(ctx) {
    const { released } = await ctx.lanes.release({
      lane: required(ctx.values, 'lane'),
      owner: required(ctx.values, 'owner'),
      lease: leaseId(ctx.values),
    });
    emit(
      ctx,
      { released },
      released ? `released ${describeLease(released)}` : 'nothing released: no live lease on that lane is held by that owner',
    );
    return released ? EXIT.done : EXIT.refused;
  },
};

export const heartbeatVerb: Verb = {
  usage: 'holdfast lane heartbeat --lane NAME --owner WHO [--lease ID] [--coalesce-ms N] [--db PATH] [--json]',
  options: { ...LEASE_OPTIONS, 'coalesce-ms': { type: 'string' } },
  async run(ctx) {
    const result = await ctx.lanes.heartbeat({
      lane: required(ctx.values, 'lane'),
      owner: text(ctx.values, 'owner') ?? '',
      lease: leaseId(ctx.values),
      coalesceWithinMs: number(ctx.values, 'coalesce-ms', (n) => n >= 0, 'a number of milliseconds >= 0'),
    });
    if (!result.beaten) {
      emit(ctx, result, 'nothing beaten: no live lease on that lane is held by exactly that owner (an empty owner never matches)');
      return EXIT.refused;
    }
    emit(ctx, result, `${result.coalesced ? 'coalesced (beaten recently, nothing written)' : 'beaten'} ${describeLease(result.lease)}`);
    return EXIT.done;
  },
};

export const adoptVerb: Verb = {
  usage: 'holdfast lane adopt --lane NAME --owner NEW_HOLDER [--lease ID] [--db PATH] [--json]',
  options: LEASE_OPTIONS,
  async run(ctx) {
    const { adopted } = await ctx.lanes.adopt({
      lane: required(ctx.values, 'lane'),
      owner: required(ctx.values, 'owner'),
      lease: leaseId(ctx.values),
    });
    emit(ctx, { adopted }, adopted ? `adopted ${describeLease(adopted)}` : 'nothing adopted: no live lease on that lane');
    return adopted ? EXIT.done : EXIT.refused;
  },
};
