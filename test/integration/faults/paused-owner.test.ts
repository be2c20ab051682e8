// An owner paused (SIGSTOP) past its lease while its run is inside a long step that talks to an
// external system, with a second kernel process on the same SQLite file, each process its own
// host so the key passes only by lease expiry (K1, K10). The second process takes the key over
// and completes the run; on SIGCONT the paused owner must see its signal aborted within a few
// loop iterations, commit nothing, and every effect it still sends must be refused by a receiver
// that checks the fencing token.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, logLines, query, startFixture, until, type Fixture } from '../../support/processes.js';
import { eventLines, payload, type EventLine } from '../../support/fixture-logs.js';

const KEY = 'repo:paused';
const PAUSE_MS = 3_000; // three times the 1 s lease

/** One line of a fixture's log or effects file: `<kind> <fields...> <pid> <ms>`, in append order. */
/** An effect the external system received: `effect <key> <epoch> <pid> <ms>`. */
interface Effect {
  readonly index: number;
  readonly key: string;
  readonly epoch: number;
  readonly pid: number;
}

function effectsOf(file: string): Effect[] {
  return eventLines(file).map((e) => ({ index: e.index, key: e.fields[0] ?? '', epoch: Number(e.fields[1]), pid: e.pid }));
}

/**
 * The external system's check of the fencing token: accept an effect only if its epoch is at
 * least the highest epoch seen so far for its key.
 */
function fencedReceiver(effects: readonly Effect[]): { accepted: Effect[]; rejected: Effect[] } {
  const highest = new Map<string, number>();
  const accepted: Effect[] = [];
  const rejected: Effect[] = [];
  for (const effect of effects) {
    if (effect.epoch >= (highest.get(effect.key) ?? 0)) {
      highest.set(effect.key, effect.epoch);
      accepted.push(effect);
    } else rejected.push(effect);
  }
  return { accepted, rejected };
}

/** The state letter of /proc/<pid>/stat ('T' once SIGSTOP took effect). */
function procState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2);
  } catch {
    return '';
  }
}

interface OwnerEvent {
  readonly key: string;
  readonly epoch: number;
  readonly reason?: string;
}

async function stop(fixture: Fixture): Promise<number | null> {
  fixture.child.kill('SIGTERM');
  const { code } = await fixture.exited();
  return code;
}

describe('an owner paused past its lease', () => {
  it('SIGSTOP for 3 s inside a long step: another kernel takes over, the paused one is fenced out on SIGCONT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-paused-'));
    const db = join(dir, 'state.db');
    const log = join(dir, 'events.log');
    const effects = join(dir, 'effects.log');
    const env = { OWNER_TTL_MS: '1000', REPLY_TICKS: '20' };
    const first = startFixture('paused-kernel.ts', [db, log, effects], env);
    await first.line('ready'); // schema created before the second process opens the file
    const second = startFixture('paused-kernel.ts', [db, log, effects], { ...env, SUBMIT: '1' });
    await second.line('ready');
    const diagnose = () =>
      `pids ${first.pid}/${second.pid}; owners ${JSON.stringify(query(db, 'SELECT * FROM owners'))}; log:\n` +
      `${logLines(log)
        .map((l) => l.join(' '))
        .join('\n')}\neffects: ${JSON.stringify(effectsOf(effects))}\nstderr:\n${first.stderr()}${second.stderr()}`;

    // Whoever writes effects owns the key; let it write a few, then pause it mid-step.
    await until('the owner to send a few effects', () => effectsOf(effects).length >= 3, diagnose);
    const ownerPid = effectsOf(effects)[0]!.pid;
    const [owner, other] = ownerPid === first.pid ? [first, second] : [second, first];
    expect(owner.pid, 'the step runs in one of the two kernels').toBe(ownerPid);
    const ownerEpoch = effectsOf(effects)[0]!.epoch;
    process.kill(owner.pid, 'SIGSTOP');
    await until('the owner to be stopped', () => procState(owner.pid) === 'T', diagnose);
    const pausedAt = performance.now();
    const sentBeforePause = effectsOf(effects).filter((e) => e.pid === owner.pid).length;

    // The other kernel takes the key over once the lease expired and starts sending its own
    // effects; the pause lasts PAUSE_MS, and at least until the new owner's first effect.
    await until('the other kernel to send an effect', () => effectsOf(effects).some((e) => e.pid === other.pid), diagnose);
    const left = PAUSE_MS - (performance.now() - pausedAt);
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    expect(effectsOf(effects).filter((e) => e.pid === owner.pid)).toHaveLength(sentBeforePause);
    process.kill(owner.pid, 'SIGCONT');

    const ownerLine = (kind: string) => (e: EventLine) => e.pid === owner.pid && e.kind === kind;
    const completed = (e: EventLine) => e.kind === 'run:completed';
    await until(
      'the paused owner to see the abort and the run to complete',
      () => [ownerLine('saw-abort'), ownerLine('owner:lost'), completed].every((p) => eventLines(log).some(p)),
      diagnose,
    );
    expect(isAlive(owner.pid) && isAlive(other.pid), 'both kernels still serve').toBe(true);
    // Orderly stops: once both exited, whatever the stale owner might still write has landed.
    expect(await stop(owner)).toBe(0);
    expect(await stop(other)).toBe(0);

    const all = eventLines(log);
    const by = (pid: number, kind: string) => all.filter((e) => e.pid === pid && e.kind === kind);
    const takeover = by(other.pid, 'owner:acquired').find((e) => payload<OwnerEvent>(e).key === KEY);
    expect(takeover, diagnose()).toBeDefined();
    const newEpoch = payload<OwnerEvent>(takeover!).epoch;
    expect(newEpoch).toBe(ownerEpoch + 1);

    // (a) The paused owner's signal was aborted after SIGCONT: it saw the abort, and lost the key
    // as lapsed (its lease proof ran out while it was stopped), within a bounded number of loop
    // iterations. Counted in requests received after the resume: the one in flight at the pause
    // arrives (it cannot be recalled); then, since the step's 50 ms timer and the kernel's watch
    // timer were both due at SIGCONT and the step's may fire first, one more iteration may check
    // the signal before the watch aborts it and send one more request. A third only if the pause
    // caught the watch timer mid-tick (it is re-armed after the resume then, not overdue).
    expect(by(owner.pid, 'saw-abort'), diagnose()).toHaveLength(1);
    expect(by(owner.pid, 'owner:lost').map((e) => payload<OwnerEvent>(e))).toEqual([{ key: KEY, epoch: ownerEpoch, reason: 'lapsed' }]);
    const sentAfterResume = effectsOf(effects).filter((e) => e.pid === owner.pid).length - sentBeforePause;
    expect(sentAfterResume, diagnose()).toBeGreaterThanOrEqual(1);
    expect(sentAfterResume, diagnose()).toBeLessThanOrEqual(3);

    // (b) Nothing was committed at the stale epoch: the one step row and the run carry the new
    // owner's epoch, and the paused owner committed and completed nothing.
    expect(by(owner.pid, 'step:committed')).toEqual([]);
    expect(by(owner.pid, 'run:completed')).toEqual([]);
    const steps = query<{ seq: number; name: string; epoch: number }>(
      db,
      'SELECT s.seq, s.name, s.epoch FROM steps s JOIN runs r ON r.seq = s.run_seq WHERE r.key = ?',
      KEY,
    );
    expect(steps).toEqual([{ seq: 0, name: 'reply', epoch: newEpoch }]);
    const runs = query<{ status: string; attempts: number; epoch: number; result: string }>(
      db,
      'SELECT status, attempts, epoch, result FROM runs WHERE key = ?',
      KEY,
    );
    expect(runs).toEqual([{ status: 'completed', attempts: 2, epoch: newEpoch, result: '"done"' }]);

    // (c) The fencing token protects the external system: after the new owner's first effect,
    // everything the receiver accepts comes from the new owner, and every effect the stale owner
    // still got through (at least the request in flight at the pause) is rejected.
    const received = effectsOf(effects);
    const firstNew = received.find((e) => e.epoch === newEpoch)!;
    expect(firstNew.pid).toBe(other.pid);
    const { accepted, rejected } = fencedReceiver(received);
    const stale = received.filter((e) => e.pid === owner.pid && e.index > firstNew.index);
    expect(stale).toHaveLength(sentAfterResume);
    expect(stale.every((e) => e.epoch === ownerEpoch)).toBe(true);
    expect(rejected).toEqual(stale);
    const acceptedSinceTakeover = accepted.filter((e) => e.index >= firstNew.index);
    expect(acceptedSinceTakeover.every((e) => e.pid === other.pid && e.epoch === newEpoch)).toBe(true);
    expect(acceptedSinceTakeover).toHaveLength(20); // the new owner's whole reply

    // (d) The run completed exactly once, by the new owner.
    expect(all.filter(completed).map((e) => e.pid)).toEqual([other.pid]);
    expect(all.filter((e) => e.kind === 'run:failed')).toEqual([]);
  });
});
