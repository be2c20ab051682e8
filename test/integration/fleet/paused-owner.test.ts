// A machine paused past its lease (K1, K10, I6): kernel process A owns a key in the middle of a
// run of six 300 ms steps and an effect; it is SIGSTOPped while a step body runs, for three times
// its 1 s lease. Process B takes the key over with a higher epoch and finishes the run. On SIGCONT,
// A gives the key up, starts no step body, commits nothing; a write it then sends straight to the
// store with its old epoch is rejected (stale_epoch). Side effects show no double execution: every
// step committed once, only the step in flight at the pause ran twice (never committed by A), and
// the effect reached the receiver once, from B.
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive, until } from '../../support/processes.js';
import { postgresForTests } from '../../support/postgres.js';
import { executionChecks, executions, readFleetState } from './fleet-invariants.js';
import { dedupingReceiver, Fleet, outsidePool, type LogLine } from './fleet-support.js';
import { fleetClient, pause } from './fleet-workload.js';

const pg = await postgresForTests('fleet paused owner');
afterAll(() => pg.dropSchemas());

const KEY = 'repo:paused';
const TTL_MS = 1_000;

describe.skipIf(!pg.available)('a kernel process paused past its lease, among others on Postgres', () => {
  it('SIGSTOP mid-step: another process takes over; on SIGCONT the paused one is fenced out and runs nothing more', async () => {
    const receiver = await dedupingReceiver();
    const fleet = new Fleet(pg.schema('fleet_paused'), 'hf-fleet-paused', {
      RECEIVER: receiver.url,
      OWNER_TTL_MS: String(TTL_MS),
      POLL_MS: '100',
      PROBE_STALE: '1',
    });
    const pool = outsidePool();
    await Promise.all([fleet.start(), fleet.start()]);
    const diagnose = () => `schema ${fleet.schema}, logs in ${fleet.dir}\n${fleet.stderr()}`;
    const handle = await fleetClient(fleet.schema).submit({
      key: KEY,
      flow: 'chore',
      input: { n: 1, steps: 6, ms: 300 },
      idempotencyKey: 'paused-1',
    });
    const started = (step: string, pid?: number) =>
      fleet
        .log()
        .find((l) => l.what === 'exec' && l.data.step === step && l.data.phase === 'start' && (pid === undefined || l.pid === pid));

    // Pause whoever runs the third step, while its body runs.
    await until('the third step to start', () => started('s2') !== undefined, diagnose);
    const owner = fleet.members.find((m) => m.pid === started('s2')!.pid)!;
    const other = fleet.members.find((m) => m !== owner)!;
    const ownerEpoch = Number(started('s2')!.data.epoch);
    const pausedAt = Date.now();
    await fleet.pause(owner);
    await until('the other process to run a step of the run', () => fleet.log().some((l) => isStepStart(l, other.pid)), diagnose);
    await pause(3 * TTL_MS - (Date.now() - pausedAt));
    const resumedAt = Date.now();
    fleet.resume(owner);

    await until(
      'the paused process to probe the store with its lost epoch',
      () => line(fleet.log(), owner.pid, 'stale-probe') !== undefined,
      diagnose,
    );
    expect(await handle.result()).toMatch(/^receipt-/);
    expect(isAlive(owner.pid) && isAlive(other.pid), 'both processes still serve').toBe(true);
    expect(await fleet.stopAll()).toEqual([0, 0]);

    const log = fleet.log();
    const takeover = log.find((l) => l.pid === other.pid && l.what === 'owner:acquired' && l.data.key === KEY);
    expect(takeover?.data, diagnose()).toMatchObject({ key: KEY, takeover: true });
    const newEpoch = Number(takeover!.data.epoch);
    expect(newEpoch).toBeGreaterThan(ownerEpoch);

    // A gave the key up, and the store rejected its write with the old epoch.
    expect(line(log, owner.pid, 'owner:lost')?.data).toMatchObject({ key: KEY, epoch: ownerEpoch });
    expect(line(log, owner.pid, 'stale-probe')?.data).toEqual({ key: KEY, epoch: ownerEpoch, code: 'stale_epoch' });
    // After SIGCONT, A started no step body and committed or completed nothing.
    expect(log.filter((l) => l.pid === owner.pid && l.at >= resumedAt && isStepStart(l, owner.pid))).toEqual([]);
    expect(log.filter((l) => l.pid === owner.pid && ['run:completed', 'effect:claimed'].includes(l.what) && l.at >= pausedAt)).toEqual([]);

    // The journal: the steps before the pause under A's epoch, the rest under B's; no probe row.
    const state = await readFleetState(pool, fleet.schema);
    const journal = state.steps
      .sort((a, b) => a.seq - b.seq)
      .map((s) => `${s.name}@${s.epoch === ownerEpoch ? 'A' : s.epoch === newEpoch ? 'B' : s.epoch}`);
    expect(journal).toEqual(['s0@A', 's1@A', 's2@B', 's3@B', 's4@B', 's5@B', 'effect:deliver@B']);
    expect(state.runs).toMatchObject([
      { status: 'completed', idempotencyKey: 'paused-1', result: expect.stringMatching(/^receipt-/) as unknown },
    ]);

    // The side effects: who ran each body. Only s2 ran twice: A's never committed, B's did.
    const ran = executions(log).map((e) => `${e.step}@${e.pid === owner.pid ? 'A' : 'B'}`);
    expect(ran).toEqual(expect.arrayContaining(['s0@A', 's1@A', 's2@A', 's2@B', 's3@B', 's4@B', 's5@B']));
    expect(ran).toHaveLength(7);
    expect(executionChecks(state.steps, log)).toEqual({ missing: [], redone: [], overlapping: [] });
    expect(receiver.deliveries).toMatchObject([{ pid: other.pid, epoch: newEpoch, accepted: true }]);
  }, 90_000);
});

function isStepStart(l: LogLine, pid: number): boolean {
  return l.pid === pid && l.what === 'exec' && l.data.phase === 'start';
}

function line(log: readonly LogLine[], pid: number, what: string): LogLine | undefined {
  return log.find((l) => l.pid === pid && l.what === what);
}
