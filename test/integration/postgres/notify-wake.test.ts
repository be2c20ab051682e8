import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createKernel, defineFlow, memoryStore, type Logger, type Store } from 'holdfast';
import type { WakeMessage, WakeTransport, WakeTransportContext } from '../../../src/ports/wake.js';
import { unixSocketWake } from '../../../src/platform/unix-socket-wake.js';
import { notifyWake, type NotifyWake, type NotifyWakeOptions } from '../../../src/stores/postgres/notify-wake.js';
import { startFixture } from '../../support/processes.js';

const PG_URL = process.env.HOLDFAST_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Nothing listens on port 1: connections are refused at once. */
const DEAD_URL = 'postgres://postgres@127.0.0.1:1/test';
const CHILD = '../integration/postgres/notify-wake-child.ts';

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const pgUp = await reachable(PG_URL);
if (!pgUp) {
  console.warn(
    `notify-wake tests skipped: no Postgres at ${PG_URL}. Start one there (trust auth, database "test") or set ` +
      'HOLDFAST_TEST_PG_URL=postgres://user@host:port/db to enable them.',
  );
}

/** Channels are named after the schema; each test file run gets its own, so parallel runs never cross. */
const schema = `hf_wake_test_${randomBytes(4).toString('hex')}`;
const opened: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

function transport(options: Partial<NotifyWakeOptions> = {}): NotifyWake {
  const wake = notifyWake({ connectionString: PG_URL, schema, reconnect: { initialMs: 20, maxMs: 200 }, ...options });
  opened.push(wake);
  return wake;
}

async function admin(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  opened.push({ close: () => client.end() });
  return client;
}

/** What a listener received, and the warnings its transport logged. */
function inbox() {
  const messages: WakeMessage[] = [];
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, error: (m) => warnings.push(m), warn: (m) => warnings.push(m) };
  return { messages, warnings, logger, onMessage: (m: WakeMessage) => void messages.push(m) };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The backend pid of the listening connection behind `address` (found by its application_name). */
async function listenerPid(db: pg.Client, address: string): Promise<number | undefined> {
  const channel = address.slice('pg-notify:'.length);
  const { rows } = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
    `holdfast wake ${channel}`,
  ]);
  return rows[0]?.pid;
}

describe.skipIf(!pgUp)('pg-notify wake transport on a real Postgres', () => {
  it('delivers wake and cancel messages between two transports in one process', async () => {
    const a = inbox();
    const listener = await transport({ logger: a.logger }).listen(a.onMessage);
    expect(listener.address).toMatch(/^pg-notify:hf_[0-9a-f]{8}_[0-9a-f]{24}$/);
    const sender = transport();
    expect(await sender.send(listener.address, { type: 'wake', key: 'repo:acme/web', urgent: true })).toBe(true);
    expect(await sender.send(listener.address, { type: 'cancel', key: 'repo:acme/web', runId: 'run-1' })).toBe(true);
    expect(await sender.send(listener.address, { type: 'wake', key: 'ключ "quoted" \u2028', urgent: false })).toBe(true);
    await until('three messages', () => a.messages.length === 3);
    expect(a.messages).toEqual([
      { type: 'wake', key: 'repo:acme/web', urgent: true },
      { type: 'cancel', key: 'repo:acme/web', runId: 'run-1' },
      { type: 'wake', key: 'ключ "quoted" \u2028', urgent: false },
    ]);
    expect(a.warnings).toEqual([]);
  });

  it('resolves every send without throwing: true when the server took it, false for what cannot be delivered', async () => {
    const log = inbox();
    const sender = transport({ logger: log.logger });
    const own = await transport().listen(() => {});
    const nobody = own.address.replace(/_[0-9a-f]{24}$/, `_${'0'.repeat(24)}`);
    expect(await sender.send(nobody, { type: 'wake', key: 'k', urgent: true })).toBe(true);
    const otherSchema = await notifyWake({ connectionString: PG_URL, schema: `${schema}_other` }).listen(() => {});
    opened.push(otherSchema);
    expect(await sender.send(otherSchema.address, { type: 'wake', key: 'k', urgent: true })).toBe(false);
    expect(await sender.send('/tmp/hf-wake-1-abcd.sock', { type: 'wake', key: 'k', urgent: true })).toBe(false);
    expect(await sender.send(`${own.address}; DROP TABLE x`, { type: 'wake', key: 'k', urgent: true })).toBe(false);
    expect(await sender.send(own.address, { type: 'wake', key: 'k'.repeat(9_000), urgent: true })).toBe(false);
    const down = transport({ connectionString: DEAD_URL, logger: log.logger, sendTimeoutMs: 1_000 });
    expect(await down.send(own.address, { type: 'wake', key: 'k', urgent: true })).toBe(false);
    expect(log.warnings.filter((w) => w.includes('this schema'))).toHaveLength(3);
    expect(log.warnings.some((w) => w.includes('too large'))).toBe(true);
    expect(log.warnings.some((w) => w.includes('notification failed'))).toBe(true);
  });

  it('ignores garbage payloads sent with raw pg_notify and goes on delivering', async () => {
    const a = inbox();
    const listener = await transport({ logger: a.logger }).listen(a.onMessage);
    const channel = listener.address.slice('pg-notify:'.length);
    const db = await admin();
    const garbage = ['', 'not json', 'null', '42', '[]', '{"type":"wake"}', '{"type":"cancel","key":"k"}', '{"type":"boom","key":"k"}'];
    for (const payload of garbage) await db.query('SELECT pg_notify($1, $2)', [channel, payload]);
    await db.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify({ type: 'wake', key: 'after', urgent: true })]);
    // Notifications from one connection arrive in order: once the last is in, every garbage one was handled.
    await until('the valid message', () => a.messages.length === 1);
    expect(a.messages).toEqual([{ type: 'wake', key: 'after', urgent: true }]);
    expect(a.warnings.filter((w) => w.includes('malformed'))).toHaveLength(garbage.length);
  });

  it('after pg_terminate_backend of its connection the listener reconnects, catches up each time, and delivers again', async () => {
    const a = inbox();
    let catchUps = 0;
    const listener = await transport({ logger: a.logger }).listen(a.onMessage, () => catchUps++);
    const sender = transport();
    const db = await admin();
    for (let round = 1; round <= 2; round++) {
      const pid = await listenerPid(db, listener.address);
      expect(pid).toBeTypeOf('number');
      const { rows } = await db.query<{ done: boolean }>('SELECT pg_terminate_backend($1) AS done', [pid]);
      expect(rows[0]?.done).toBe(true);
      await until(`catch-up ${round}`, () => catchUps === round);
      const next = await listenerPid(db, listener.address);
      expect(next).toBeTypeOf('number');
      expect(next).not.toBe(pid);
      expect(await sender.send(listener.address, { type: 'wake', key: `after-${round}`, urgent: true })).toBe(true);
      await until(`message after reconnect ${round}`, () => a.messages.length === round);
    }
    expect(a.messages.map((m) => m.key)).toEqual(['after-1', 'after-2']);
    expect(a.warnings.filter((w) => w.includes('connection lost')).length).toBeGreaterThanOrEqual(2);
    await listener.close();
    await until('the listening backend gone', async () => (await listenerPid(db, listener.address)) === undefined);
  });

  it('wakes and cancels across two real processes, and the child exits by itself once closed', async () => {
    const parent = inbox();
    const listener = await transport().listen(parent.onMessage);
    const child = startFixture(CHILD, ['talk', PG_URL, schema, listener.address]);
    await child.line('sent true');
    await until('the wake from the child', () => parent.messages.length === 1);
    expect(parent.messages).toEqual([{ type: 'wake', key: 'from-child', urgent: true }]);
    const childAddress = /address (\S+)/.exec(child.stdout())?.[1];
    expect(childAddress).toMatch(/^pg-notify:/);
    const sender = transport();
    expect(await sender.send(childAddress!, { type: 'wake', key: 'to-child', urgent: true })).toBe(true);
    await child.line('got {"type":"wake","key":"to-child","urgent":true}');
    expect(await sender.send(childAddress!, { type: 'cancel', key: 'to-child', runId: 'r-9' })).toBe(true);
    await child.line('closed');
    expect(await child.exited()).toEqual({ code: 0, signal: null });
    expect(child.stdout()).toContain('got {"type":"cancel","key":"to-child","runId":"r-9"}');
  });
});

describe('pg-notify wake transport without a server', () => {
  it('close() while it waits to reconnect leaves nothing keeping the process alive', async () => {
    const child = startFixture(CHILD, ['unreachable', DEAD_URL]);
    await child.line('closed');
    expect(await child.exited()).toEqual({ code: 0, signal: null });
    expect(child.stdout()).toContain('retried 3 times');
  });

  it('refuses options it cannot use, saying what to give', () => {
    expect(() => notifyWake({ schema })).toThrow(/connectionString/);
    expect(() => notifyWake({ connectionString: 'mysql://x', schema })).toThrow(/postgres:\/\//);
    expect(() => notifyWake({ connectionString: PG_URL, schema: '' })).toThrow(/schema/);
    expect(() => notifyWake({ connectionString: PG_URL, schema, reconnect: { initialMs: 500, maxMs: 100 } })).toThrow(/maxMs/);
  });
});

/** A flow whose step waits until the test opens its gate, so the kernel holds the key meanwhile. */
function gatedFlow() {
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const hold = defineFlow('hold', async (ctx) =>
    ctx.step('wait', async () => {
      await gate;
      return 'held';
    }),
  );
  const echo = defineFlow('echo', async (ctx, input: number) => ctx.step('echo', () => input));
  return { flows: [hold, echo], open: () => open() };
}

describe("a kernel finds the store's wake capability", () => {
  it('uses it when not given `wake`, and an explicit `wake: null` wins over it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-cap-'));
    const contexts: WakeTransportContext[] = [];
    const store: Store = {
      ...memoryStore(),
      wakeTransport(context) {
        contexts.push(context);
        return unixSocketWake({ dir });
      },
    };
    for (const wake of [undefined, null]) {
      const { flows, open } = gatedFlow();
      const kernel = createKernel({ store, flows, ...(wake === null ? { wake } : {}) });
      await kernel.start();
      const key = `k-${wake}`;
      const run = await kernel.submit({ key, flow: 'hold', input: null });
      await until('the owner lease', async () => (await store.getOwner(key)) !== undefined);
      const channel = (await store.getOwner(key))!.channel;
      if (wake === undefined) expect(channel?.startsWith(join(dir, 'hf-wake-'))).toBe(true);
      else expect(channel).toBeNull();
      open();
      expect(await run.result()).toBe('held');
      await kernel.stop();
    }
    expect(contexts).toHaveLength(1);
    expect(typeof contexts[0]!.clock.now()).toBe('number');
  });

  it.skipIf(!pgUp)(
    'on pg-notify: records its address, is woken by another kernel, and catches up after its connection is killed',
    async () => {
      const seen: WakeMessage[] = [];
      let catchUps = 0;
      const withCapability: Store = {
        ...memoryStore(),
        wakeTransport(context): WakeTransport {
          const wake = transport({ ...context, reconnect: { initialMs: 20, maxMs: 200 } });
          return {
            send: (address, message) => wake.send(address, message),
            listen: (onMessage, onCatchUp) =>
              wake.listen(
                (message) => {
                  seen.push(message);
                  onMessage(message);
                },
                () => {
                  catchUps++;
                  onCatchUp?.();
                },
              ),
          };
        },
      };
      const { flows, open } = gatedFlow();
      const owner = createKernel({ store: withCapability, flows, pollIntervalMs: 600_000 });
      const client = createKernel({ store: withCapability, flows });
      await owner.start();
      const held = await owner.submit({ key: 'k1', flow: 'hold', input: null });
      await until('the owner lease of k1', async () => (await withCapability.getOwner('k1')) !== undefined);
      const address = (await withCapability.getOwner('k1'))!.channel!;
      expect(address).toMatch(/^pg-notify:hf_/);

      // Another kernel's urgent submit reaches the owner through NOTIFY.
      const urgent = await client.submit({ key: 'k1', flow: 'echo', input: 7, priority: 'urgent' });
      await until('the wake at the owner', () => seen.some((m) => m.type === 'wake' && m.key === 'k1' && m.urgent));
      open();
      expect(await held.result()).toBe('held');
      expect(await urgent.result()).toBe(7);

      // Work written behind the kernel's back is found by the catch-up after a reconnect, not the (10-minute) poll.
      const id = randomUUID();
      await withCapability.enqueue({
        id,
        key: 'k2',
        flow: 'echo',
        input: 2,
        idempotencyKey: id,
        priority: 'normal',
        preempt: null,
        now: Date.now(),
      });
      expect((await withCapability.getRun(id))?.status).toBe('queued');
      const db = await admin();
      const pid = await listenerPid(db, address);
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
      await until('the catch-up', () => catchUps === 1);
      await until('the run found by the catch-up', async () => (await withCapability.getRun(id))?.status === 'completed');
      expect(await owner.handle(id).result()).toBe(2);
      await owner.stop();
      await until('the listening backend gone', async () => (await listenerPid(db, address)) === undefined);
    },
  );
});
