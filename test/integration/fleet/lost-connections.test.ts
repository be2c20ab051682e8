// Postgres connections lost in the middle of runs (I6, K11): two kernel processes work through
// chore commands while the test terminates every connection they hold, four times
// (pg_terminate_backend on their pools, their lease keepers' connections and their LISTEN
// connections). Nothing is lost, no step is redone, the runs continue and complete, and the
// listeners come back. A real server restart is a separate test, off unless
// HOLDFAST_TEST_PG_RESTART=1 (it restarts the server every other test shares).
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from 'holdfast/testing';
import { until } from '../../support/processes.js';
import { PG_TEST_URL, postgresForTests } from '../../support/postgres.js';
import { channelPrefix, dedupingReceiver, eventually, Fleet, outsidePool } from './fleet-support.js';
import { allCompleted, choreCommands, fleetClient, submitInWaves, verifyFleet } from './fleet-workload.js';

const db = await postgresForTests('fleet lost connections');
afterAll(() => db.dropSchemas());

const SHAPE = { commands: 240, keys: 12, urgentShare: 0.1, maxSteps: 4, maxStepMs: 20 };
const RESTART = process.env.HOLDFAST_TEST_PG_RESTART === '1';
if (db.available && !RESTART) {
  console.warn(
    '[holdfast] Postgres restart test skipped: it restarts the shared server; set HOLDFAST_TEST_PG_RESTART=1 to run it (as root, with pg_ctlcluster).',
  );
}

type Kind = 'pool' | 'lease keeper' | 'listener';

/** Terminates every backend of the fleet's kernels; returns how many of each kind. */
async function terminateFleetConnections(pool: pg.Pool, fleet: Fleet): Promise<Record<Kind, number>> {
  const { rows } = await pool.query<{ application_name: string; done: boolean }>(
    `SELECT application_name, pg_terminate_backend(pid) AS done FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid()
       AND (application_name IN ($1, $1 || '-lease-keeper') OR starts_with(application_name, $2))`,
    [fleet.app, `holdfast wake ${channelPrefix(fleet.schema)}`],
  );
  const counts: Record<Kind, number> = { pool: 0, 'lease keeper': 0, listener: 0 };
  for (const row of rows.filter((r) => r.done)) {
    counts[row.application_name === fleet.app ? 'pool' : row.application_name.endsWith('-lease-keeper') ? 'lease keeper' : 'listener']++;
  }
  return counts;
}

/** The fleet's listening backends now. */
async function listeners(pool: pg.Pool, fleet: Fleet): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND starts_with(application_name, $1)`,
    [`holdfast wake ${channelPrefix(fleet.schema)}`],
  );
  return Number(rows[0]!.n);
}

/**
 * Two kernel processes work through the chore commands; `fault` is called each time the share of
 * completed runs passes one of `at`. Ends with both stopped in order and every guarantee checked.
 */
async function workThrough(
  label: string,
  at: readonly number[],
  fault: (fleet: Fleet, pool: pg.Pool, diagnose: () => string) => Promise<void>,
) {
  const seed = Number(process.env.HOLDFAST_FLEET_SEED ?? randomInt(1, 2 ** 31));
  console.log(`[fleet ${label}] seed ${seed}`);
  const receiver = await dedupingReceiver();
  const fleet = new Fleet(db.schema(label), `hf-fleet-${label}`, { RECEIVER: receiver.url, OWNER_TTL_MS: '2000', POLL_MS: '200' });
  const pool = outsidePool();
  const diagnose = () => `seed ${seed}; logs in ${fleet.dir}\n${fleet.stderr()}`;
  await Promise.all([fleet.start(), fleet.start()]);
  const commands = choreCommands(seededRandom(seed), SHAPE);
  await submitInWaves(fleetClient(fleet.schema), commands, 3, 300);
  const progressAtFaults: number[] = [];
  for (const share of at) {
    progressAtFaults.push((await allCompleted(pool, fleet.schema, Math.ceil(share * SHAPE.commands), 60_000, diagnose)).pending);
    await fault(fleet, pool, diagnose);
  }
  await allCompleted(pool, fleet.schema, SHAPE.commands, 60_000, diagnose);
  expect(await fleet.stopAll()).toEqual([0, 0]);
  expect(
    progressAtFaults.every((pending) => pending > 0),
    'every fault hit while runs were pending',
  ).toBe(true);
  const figures = await verifyFleet(pool, fleet, commands, receiver.deliveries);
  console.log(`[fleet ${label}] seed ${seed}: ${JSON.stringify(figures)}`);
  return { fleet, pool, figures, diagnose };
}

describe.skipIf(!db.available)('a fleet on Postgres whose connections are lost', () => {
  it('every connection of two kernel processes terminated four times during runs: nothing lost, no step redone, runs complete', async () => {
    const rounds: Record<Kind, number>[] = [];
    const { fleet, figures, diagnose } = await workThrough('fleet_terminated', [0.1, 0.3, 0.5, 0.7], async (f, p, explain) => {
      rounds.push(await terminateFleetConnections(p, f));
      // Both listeners are back on connections of their own before the next round.
      await eventually('both listeners to listen again', async () => (await listeners(p, f)) >= 2, explain);
    });
    console.log(`[fleet fleet_terminated] terminated per round: ${JSON.stringify(rounds)}`);
    // Each round reached both listeners; the pools' and keepers' connections were hit too.
    expect(
      rounds.every((r) => r.listener === 2),
      diagnose(),
    ).toBe(true);
    expect(rounds.reduce((n, r) => n + r.pool, 0)).toBeGreaterThan(0);
    expect(rounds.reduce((n, r) => n + r['lease keeper'], 0)).toBeGreaterThan(0);
    // Each listener reconnected and caught up after every round (then both stopped with their kernels).
    const catchUps = fleet.log().filter((l) => l.what === 'catch-up');
    for (const m of fleet.members) expect(catchUps.filter((l) => l.pid === m.pid).length, diagnose()).toBeGreaterThanOrEqual(rounds.length);
    expect(figures.catchUps).toBe(catchUps.length);
  }, 120_000);

  it.skipIf(!RESTART)(
    'the Postgres server restarted twice during runs: nothing lost, no step redone, runs continue after reconnect',
    async () => {
      const { figures } = await workThrough('fleet_restart', [0.2, 0.6], async () => {
        execFileSync('pg_ctlcluster', ['15', 'main', 'restart'], { stdio: 'inherit' });
        await until('the server to accept connections again', () => accepting(), undefined, 60_000);
      });
      expect(figures.runs).toBe(SHAPE.commands);
    },
    180_000,
  );
});

/** Whether the server accepts a connection now (checked synchronously with pg_isready). */
function accepting(): boolean {
  try {
    execFileSync('pg_isready', ['-d', PG_TEST_URL], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
