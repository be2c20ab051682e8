// Fleet torture (I6, K1, K5, K8, D3): three kernel processes standing in for machines on one
// Postgres schema, 1,000 commands across 50 keys submitted in waves from the test process (mixed
// priorities; urgent ones preempt with steal or abort-keep, across processes through NOTIFY), each
// a few journaled steps and one effect to a deduping receiver. Meanwhile processes are SIGKILLed
// (and replaced) and SIGSTOPped past their lease, then resumed, at seeded random instants. Checked
// afterwards from the database, the step bodies' execution lines and the receiver: every command
// exactly once, epochs of a key never interleave, no two runs of a key at once, no committed step
// redone, every effect acted on exactly once. HOLDFAST_FLEET_SEED replays a run's choices.
import { randomInt } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from 'holdfast/testing';
import { postgresForTests } from '../../support/postgres.js';
import { dedupingReceiver, Fleet, outsidePool, type LogLine, type Member } from './fleet-support.js';
import { allCompleted, choreCommands, fleetClient, pause, progress, submitInWaves, verifyFleet } from './fleet-workload.js';

const pg = await postgresForTests('fleet torture');
afterAll(() => pg.dropSchemas());

const PROCESSES = 3;
const OWNER_TTL_MS = 1_500;
const SHAPE = { commands: 1_000, keys: 50, urgentShare: 0.1, maxSteps: 4, maxStepMs: 8 };

interface Fault {
  readonly kind: 'kill' | 'pause';
  readonly pid: number;
  /** Runs not yet ended when the fault hit. */
  readonly pending: number;
  /** For a pause: when it began and ended (ms, the clock the processes log with). */
  window?: { from: number; to: number };
}

describe.skipIf(!pg.available)('a fleet of three kernel processes on one Postgres schema', () => {
  it('1,000 commands on 50 keys under random SIGKILL and SIGSTOP/SIGCONT: exactly once, fenced, no step redone, effects once', async () => {
    const seed = Number(process.env.HOLDFAST_FLEET_SEED ?? randomInt(1, 2 ** 31));
    console.log(`[fleet torture] seed ${seed} (replay the choices with HOLDFAST_FLEET_SEED=${seed})`);
    const random = seededRandom(seed);
    const started = performance.now();
    const receiver = await dedupingReceiver();
    const fleet = new Fleet(pg.schema('fleet_torture'), `hf-torture-${seed}`, {
      RECEIVER: receiver.url,
      OWNER_TTL_MS: String(OWNER_TTL_MS),
      POLL_MS: '200',
    });
    const pool = outsidePool();
    const diagnose = () => `seed ${seed}; schema ${fleet.schema}; logs in ${fleet.dir}\n${fleet.stderr()}`;

    // Started together: the migrations run once, under the advisory lock, whoever comes first.
    await Promise.all(Array.from({ length: PROCESSES }, () => fleet.start()));
    const commands = choreCommands(random, SHAPE);
    const client = fleetClient(fleet.schema);
    let submitted = false;
    const submitting = submitInWaves(client, commands, 10, 600).then(() => (submitted = true));

    // Faults at seeded instants on seeded victims while work is owed, at least six of them: every
    // third one (the first included) a pause past the lease (TTL plus 1 to 2 s; at most one process
    // paused at a time), the others a SIGKILL, the process replaced by a new one (a new machine).
    const faults: Fault[] = [];
    const pauses: Promise<void>[] = [];
    const running = () => fleet.live().filter((m) => m.state === 'running');
    for (;;) {
      await pause(1_000 + random.next() * 1_000);
      const now = await progress(pool, fleet.schema);
      if (submitted && (now.pending === 0 || (now.completed >= 0.85 * SHAPE.commands && faults.length >= 6))) break;
      if (faults.length >= 12) break;
      const candidates = running();
      const victim = candidates[Math.floor(random.next() * candidates.length)]!;
      const pausing = faults.length % 3 === 0 && fleet.live().every((m) => m.state !== 'stopped');
      const fault: Fault = { kind: pausing ? 'pause' : 'kill', pid: victim.pid, pending: now.pending };
      faults.push(fault);
      if (pausing) pauses.push(pauseFor(fleet, victim, OWNER_TTL_MS + 1_000 + random.next() * 1_000, fault));
      else {
        await fleet.kill(victim);
        await fleet.start();
      }
    }
    await submitting;
    await Promise.all(pauses);
    await allCompleted(pool, fleet.schema, SHAPE.commands, 90_000, diagnose);
    const exitCodes = await fleet.stopAll();
    expect(
      exitCodes.every((c) => c === 0),
      diagnose(),
    ).toBe(true);

    const figures = await verifyFleet(pool, fleet, commands, receiver.deliveries);
    const seconds = ((performance.now() - started) / 1_000).toFixed(1);
    console.log(`[fleet torture] seed ${seed}: ${seconds} s; faults ${JSON.stringify(faults)}; ${JSON.stringify(figures)}`);

    // The faults hit while work was owed, and they did what they are for.
    const kills = faults.filter((f) => f.kind === 'kill');
    const paused = faults.filter((f) => f.kind === 'pause');
    expect(kills.length, diagnose()).toBeGreaterThanOrEqual(2);
    expect(paused.length, diagnose()).toBeGreaterThanOrEqual(1);
    expect(faults.every((f) => f.pending > 0)).toBe(true);
    expect(figures.takeovers, 'keys of killed or paused processes were taken over').toBeGreaterThan(0);
    expect(figures.preemptions, 'urgent commands preempted runs').toBeGreaterThan(0);
    // Every key a paused process held and another process took during the pause, the paused one
    // gave up once resumed (the store had fenced it out; the committed-step checks above show it
    // wrote nothing under the old epoch after the take-over).
    const log = fleet.log();
    const fenced = paused.flatMap((f) => (f.window ? keysTakenFromPaused(log, f.pid, f.window) : []));
    expect(
      fenced.filter((k) => !k.gaveUp),
      diagnose(),
    ).toEqual([]);
    console.log(`[fleet torture] keys taken from paused processes and given up by them: ${fenced.length}`);
  }, 180_000);
});

async function pauseFor(fleet: Fleet, member: Member, ms: number, fault: Fault): Promise<void> {
  const from = Date.now();
  await fleet.pause(member);
  await pause(ms);
  if (member.state !== 'stopped') return; // killed meanwhile
  fault.window = { from, to: Date.now() };
  fleet.resume(member);
}

/**
 * Keys `pid` held when its pause began (acquired, not lost or released before) that another
 * process took over during the pause, and whether `pid` afterwards logged giving that epoch up
 * (lost; or released, when its release had reached the store before the take-over).
 */
function keysTakenFromPaused(log: readonly LogLine[], pid: number, window: { from: number; to: number }) {
  const held = new Map<string, number>();
  const endsEpoch = (l: LogLine) => l.what === 'owner:lost' || l.what === 'owner:released';
  for (const l of log.filter((x) => x.pid === pid && x.at < window.from)) {
    const key = String(l.data.key);
    if (l.what === 'owner:acquired') held.set(key, Number(l.data.epoch));
    else if (endsEpoch(l) && held.get(key) === Number(l.data.epoch)) held.delete(key);
  }
  const takenOver = (key: string) =>
    log.some(
      (l) =>
        l.pid !== pid &&
        l.what === 'owner:acquired' &&
        l.data.key === key &&
        l.data.takeover === true &&
        l.at >= window.from &&
        l.at <= window.to,
    );
  return [...held]
    .filter(([key]) => takenOver(key))
    .map(([key, epoch]) => ({
      key,
      epoch,
      gaveUp: log.some((l) => l.pid === pid && endsEpoch(l) && l.data.key === key && Number(l.data.epoch) === epoch),
    }));
}
