// Cross-process preemption through LISTEN/NOTIFY (K2, K5, K6, I6). Kernel process B owns a key
// and runs a provider turn: a real child process (agent-child.js, in a process group of its own,
// with a grandchild) that would stream for 30 s. Kernel process A, another "machine" on the same
// schema, submits an urgent command for the key. B's safety-net poll is a minute, so only the
// NOTIFY on B's owner channel (`pg-notify:...`) can explain what follows, and the test asserts it
// by the order of events in B: the wake arrives, then the interrupt, with no poll between them.
// The turn's child and grandchild are gone, the urgent run runs on B, and then the interrupted
// run continues: from its frame with the same provider session (steal) or re-run from its last committed
// step (abort-keep).
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../../support/processes.js';
import { postgresForTests } from '../../support/postgres.js';
import { Fleet, gone, outsidePool, type LogLine } from './fleet-support.js';

const pg = await postgresForTests('fleet preemption');
afterAll(() => pg.dropSchemas());

const KEY = 'repo:x';

/** B's events of the key, in the order B logged them, as short labels. */
function sequence(log: readonly LogLine[], pid: number): string[] {
  return log
    .filter((l) => l.pid === pid)
    .flatMap((l) => {
      const d = l.data;
      switch (l.what) {
        case 'wake':
          return d.key === KEY && d.urgent === true ? ['wake'] : [];
        case 'run:started':
          return [`started ${String(d.flow)}`];
        case 'run:completed':
          return [`completed ${String(d.flow)}`];
        case 'run:interrupted':
          return [`interrupted ${String(d.kind)}`];
        case 'turn:started':
          return [d.interrupted ? 'turn re-issued' : 'turn'];
        case 'run:parked':
        case 'run:resumed':
        case 'run:requeued':
        case 'turn:preempted':
        case 'turn:completed':
        case 'scan':
          return [l.what];
        default:
          return [];
      }
    });
}

async function ownerInTurn(label: string) {
  const fleet = new Fleet(pg.schema(label), `hf-fleet-${label}`, { POLL_MS: '60000', OWNER_TTL_MS: '5000', LOG_SCANS: '1' });
  const work = { key: KEY, flow: 'work', input: { id: 'w1' }, idempotencyKey: 'work-w1' };
  const b = await fleet.start({ SUBMIT: JSON.stringify([work]) });
  const diagnose = () => `logs in ${fleet.dir}\n${fleet.stderr()}`;
  const find = (what: string) => fleet.log().find((l) => l.pid === b.pid && l.what === what);
  await until(
    'the turn to start its child and grandchild',
    () => find('turn:process') !== undefined && find('grandchild') !== undefined,
    diagnose,
  );
  const child = Number(find('turn:process')!.data.pgid);
  const grandchild = Number(find('grandchild')!.data.pid);
  expect(gone(child) || gone(grandchild), 'the provider processes run').toBe(false);

  // B's owner lease names its NOTIFY channel: the address other machines wake it at.
  const { rows } = await outsidePool().query<{ channel: string | null }>(`SELECT channel FROM "${fleet.schema}".owners WHERE key = $1`, [
    KEY,
  ]);
  const listening = String(find('listening')?.data.address);
  expect(rows[0]?.channel).toBe(listening);
  expect(listening).toMatch(/^pg-notify:hf_[0-9a-f]{8}_[0-9a-f]{24}$/);
  return { fleet, b, child, grandchild, diagnose };
}

describe.skipIf(!pg.available)('preemption across kernel processes through NOTIFY, with a real provider child', () => {
  it('steal: the turn on the owning process is interrupted, the urgent run runs there, then the turn is re-issued in the same provider session', async () => {
    const { fleet, b, child, grandchild, diagnose } = await ownerInTurn('fleet_steal');
    const urgent = { key: KEY, flow: 'reply', input: { id: 'u1' }, idempotencyKey: 'reply-u1', priority: 'urgent', preempt: 'steal' };
    const a = await fleet.start({ SUBMIT: JSON.stringify([urgent]) });
    const completedWork = () => fleet.log().some((l) => l.pid === b.pid && l.what === 'run:completed' && l.data.flow === 'work');
    await until('the interrupted run to complete', completedWork, diagnose);
    await until("the first turn's processes to be gone", () => gone(child) && gone(grandchild), diagnose);

    const log = fleet.log();
    expect(sequence(log, b.pid), diagnose()).toEqual([
      'scan', // at start, before the work was submitted
      'started work',
      'turn',
      'wake',
      'interrupted steal',
      'turn:preempted',
      'run:parked',
      'started reply',
      'completed reply',
      'started work',
      'run:resumed',
      'turn re-issued',
      'turn:completed',
      'completed work',
    ]);
    const turns = log.filter((l) => l.pid === b.pid && l.what === 'turn:started');
    expect(turns[1]!.data.sessionId).toBe(turns[0]!.data.sessionId);
    // A's submit came before B's wake; A never owned the key.
    const submitting = log.find((l) => l.pid === a.pid && l.what === 'submitting')!;
    const wake = log.find((l) => l.pid === b.pid && l.what === 'wake')!;
    expect(submitting.at).toBeLessThanOrEqual(wake.at);
    expect(log.filter((l) => l.pid === a.pid && l.what === 'owner:acquired' && l.data.key === KEY)).toEqual([]);
    expect(log.some((l) => l.pid === b.pid && l.what === 'turn:aborted')).toBe(true);
    expect(await fleet.stopAll()).toEqual([0, 0]);
  });

  it('abort-keep: the turn on the owning process is aborted, the urgent run runs there, then the run re-runs from its last committed step', async () => {
    const { fleet, b, child, grandchild, diagnose } = await ownerInTurn('fleet_abort_keep');
    const urgent = { key: KEY, flow: 'reply', input: { id: 'u2' }, idempotencyKey: 'reply-u2', priority: 'urgent', preempt: 'abort-keep' };
    const a = await fleet.start({ SUBMIT: JSON.stringify([urgent]) });
    const completedWork = () => fleet.log().some((l) => l.pid === b.pid && l.what === 'run:completed' && l.data.flow === 'work');
    await until('the re-run to complete', completedWork, diagnose);
    await until("the first turn's processes to be gone", () => gone(child) && gone(grandchild), diagnose);

    const log = fleet.log();
    expect(sequence(log, b.pid), diagnose()).toEqual([
      'scan',
      'started work',
      'turn',
      'wake',
      'interrupted abort-keep',
      'turn:preempted',
      'run:requeued',
      'started reply',
      'completed reply',
      'started work',
      'turn',
      'turn:completed',
      'completed work',
    ]);
    // The re-run replayed its committed first step and ran only the turn and the last step again.
    const bodies = log
      .filter((l) => l.what === 'exec' && l.data.phase === 'start')
      .map((l) => `${String(l.data.step)}#${String(l.data.attempt)}`);
    expect(bodies).toEqual(['plan#1', 'reply#1', 'finish#2']);
    const submitting = log.find((l) => l.pid === a.pid && l.what === 'submitting')!;
    expect(submitting.at).toBeLessThanOrEqual(log.find((l) => l.pid === b.pid && l.what === 'wake')!.at);
    expect(log.filter((l) => l.pid === a.pid && l.what === 'owner:acquired' && l.data.key === KEY)).toEqual([]);
    expect(await fleet.stopAll()).toEqual([0, 0]);
  });
});
