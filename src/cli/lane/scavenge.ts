import { describeLease, emit, EXIT, type Verb } from './common.js';

/**
 * `holdfast lane scavenge`: the janitor (L6). Journals a scavenge for every expired lease (beat
 * older than its TTL + the grace, or past the grace with its holder process dead on this host;
 * a lease a run holds expires through its TTL only), in one transaction, and prints what it
 * reclaimed. Runs waiting for a reclaimed lease were due at its expiry already.
 */
export const scavengeVerb: Verb = {
  usage: 'holdfast lane scavenge [--db PATH] [--json]',
  options: {},
  async run(ctx) {
    const scavenged = await ctx.lanes.scavenge();
    const human =
      scavenged.length === 0
        ? 'nothing to reclaim: no live lease is expired'
        : [`reclaimed ${scavenged.length} expired lease(s):`, ...scavenged.map((l) => `  ${describeLease(l)}`)].join('\n');
    emit(ctx, { scavenged }, human);
    return EXIT.done;
  },
};
