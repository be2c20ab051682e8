import { describeLease, emit, EXIT, number, required, text, UsageError, type Verb } from './common.js';

export const acquireVerb: Verb = {
  usage:
    'holdfast lane acquire --lane NAME --owner WHO [--tree PATH[,PATH...]]... [--mode shared|exclusive] [--kind KIND] [--ttl-minutes N] [--run-id ID] [--db PATH] [--json]',
  options: {
    lane: { type: 'string' },
    owner: { type: 'string' },
    tree: { type: 'string', multiple: true },
    mode: { type: 'string' },
    kind: { type: 'string' },
    'ttl-minutes': { type: 'string' },
    'run-id': { type: 'string' },
  },
  async run(ctx) {
    const { values } = ctx;
    const mode = text(values, 'mode');
    if (mode !== undefined && mode !== 'shared' && mode !== 'exclusive')
      throw new UsageError(`--mode ${JSON.stringify(mode)} is unknown; use shared or exclusive`);
    const result = await ctx.lanes.acquire({
      lane: required(values, 'lane'),
      owner: required(values, 'owner'),
      tree: ((values.tree as string[] | undefined) ?? []).flatMap((t) => t.split(',')),
      mode,
      kind: text(values, 'kind'),
      ttlMinutes: number(values, 'ttl-minutes', (n) => n > 0, 'a positive number of minutes'),
      runId: text(values, 'run-id'),
    });
    if (result.outcome === 'acquire') {
      emit(
        ctx,
        result,
        `acquired ${describeLease(result.lease)}${result.scavenged.length ? ` (scavenged expired #${result.scavenged.join(', #')})` : ''}`,
      );
      return EXIT.done;
    }
    emit(
      ctx,
      result,
      `refused (${result.reason}, journaled as #${result.seq}): ${result.message}\ncolliding lease: ${describeLease(result.colliding)}`,
    );
    return EXIT.refused;
  },
};
