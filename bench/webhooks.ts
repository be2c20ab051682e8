// Webhook ingress figures (I1), with the daemon in this process on a fresh SQLite file (FULL):
//   1. signed GitHub webhooks per second sustained through HTTP into the store (autocannon on
//      loopback in a process of its own, bounded in count and time), each answered 202 after its
//      durable write: into `holdfast serve` with the runs they start executing alongside (50
//      keys), and into the same ingress route and store with no run executed (ingestion alone);
//   2. webhook sent → run started (first line of the flow), p50/p99 over sequential deliveries to
//      idle keys, beside the kernel's own submit-to-start measured in the same run.
//   Aim: ≥ 5,000 webhooks/s and p99 < 5 ms.
//
//   npx tsx bench/webhooks.ts
import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { serve, type ServerType } from '@hono/node-server';
import { createKernel, defineConfig, defineFlow, sqliteStore } from '../src/index.js';
import { createGithubIngress } from '../src/daemon/ingress/github-route.js';
import { createDaemonLogger } from '../src/daemon/daemon-logger.js';
import { startDaemon } from '../src/daemon/serve.js';
import { measureSubmitLatency } from './submit-latency.js';
// @ts-expect-error a plain JavaScript module without types
import { commentBody } from './fixtures/webhook-load.mjs';
import { int, percentile, round, scratch, table } from './common.js';

const SECRET = 'bench-secret';
const LOAD = fileURLToPath(new URL('./fixtures/webhook-load.mjs', import.meta.url));
let firstLine = new Map<string, number>();

const handle = defineFlow('handle', async (ctx, input: { repo: string; commentId: number }) => {
  firstLine.set(`${input.repo}#${input.commentId}`, performance.now());
  return ctx.step('ack', () => input.commentId);
});

const sign = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

/** Runs `fn` against `holdfast serve` on a fresh SQLite file, runs executing in its process. */
async function withDaemon<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const tmp = scratch('webhooks');
  const config = defineConfig({
    store: tmp.file('holdfast.db'),
    flows: [handle],
    http: { port: 0 },
    ingress: { github: { secret: SECRET, routes: { pr_comment: { flow: 'handle' } } } },
    kernel: { concurrency: 16 },
  });
  const logger = createDaemonLogger({ level: 'warn', pretty: false });
  const daemon = await startDaemon({ loaded: { config, file: 'bench', dir: tmp.dir }, logger, onGiveUp: () => {} });
  try {
    return await fn(daemon.url);
  } finally {
    await daemon.teardown();
    tmp.dispose();
  }
}

/**
 * Runs `fn` against the same ingress route and store with a kernel that records commands and never
 * runs them: what ingestion alone costs (HTTP, signature, translation, durable submit).
 */
async function withIngestOnly<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const tmp = scratch('ingest');
  const store = sqliteStore({ path: tmp.file('holdfast.db') });
  const kernel = createKernel({ store, flows: [handle] });
  const app = createGithubIngress({
    secret: SECRET,
    routes: { pr_comment: { flow: 'handle' } },
    bodyLimitBytes: 1 << 20,
    submit: async (command) => {
      const run = await kernel.submit(command);
      return { runId: run.id, created: run.created };
    },
  });
  const { server, url } = await new Promise<{ server: ServerType; url: string }>((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve({ server, url: `http://127.0.0.1:${info.port}` }),
    );
  });
  try {
    return await fn(url);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await store.close();
    tmp.dispose();
  }
}

/** Sends `amount` signed deliveries over `connections` connections from another process, for at most `seconds`. */
async function load(url: string, amount: number, connections: number, seconds: number): Promise<Throughput> {
  const child = spawn(process.execPath, [LOAD, url, SECRET, String(amount), String(connections), String(seconds)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as { sent: number; accepted: number; seconds: number; p99Ms: number };
  return { sent: r.sent, accepted: r.accepted, perSec: r.accepted / (r.seconds || 1), p99Ms: r.p99Ms };
}

interface Throughput {
  sent: number;
  accepted: number;
  perSec: number;
  p99Ms: number;
}

/** 1. Sustained signed webhooks/s into the daemon (runs executing alongside) and into ingestion alone. */
export async function measureThroughput(
  amount = 20_000,
  connections = 16,
  seconds = 20,
): Promise<{ daemon: Throughput; ingestOnly: Throughput }> {
  const daemon = await withDaemon((url) => load(url, amount, connections, seconds));
  const ingestOnly = await withIngestOnly((url) => load(url, amount, connections, seconds));
  return { daemon, ingestOnly };
}

/** 2. Webhook sent → flow's first line, sequential deliveries to fresh keys. */
export async function measureWebhookToStart(samples = 300, warmup = 30): Promise<{ p50: number; p99: number; max: number }> {
  firstLine = new Map();
  return withDaemon(async (url) => {
    const latencies: number[] = [];
    for (let i = 0; i < warmup + samples; i++) {
      const repo = `idle/repo-${i}`;
      const body = commentBody(repo, i + 1);
      const t0 = performance.now();
      const response = await fetch(`${url}/webhooks/github`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'issue_comment',
          'x-github-delivery': `lat-${i}`,
          'x-hub-signature-256': sign(body),
        },
        body,
      });
      if (response.status !== 202)
        throw new Error(`delivery ${i}: ${response.status} ${response.headers.get('x-holdfast-ignored') ?? ''} ${await response.text()}`);
      while (!firstLine.has(`${repo}#${i + 1}`)) await new Promise((r) => setImmediate(r));
      if (i >= warmup) latencies.push(firstLine.get(`${repo}#${i + 1}`)! - t0);
      await new Promise((r) => setTimeout(r, 5));
    }
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) };
  });
}

export interface WebhookResults {
  throughput: Awaited<ReturnType<typeof measureThroughput>>;
  toStart: Awaited<ReturnType<typeof measureWebhookToStart>>;
  kernel: { p50: number; p99: number };
}

export async function runWebhooks(): Promise<WebhookResults> {
  const throughput = await measureThroughput();
  const toStart = await measureWebhookToStart();
  const k = await measureSubmitLatency('FULL', 300, 30);
  return { throughput, toStart, kernel: { p50: k.startP50, p99: k.startP99 } };
}

export function formatWebhooks(r: WebhookResults): string {
  const row = (what: string, t: Throughput) => [what, int(t.sent), int(t.accepted), int(t.perSec), String(t.p99Ms), '≥ 5,000/s'];
  return [
    table(
      ['signed webhooks (SQLite FULL)', 'sent', 'answered 202', 'webhooks/s', 'HTTP p99 ms', 'aim'],
      [
        row('holdfast serve, runs executing alongside', r.throughput.daemon),
        row('ingestion alone (runs not executed)', r.throughput.ingestOnly),
      ],
    ),
    '',
    table(
      ['to run started', 'p50 ms', 'p99 ms', 'max ms', 'aim'],
      [
        [
          'webhook sent (HTTP, signature, translate, durable submit)',
          String(round(r.toStart.p50, 2)),
          String(round(r.toStart.p99, 2)),
          String(round(r.toStart.max, 2)),
          'p99 < 5 ms',
        ],
        ['kernel.submit in process (same run)', String(round(r.kernel.p50, 2)), String(round(r.kernel.p99, 2)), '', ''],
      ],
    ),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatWebhooks(await runWebhooks()));
}
