// `holdfast lane ...` on a Postgres database (`--db postgres://...`): lane leases serialised in the
// database's transactions, not a lock file; docs and ./DOCS collide across two CLI processes.
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../../support/daemon.js';
import { postgresForTests } from '../../support/postgres.js';

const pg = await postgresForTests('cli lanes');
afterAll(() => pg.dropSchemas());

describe.skipIf(!pg.available)('holdfast lane on Postgres', () => {
  it('acquire, a refused overlap naming the holder, status, release and scavenge', async () => {
    const db = `${pg.url}?schema=${pg.schema('cli_lanes')}`;
    const first = await cli(['lane', 'acquire', '--lane', 'docs', '--owner', 'alice', '--tree', 'docs', '--db', db, '--json']);
    expect(first.code).toBe(0);
    const lease = JSON.parse(first.stdout) as { outcome: string; lease: { id: number } };
    expect(lease.outcome).toBe('acquire');

    const refused = await cli(['lane', 'acquire', '--lane', 'site', '--owner', 'bob', '--tree', './DOCS/', '--db', db]);
    expect(refused.code).toBe(3);
    expect(refused.stdout + refused.stderr).toContain('held by alice');

    const status = await cli(['lane', 'status', '--db', db, '--json']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('"alice"');

    const released = await cli(['lane', 'release', '--lane', 'docs', '--owner', 'alice', '--lease', String(lease.lease.id), '--db', db]);
    expect(released.code).toBe(0);
    const again = await cli(['lane', 'acquire', '--lane', 'site', '--owner', 'bob', '--tree', './DOCS/', '--db', db]);
    expect(again.code).toBe(0);
    const scavenged = await cli(['lane', 'scavenge', '--db', db, '--json']);
    expect(scavenged.code).toBe(0);
    expect(JSON.parse(scavenged.stdout)).toEqual({ scavenged: [] });
  }, 60_000);
});
