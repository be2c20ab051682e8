// D3 with real processes: effects are claimed durably, emitted, then recorded; a kernel SIGKILLed
// between the claim and the record re-emits under the same idempotence key after a restart, one
// killed after the record never emits again, and under many random kill instants a receiver that
// dedupes on the key sees every owed effect exactly once.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededRandom } from 'holdfast/testing';
import { query, startFixture, until, type Fixture } from '../../support/processes.js';
import { countByFirst, diagnosis, eventsOf, freshFiles, kill, pause, receiverLines } from './support.js';

const FIXTURE = 'durable-outbox-kernel.ts';

interface EffectEvent {
  readonly runId: string;
  readonly effectKey: string;
  readonly attempt: number;
}
interface EffectRow {
  readonly key: string;
  readonly status: string;
  readonly attempts: number;
  readonly artifact: string | null;
}
interface RunRow {
  readonly id: string;
  readonly status: string;
  readonly result: string | null;
}

function files(prefix: string) {
  const f = freshFiles(prefix);
  return { ...f, raw: join(f.dir, 'raw-receiver'), dedupe: join(f.dir, 'dedupe-receiver') };
}

const effects = (db: string) => query<EffectRow>(db, 'SELECT key, status, attempts, artifact FROM effects ORDER BY key');
const runs = (db: string) => query<RunRow>(db, 'SELECT id, status, result FROM runs ORDER BY seq');

/** Waits until the fixture ended on its own (it SIGKILLs itself) and returns its signal. */
async function ended(fixture: Fixture, diagnose: () => string): Promise<NodeJS.Signals | null> {
  await until('the fixture to kill itself', () => fixture.child.exitCode !== null || fixture.child.signalCode !== null, diagnose);
  return (await fixture.exited()).signal;
}

describe('outbox with real SIGKILL (D3)', () => {
  it('SIGKILL between claim and record: the restarted kernel re-emits with the same key, records it, the run completes', async () => {
    const { db, log, raw, dedupe } = files('outbox-a');
    const first = startFixture(FIXTURE, [db, log, raw, dedupe], { KILL_AT: 'emitted' });
    const diagnose = diagnosis(db, log, [first]);
    expect(await ended(first, diagnose), diagnose()).toBe('SIGKILL');
    const [run] = runs(db);
    const key = `${run!.id}/1/reply`;
    expect(run!.status, diagnose()).toBe('running');
    expect(effects(db)).toEqual([{ key, status: 'claimed', attempts: 1, artifact: null }]);
    expect(receiverLines(raw)).toEqual([[key, '1', String(first.pid)]]);

    const second = startFixture(FIXTURE, [db, log, raw, dedupe]);
    const again = diagnosis(db, log, [first, second]);
    await second.line('results');
    expect((await second.exited()).code, again()).toBe(0);
    const artifact = { comment: `c-0-${second.pid}` };
    expect(receiverLines(raw), 'emitted again, same key, attempt 2').toEqual([
      [key, '1', String(first.pid)],
      [key, '2', String(second.pid)],
    ]);
    expect(receiverLines(dedupe), 'a deduping receiver saw it once').toEqual([[key]]);
    expect(effects(db)).toEqual([{ key, status: 'delivered', attempts: 2, artifact: JSON.stringify(artifact) }]);
    expect(runs(db)).toEqual([{ id: run!.id, status: 'completed', result: JSON.stringify(artifact) }]);
    expect(second.stdout()).toContain(`results ${JSON.stringify([artifact])}`);
    const claimed = eventsOf<EffectEvent>(log, 'effect:claimed').map((e) => [e.effectKey, e.attempt]);
    expect(claimed).toEqual([
      [key, 1],
      [key, 2],
    ]);
    expect(eventsOf<EffectEvent>(log, 'effect:delivered', second.pid).map((e) => e.effectKey)).toEqual([key]);
  });

  it('SIGKILL right after the record: never emitted again, the run completes with the recorded artifact', async () => {
    const { db, log, raw, dedupe } = files('outbox-b');
    const first = startFixture(FIXTURE, [db, log, raw, dedupe], { KILL_AT: 'delivered' });
    const diagnose = diagnosis(db, log, [first]);
    expect(await ended(first, diagnose), diagnose()).toBe('SIGKILL');
    const [run] = runs(db);
    const key = `${run!.id}/1/reply`;
    const artifact = { comment: `c-0-${first.pid}` };
    expect(run!.status, diagnose()).toBe('running');
    expect(effects(db)).toEqual([{ key, status: 'delivered', attempts: 1, artifact: JSON.stringify(artifact) }]);
    expect(eventsOf<EffectEvent>(log, 'effect:delivered', first.pid).map((e) => e.effectKey)).toEqual([key]);

    const second = startFixture(FIXTURE, [db, log, raw, dedupe]);
    const again = diagnosis(db, log, [first, second]);
    await second.line('results');
    expect((await second.exited()).code, again()).toBe(0);
    expect(receiverLines(raw), 'the receiver got exactly one delivery').toEqual([[key, '1', String(first.pid)]]);
    expect(receiverLines(dedupe)).toEqual([[key]]);
    expect(eventsOf<EffectEvent>(log, 'effect:claimed', second.pid), 'not even claimed again').toEqual([]);
    expect(effects(db)).toEqual([{ key, status: 'delivered', attempts: 1, artifact: JSON.stringify(artifact) }]);
    expect(runs(db)).toEqual([{ id: run!.id, status: 'completed', result: JSON.stringify(artifact) }]);
    expect(second.stdout()).toContain(`results ${JSON.stringify([artifact])}`);
  });

  it('50 random kill instants: every owed effect reaches a deduping receiver exactly once, at most one extra delivery per kill', async () => {
    // Two chains of kernel lives run side by side, each on a file of its own. Every life submits a
    // batch of runs (one key: at most one emit in flight), and is SIGKILLed at a random instant
    // within the time its work takes; a last life finishes what is left.
    const chains = 2;
    const lives = 25;
    const batch = 5;
    const windowMs = 120;
    const chain = async (seed: number) => {
      const { db, log, raw, dedupe } = files(`outbox-c${seed}`);
      const random = seededRandom(seed);
      const fixtures: Fixture[] = [];
      const kills: { delayMs: number; open: number; claimed: number }[] = [];
      const env = (life: number, serve: boolean) => ({
        FROM: String(life * batch),
        TO: String(Math.min(life + 1, lives) * batch),
        STEP_DELAY_MS: '5',
        SERVE: serve ? '1' : '0',
      });
      for (let life = 0; life < lives; life++) {
        const fixture = startFixture(FIXTURE, [db, log, raw, dedupe], env(life, true));
        fixtures.push(fixture);
        await fixture.line('ready');
        const delayMs = Math.floor(random.next() * windowMs);
        await pause(delayMs);
        await kill(fixture);
        expect((await fixture.exited()).signal, diagnosis(db, log, fixtures)()).toBe('SIGKILL');
        const open = query<{ n: number }>(db, "SELECT count(*) AS n FROM runs WHERE status <> 'completed'")[0]!.n;
        const claimed = query<{ n: number }>(db, "SELECT count(*) AS n FROM effects WHERE status = 'claimed'")[0]!.n;
        kills.push({ delayMs, open, claimed });
      }
      const last = startFixture(FIXTURE, [db, log, raw, dedupe], env(lives, false));
      fixtures.push(last);
      const diagnose = diagnosis(db, log, fixtures);
      await last.line('results', 60_000);
      expect((await last.exited()).code, diagnose()).toBe(0);
      return { db, raw, dedupe, kills, diagnose };
    };
    const outcomes = await Promise.all(Array.from({ length: chains }, (_, i) => chain(i + 1)));

    let totalKills = 0;
    let extra = 0;
    for (const { db, raw, dedupe, kills, diagnose } of outcomes) {
      totalKills += kills.length;
      const all = runs(db);
      expect(all, diagnose()).toHaveLength(lives * batch);
      expect(
        all.filter((r) => r.status !== 'completed'),
        diagnose(),
      ).toEqual([]);
      const owed = all.map((r) => `${r.id}/1/reply`).sort();
      // The deduping receiver: every owed effect exactly once.
      const deduped = receiverLines(dedupe).map(([k]) => k ?? '');
      expect([...deduped].sort(), diagnose()).toEqual(owed);
      // The receiver that keeps every delivery: the same keys, at most one extra line per kill.
      const rawLines = receiverLines(raw);
      const perKey = countByFirst(rawLines);
      expect([...perKey.keys()].sort()).toEqual(owed);
      expect(rawLines.length - perKey.size, diagnose()).toBeLessThanOrEqual(kills.length);
      extra += rawLines.length - perKey.size;
      // Each effect delivered once, with the artifact its run returned; claims >= emits.
      const rows = new Map(effects(db).map((e) => [e.key, e]));
      for (const r of all) {
        const row = rows.get(`${r.id}/1/reply`);
        expect(row?.status).toBe('delivered');
        expect(row?.artifact).toBe(r.result);
        expect(row!.attempts).toBeGreaterThanOrEqual(perKey.get(row!.key)!);
      }
    }
    expect(totalKills).toBe(chains * lives);
    expect(extra).toBeLessThanOrEqual(totalKills);
    // The kills must land while work was owed for the test to mean something.
    const kills = outcomes.flatMap((o) => o.kills);
    const midWork = kills.filter((k) => k.open > 0).length;
    const inWindow = kills.filter((k) => k.claimed > 0).length;
    const summary = `kills ${kills.length}, mid-work ${midWork}, between claim and record ${inWindow}, extra deliveries ${extra}`;
    expect(midWork, summary).toBeGreaterThan(kills.length / 2);
    expect(inWindow, summary).toBeGreaterThan(0);
  }, 120_000);
});
