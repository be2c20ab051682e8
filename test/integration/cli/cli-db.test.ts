import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteStore } from 'holdfast';
import type { HoldfastStatus, RunDetail } from '../../../src/daemon/client/holdfast-client.js';
import { cli, ensureBuiltBinary, jsonLines, runShell, seedDatabase, tempDir, type SeededDatabase } from './cli-harness.js';

describe('holdfast CLI on --db: every verb on a live database', () => {
  let dir: string;
  let seeded: SeededDatabase;
  let db: string;
  beforeAll(async () => {
    dir = tempDir();
    db = join(dir, 'state.db');
    seeded = await seedDatabase(db);
  });
  afterAll(async () => seeded.stop());

  it('status --json: one object with owner, epoch, lease, mailbox per key, and totals', async () => {
    const out = await cli(dir, ['status', '--db', db, '--json']);
    expect(out.code, out.stderr).toBe(0);
    const status = JSON.parse(out.stdout) as HoldfastStatus;
    expect(status.source).toBe(`sqlite:${db}`);
    expect(status.keys.map((k) => k.key)).toEqual(['repo:c', 'repo:d']);
    const [c, d] = status.keys;
    expect(d!.owner).toMatchObject({ ownerId: seeded.kernel.ownerId, live: true });
    expect(d!.owner!.epoch).toBeGreaterThan(0);
    expect(d!.owner!.expiresAt).toBeGreaterThan(status.at);
    expect(d!.running).toMatchObject({ id: seeded.runs.running, flow: 'blocker', attempts: 1 });
    expect(d!.queued).toEqual({ urgent: 0, normal: 1, background: 1 });
    expect(c!.waiting).toEqual([expect.objectContaining({ id: seeded.runs.waiting, kind: 'timer', wakeAt: expect.any(Number) })]);
    expect(c!.running).toBeNull();
    expect(status.totals).toEqual({ keys: 2, queued: { urgent: 0, normal: 1, background: 1 }, running: 1, parked: 0, waiting: 1 });
    const human = await cli(dir, ['status', '--db', db]);
    expect(human.stdout).toMatch(/repo:d {2}owner \S+ epoch \d+ lease until/);
    expect(human.stdout).toContain('queued 0 urgent, 1 normal, 1 background');
  });

  it('runs --json: JSON lines; --key and --status filter; a bad status is a usage error', async () => {
    const all = await cli(dir, ['runs', '--db', db, '--json']);
    expect(all.code, all.stderr).toBe(0);
    const runs = jsonLines<{ id: string; status: string; key: string }>(all.stdout);
    expect(runs).toHaveLength(10); // nine submitted plus the parent's child
    const failed = jsonLines<{ id: string }>((await cli(dir, ['runs', '--db', db, '--status', 'failed,cancelled', '--json'])).stdout);
    expect(failed.map((r) => r.id).sort()).toEqual([seeded.runs.failed, seeded.runs.cancelled].sort());
    const ofD = jsonLines<{ status: string }>((await cli(dir, ['runs', '--db', db, '--key', 'repo:d', '--json'])).stdout);
    expect(ofD.map((r) => r.status)).toEqual(['running', 'queued', 'queued']);
    expect(jsonLines((await cli(dir, ['runs', '--db', db, '--limit', '2', '--json'])).stdout)).toHaveLength(2);
    const none = await cli(dir, ['runs', '--db', db, '--key', 'repo:nobody', '--json']);
    expect([none.code, none.stdout]).toEqual([0, '']);
    const bad = await cli(dir, ['runs', '--db', db, '--status', 'sleeping']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('unknown --status "sleeping"')]);
    expect((await cli(dir, ['runs', '--db', db, '--limit', '0'])).code).toBe(2);
  });

  it('run ID|PREFIX --json: the run with steps, failed attempts, actions and children; prefixes unique, ambiguous, none', async () => {
    const parent = await cli(dir, ['run', seeded.runs.parent, '--db', db, '--json']);
    expect(parent.code, parent.stderr).toBe(0);
    const view = JSON.parse(parent.stdout) as RunDetail;
    expect([view.status, view.result, view.steps.map((s) => s.name)]).toEqual(['completed', 10, ['spawn:ok', 'join']]);
    expect(view.children.map((c) => [c.flow, c.status, c.result])).toEqual([['ok', 'completed', 10]]);

    const byPrefix = await cli(dir, ['run', seeded.runs.cancelled.slice(0, 8), '--db', db, '--json']);
    expect(byPrefix.code, byPrefix.stderr).toBe(0);
    const cancelled = JSON.parse(byPrefix.stdout) as RunDetail;
    expect([cancelled.id, cancelled.status, cancelled.actions.map((a) => a.action)]).toEqual([
      seeded.runs.cancelled,
      'cancelled',
      ['cancel'],
    ]);

    const ambiguous = await cli(dir, ['run', '0000000', '--db', db, '--json']);
    expect(ambiguous.code).toBe(3);
    const error = JSON.parse(ambiguous.stderr) as { error: { code: string; message: string } };
    expect(error.error.code).toBe('run_id_ambiguous');
    expect(error.error.message).toContain(seeded.runs.completed);
    const none = await cli(dir, ['run', 'ffff', '--db', db]);
    expect([none.code, none.stderr]).toEqual([3, expect.stringContaining('no run with id ffff')]);
    expect((await cli(dir, ['run', '--db', db])).code).toBe(2);
    const text = await cli(dir, ['run', seeded.runs.failed.slice(0, 8), '--db', db]);
    expect(text.stdout).toContain('remote_refused: the remote refused');
  });

  it('outbox --json: JSON lines of effects by status', async () => {
    const owed = await cli(dir, ['outbox', '--db', db, '--json']);
    expect([owed.code, owed.stdout]).toEqual([0, '']);
    const delivered = jsonLines<{ key: string; status: string; artifact: unknown }>(
      (await cli(dir, ['outbox', '--status', 'delivered', '--db', db, '--json'])).stdout,
    );
    expect(delivered.map((e) => [e.key, e.status, e.artifact])).toEqual([['reply:7', 'delivered', { comment: 'c-1' }]]);
    expect((await cli(dir, ['outbox', '--status', 'nope', '--db', db])).code).toBe(2);
  });

  it('lane status and doctor --json: one object each', async () => {
    const lanes = await cli(dir, ['lane', 'status', '--db', db, '--json']);
    expect([lanes.code, JSON.parse(lanes.stdout)]).toEqual([0, { leases: [] }]);
    const doctor = await cli(dir, ['doctor', '--db', db, '--json']);
    expect(doctor.code, doctor.stderr).toBe(0);
    expect(JSON.parse(doctor.stdout)).toMatchObject({
      path: db,
      ok: true,
      quickCheck: ['ok'],
      integrityCheck: ['ok'],
      holdfast: true,
      problem: null,
    });
  });

  it('submit --json on --db: recorded for any flow name, idempotent, a different command under the same key is refused (3)', async () => {
    const submitArgs = [
      'submit',
      '--key',
      'repo:z',
      '--flow',
      'ok',
      '--input',
      '{"n":4}',
      '--idempotency-key',
      'cli-1',
      '--db',
      db,
      '--json',
    ];
    const first = await cli(dir, submitArgs);
    expect(first.code, first.stderr).toBe(0);
    const accepted = JSON.parse(first.stdout) as { runId: string; created: boolean };
    expect(accepted.created).toBe(true);
    const again = await cli(dir, submitArgs);
    expect(JSON.parse(again.stdout)).toEqual({ runId: accepted.runId, created: false });
    const conflict = await cli(dir, ['submit', '--key', 'repo:z', '--flow', 'other', '--idempotency-key', 'cli-1', '--db', db]);
    expect([conflict.code, conflict.stderr]).toEqual([3, expect.stringContaining('idempotency_conflict')]);
    expect(await seeded.kernel.handle(accepted.runId).result()).toBe(8); // the live kernel ran it
    const elsewhere = await cli(dir, [
      'submit',
      '--key',
      'repo:z',
      '--flow',
      'not-registered-here',
      '--deadline',
      '1h',
      '--db',
      db,
      '--json',
    ]);
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
    const stored = await seeded.store.getRun((JSON.parse(elsewhere.stdout) as { runId: string }).runId);
    expect([stored?.flow, stored?.deadlineAt !== null]).toEqual(['not-registered-here', true]);
    await seeded.kernel.cancel(stored!.id);

    for (const [args, message] of [
      [['--flow', 'ok'], '--key is required'],
      [['--key', 'k'], '--flow is required'],
      [['--key', 'k', '--flow', 'ok', '--input', '{oops'], '--input must be JSON'],
      [['--key', 'k', '--flow', 'ok', '--priority', 'asap'], '--priority must be one of'],
      [['--key', 'k', '--flow', 'ok', '--preempt', 'steal'], '--preempt applies to --priority urgent only'],
      [['--key', 'k', '--flow', 'ok', '--deadline', 'soon'], '--deadline must be a positive duration'],
    ] as const) {
      const out = await cli(dir, ['submit', ...args, '--db', db]);
      expect([out.code, out.stderr], args.join(' ')).toEqual([2, expect.stringContaining(message)]);
    }
  });

  it('cancel and retry by prefix --json: {runId, status}; not retryable and unknown are refused (3)', async () => {
    const ended = seeded.kernel.once('run:cancelled', (e) => e.runId === seeded.runs.running);
    const cancel = await cli(dir, ['cancel', seeded.runs.running.slice(0, 8), '--db', db, '--json']);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(JSON.parse(cancel.stdout)).toEqual({ runId: seeded.runs.running, status: 'running' });
    await ended; // the owning kernel heard it over its wake channel
    const retry = await cli(dir, ['retry', seeded.runs.failed.slice(0, 8), '--db', db, '--json']);
    expect([retry.code, JSON.parse(retry.stdout)]).toEqual([0, { runId: seeded.runs.failed, status: 'queued' }]);
    const completed = await cli(dir, ['retry', seeded.runs.completed, '--db', db, '--json']);
    expect(completed.code).toBe(3);
    expect((JSON.parse(completed.stderr) as { error: { code: string } }).error.code).toBe('run_not_retryable');
    expect((await cli(dir, ['cancel', 'ffff', '--db', db])).code).toBe(3);
    expect((await cli(dir, ['cancel', '0000000', '--db', db])).code).toBe(3);
    expect((await cli(dir, ['cancel', seeded.runs.completed, '--mode', 'steal', '--db', db])).code).toBe(2);
  });

  it('journal compact --json: one object with totals', async () => {
    const out = await cli(dir, ['journal', 'compact', '--older-than', '7d', '--db', db, '--json']);
    expect([out.code, JSON.parse(out.stdout)]).toEqual([0, { runs: 0, steps: 0, bytes: 0 }]);
  });

  it('--help on every verb exits 0 with its usage, saying what --json prints', async () => {
    const verbs = [
      ['status'],
      ['runs'],
      ['run'],
      ['submit'],
      ['cancel'],
      ['retry'],
      ['outbox'],
      ['journal', 'compact'],
      ['doctor'],
      ['lane', 'status'],
    ];
    for (const verb of verbs) {
      const out = await cli(dir, [...verb, '--help']);
      expect([out.code, out.stdout], verb.join(' ')).toEqual([0, expect.stringMatching(/usage: holdfast/)]);
      if (verb[0] !== 'lane') expect(out.stdout, verb.join(' ')).toMatch(/--json +(one JSON object|JSON lines)/);
    }
    expect((await cli(dir, ['--help'])).code).toBe(0);
    expect((await cli(dir, [])).code).toBe(2);
    expect((await cli(dir, ['frobnicate'])).code).toBe(2);
    expect((await cli(dir, ['runs', '--db', db, '--url', 'http://127.0.0.1:1'])).stderr).toContain('give --db or --url, not both');
  });
});

describe('holdfast CLI on database files an operator gets wrong', () => {
  const READ_VERBS = [['status'], ['runs'], ['run', 'abc'], ['outbox'], ['lane', 'status'], ['lane', 'live']];
  const WRITE_VERBS = [
    ['cancel', 'abc'],
    ['retry', 'abc'],
    ['submit', '--key', 'k', '--flow', 'f'],
    ['journal', 'compact'],
  ];

  it('a missing path: every verb names it, exits 1, and creates nothing', async () => {
    const dir = tempDir();
    for (const verb of [...READ_VERBS, ...WRITE_VERBS, ['doctor']]) {
      const out = await cli(dir, [...verb, '--db', 'typo.db']);
      expect([out.code, out.stderr], verb.join(' ')).toEqual([1, expect.stringContaining(`no database at ${join(dir, 'typo.db')}`)]);
    }
    const fallback = await cli(dir, ['status']);
    expect([fallback.code, fallback.stderr]).toEqual([1, expect.stringContaining(join(dir, '.holdfast/state.db'))]);
    expect(existsSync(join(dir, 'typo.db'))).toBe(false);
    expect(existsSync(join(dir, '.holdfast'))).toBe(false);
  });

  it('a missing parent directory and a directory are named as such', async () => {
    const dir = tempDir();
    const missingParent = await cli(dir, ['runs', '--db', 'nowhere/state.db', '--json']);
    expect(missingParent.code).toBe(1);
    expect(JSON.parse(missingParent.stderr)).toEqual({
      error: { code: 'database_missing', message: expect.stringContaining(`the directory ${join(dir, 'nowhere')} does not exist`) },
    });
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
    mkdirSync(join(dir, 'states'));
    for (const verb of [['status'], ['cancel', 'abc'], ['doctor']]) {
      const out = await cli(dir, [...verb, '--db', 'states']);
      expect([out.code, out.stderr], verb.join(' ')).toEqual([
        1,
        expect.stringContaining(`${join(dir, 'states')} is a directory, not a database file`),
      ]);
    }
  });

  it('a file of random bytes, and a valid header over garbage pages, are reported corrupt; doctor exits 1', async () => {
    const dir = tempDir();
    const random = join(dir, 'random.db');
    writeFileSync(random, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 251)));
    const seeded = await seedDatabase(join(dir, 'good.db'));
    await seeded.stop();
    const good = readFileSync(join(dir, 'good.db'));
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, Buffer.concat([good.subarray(0, 100), Buffer.alloc(good.length - 100, 0xa5)]));
    for (const file of [random, garbage]) {
      for (const verb of [['status'], ['runs'], ['cancel', 'abc']]) {
        const out = await cli(dir, [...verb, '--db', file]);
        expect([out.code, out.stderr], `${verb.join(' ')} ${file}`).toEqual([1, expect.stringContaining(`${file} is corrupt`)]);
        expect(out.stderr).not.toContain('file is not a database');
      }
      const doctor = await cli(dir, ['doctor', '--db', file, '--json']);
      expect(doctor.code).toBe(1);
      expect(JSON.parse(doctor.stdout)).toMatchObject({ ok: false, problem: expect.stringContaining('is corrupt') });
      expect((await cli(dir, ['doctor', '--db', file])).stdout).toMatch(/^corrupt: /);
    }
    const index = join(dir, 'index.db');
    const copy = Buffer.from(good);
    copy.fill(0xff, 16 * 4096 + 100, 17 * 4096); // one index page of the runs table
    writeFileSync(index, copy);
    const doctor = await cli(dir, ['doctor', '--db', index, '--json']);
    expect([doctor.code, (JSON.parse(doctor.stdout) as { ok: boolean }).ok]).toEqual([1, false]);
  });

  it('a read-only file and a read-only directory open read-only: status and runs work', async () => {
    const dir = tempDir();
    const seeded = await seedDatabase(join(dir, 'state.db'));
    const runs = seeded.runs;
    await seeded.stop();
    chmodSync(join(dir, 'state.db'), 0o444);
    chmodSync(dir, 0o555);
    try {
      const status = await cli(dir, ['status', '--db', 'state.db', '--json']);
      expect(status.code, status.stderr).toBe(0);
      expect((JSON.parse(status.stdout) as HoldfastStatus).totals.queued).toEqual({ urgent: 0, normal: 2, background: 1 });
      const listed = await cli(dir, ['runs', '--db', 'state.db', '--json']);
      expect([listed.code, jsonLines(listed.stdout).length]).toEqual([0, 10]);
      const shown = await cli(dir, ['run', runs.parent.slice(0, 8), '--db', 'state.db', '--json']);
      expect(shown.code, shown.stderr).toBe(0);
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  it('an empty file is not a holdfast database (and is left as it is)', async () => {
    const dir = tempDir();
    closeSync(openSync(join(dir, 'empty.db'), 'w'));
    const out = await cli(dir, ['status', '--db', 'empty.db']);
    expect([out.code, out.stderr]).toEqual([1, expect.stringContaining('is empty')]);
    expect(readFileSync(join(dir, 'empty.db')).length).toBe(0);
  });
});

describe('holdfast as a real process (node bin/holdfast.js)', () => {
  let bin: string;
  beforeAll(() => {
    bin = ensureBuiltBinary();
  }, 180_000);

  it('prints JSON lines and exits 0; `| head -1` closes the pipe early and it still exits 0 without a trace', async () => {
    const dir = tempDir();
    const db = join(dir, 'state.db');
    const store = sqliteStore({ path: db });
    for (let i = 0; i < 3000; i++) {
      await store.enqueue({
        id: `run-${i}`,
        key: `repo:${i % 7}`,
        flow: 'ok',
        input: { i, padding: 'x'.repeat(64) },
        idempotencyKey: `k-${i}`,
        priority: 'normal',
        preempt: null,
        now: 1,
      });
    }
    await store.close();
    const all = await runShell(`node ${bin} runs --db ${db} --limit 5000 --json`, { cwd: dir });
    expect(all.code, all.stderr).toBe(0);
    expect(jsonLines(all.stdout)).toHaveLength(3000);
    const head = await runShell(`node ${bin} runs --db ${db} --limit 5000 | head -1; echo "holdfast exited \${PIPESTATUS[0]}" >&2`, {
      cwd: dir,
    });
    expect(head.stdout.trim().split('\n')).toHaveLength(1);
    expect(head.stdout).toMatch(/^run-0 {2}repo:0 {2}ok/);
    expect(head.stderr.trim()).toBe('holdfast exited 0');
    const status = await runShell(`node ${bin} status --json`, { cwd: dir, env: { HOLDFAST_URL: '' } });
    expect(status.code).toBe(1); // no .holdfast/state.db in dir
    expect(status.stderr).toContain(`no database at ${join(dir, '.holdfast/state.db')}`);
  });

  it.runIf(process.getuid?.() === 0 && existsSync('/usr/bin/setpriv'))(
    'as an unprivileged user: a read-only file in a read-only directory is inspected; a verb that writes is refused',
    async () => {
      const dir = tempDir();
      const seeded = await seedDatabase(join(dir, 'state.db'));
      const running = seeded.runs.running;
      await seeded.stop();
      chmodSync(join(dir, 'state.db'), 0o444);
      chmodSync(dir, 0o555);
      const asNobody = (args: string) => runShell(`setpriv --reuid=65534 --regid=65534 --clear-groups node ${bin} ${args}`, { cwd: dir });
      try {
        const status = await asNobody('status --db state.db --json');
        expect(status.code, status.stderr).toBe(0);
        expect((JSON.parse(status.stdout) as HoldfastStatus).totals.keys).toBe(2);
        const runs = await asNobody('runs --db state.db --json');
        expect([runs.code, jsonLines(runs.stdout).length]).toEqual([0, 10]);
        const cancel = await asNobody(`cancel ${running} --db state.db`);
        expect([cancel.code, cancel.stderr]).toEqual([1, expect.stringContaining('is read-only for this process')]);
        expect(readdirSync(dir).sort()).toEqual(['state.db']);
      } finally {
        chmodSync(dir, 0o755);
      }
    },
  );
});
