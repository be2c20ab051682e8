// Dashboard figures (I3), with `holdfast serve` in this process on a fresh SQLite file (FULL):
//   1. event committed → shown in the page: ~1,000 runs/min (40 keys; each run two steps, a
//      40 ms scripted turn streaming 3 chunks, a reply step) flow through the daemon while the
//      dashboard is open in headless Chromium. The page records, per live event, its `at` in the
//      feed (when the kernel recorded it), when it arrived over the event stream, and when it was
//      rendered; p50/p99 of both. The feed is appended every ≤ 50 ms and the stream polls it every
//      250 ms, which bounds what the page can do.
//   2. the daemon's cost of 10 connected dashboards: the same daemon with 0 and with 10 simulated
//      dashboards (bench/fixtures/dashboard-clients.mjs: event stream + status re-reads as the
//      page does, in another process), side by side, in alternating rounds: saturated runs/s
//      (runs with no waits, 64 keys), and at 1,000 runs/min the daemon process's CPU and
//      event-loop delay.
//
//   npx tsx bench/dashboard.ts            (BENCH_DASHBOARD_SECONDS=30, BENCH_DASHBOARD_ROUNDS=2)
import { spawn, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { chromium } from 'playwright-core';
import { defineConfig, defineFlow } from '../src/index.js';
import { fakeProvider } from '../src/testing.js';
import { systemClock } from '../src/platform/system-clock.js';
import { createDaemonLogger } from '../src/daemon/daemon-logger.js';
import { createDashboardRoutes } from '../src/daemon/dashboard/dashboard-routes.js';
import { startDaemon } from '../src/daemon/serve.js';
import { int, percentile, round, scratch, table } from './common.js';

const CHROMIUM = process.env.HOLDFAST_CHROMIUM ?? '/usr/bin/chromium';
const SECONDS = Number(process.env.BENCH_DASHBOARD_SECONDS ?? 30);
const ROUNDS = Number(process.env.BENCH_DASHBOARD_ROUNDS ?? 2);
const RUNS_PER_MINUTE = 1000;
const CLIENTS = fileURLToPath(new URL('./fixtures/dashboard-clients.mjs', import.meta.url));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let completed = 0;
const agent = fakeProvider(
  (request) =>
    (request.input as { quick?: boolean }).quick
      ? { durationMs: 0, chunks: [{ atMs: 0, data: 'ok\n' }], result: 'ok' }
      : {
          durationMs: 40,
          chunks: [10, 20, 30].map((atMs) => ({ atMs, data: `thinking ${atMs} ms\n` })),
          result: 'looks good',
        },
  { clock: systemClock },
);
const work = defineFlow('work', async (ctx, input: { n: number; quick?: boolean }) => {
  await ctx.step('fetch', async () => (input.quick ? input.n : pause(5).then(() => input.n)));
  const answer = await ctx.turn<string>('agent', { n: input.n, quick: input.quick ?? false });
  const reply = await ctx.step('reply', async () => (input.quick ? answer : pause(10).then(() => answer)));
  completed++;
  return reply;
});

interface Served {
  readonly url: string;
  /** Where a browser opens the dashboard: the daemon, or a front serving it beside the daemon's /v1. */
  readonly pageUrl: string;
  close(): Promise<void>;
}

/** `holdfast serve` in this process on a fresh SQLite file. */
async function withDaemon<T>(fn: (served: Served) => Promise<T>): Promise<T> {
  const tmp = scratch('dashboard');
  const config = defineConfig({
    store: tmp.file('holdfast.db'),
    flows: [work],
    providers: { agent },
    http: { port: 0 },
    kernel: { concurrency: 16 },
  });
  const logger = createDaemonLogger({ level: 'warn', pretty: false });
  const daemon = await startDaemon({ loaded: { config, file: 'bench', dir: tmp.dir }, logger, onGiveUp: () => {} });
  const front = await dashboardFront(daemon.url);
  try {
    return await fn({ url: daemon.url, pageUrl: front.url, close: front.close });
  } finally {
    await front.close();
    await daemon.teardown();
    tmp.dispose();
  }
}

/** The daemon when it serves the dashboard at `/`; otherwise a front with the dashboard routes passing /v1 through. */
async function dashboardFront(daemonUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const probe = await fetch(`${daemonUrl}/`);
  await probe.arrayBuffer();
  if (probe.ok && (probe.headers.get('content-type') ?? '').startsWith('text/html')) return { url: daemonUrl, close: async () => {} };
  const app = new Hono();
  app.route('/', createDashboardRoutes());
  app.all('/v1/*', async (c) => {
    const url = new URL(c.req.url);
    const headers = new Headers(c.req.raw.headers);
    headers.delete('host');
    const upstream = await fetch(`${daemonUrl}${url.pathname}${url.search}`, {
      method: c.req.method,
      headers,
      body: c.req.method === 'GET' ? undefined : await c.req.arrayBuffer(),
      signal: c.req.raw.signal,
    }).catch(() => null);
    if (!upstream) return c.json({ error: { code: 'daemon_unreachable', message: 'the daemon did not answer' } }, 502);
    const answer = new Headers(upstream.headers);
    for (const name of ['content-length', 'transfer-encoding', 'connection']) answer.delete(name);
    return new Response(upstream.body, { status: upstream.status, headers: answer });
  });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function submit(url: string, n: number, keys: number, quick: boolean): Promise<void> {
  const response = await fetch(`${url}/v1/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: `repo:bench/r${n % keys}`, flow: 'work', input: { n, quick }, idempotencyKey: `b-${n}-${quick}` }),
  });
  if (response.status !== 202) throw new Error(`submit ${n}: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

/** Submits RUNS_PER_MINUTE runs a minute for `seconds` over 40 keys (paced on the clock, not on answers). */
async function steadyLoad(url: string, seconds: number, from: number): Promise<number> {
  const gapMs = 60_000 / RUNS_PER_MINUTE;
  const total = Math.round((seconds * 1000) / gapMs);
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * gapMs;
    const wait = due - performance.now();
    if (wait > 0) await pause(wait);
    pending.push(submit(url, from + i, 40, false));
  }
  await Promise.all(pending);
  return total;
}

async function until(what: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(20);
  }
}

interface PageLatency {
  events: number;
  runs: number;
  arrival: { p50: number; p99: number; max: number };
  shown: { p50: number; p99: number; max: number };
}

interface Timing {
  at: number;
  receivedAt: number;
  shownAt: number;
}

/** 1. The page open in headless Chromium while 1,000 runs/min flow: event `at` → arrived, → rendered. */
export async function measurePageLatency(seconds = SECONDS): Promise<PageLatency> {
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    return await withDaemon(async ({ url, pageUrl }) => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${pageUrl}/?measure`);
      await page.waitForSelector('[data-testid="connection-status"][data-state="live"]');
      await steadyLoad(url, 3, 1_000_000); // warm-up, not measured
      await until('warm-up runs', () => completed >= 40);
      await pause(1000);
      await page.evaluate('window.holdfastDashboard.timings.length = 0');
      const before = completed;
      const runs = await steadyLoad(url, seconds, 0);
      await until('the measured runs', () => completed - before >= runs);
      await pause(1500);
      const timings = (await page.evaluate('window.holdfastDashboard.timings')) as Timing[];
      await page.close();
      const arrival = timings.map((t) => t.receivedAt - t.at);
      const shown = timings.map((t) => t.shownAt - t.at);
      const stats = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99), max: Math.max(...xs) });
      return { events: timings.length, runs, arrival: stats(arrival), shown: stats(shown) };
    });
  } finally {
    await browser.close();
  }
}

/** `full`: what the page asks (event stream and status re-reads); `stream`: the event stream alone. */
type ClientMode = 'full' | 'stream';

interface OverheadSample {
  dashboards: number;
  mode: ClientMode;
  saturatedPerSec: number;
  cpuPercent: number;
  loopDelayP99Ms: number;
  clientEvents: number;
}

/** Starts the simulated dashboards in another process; resolves once every stream is open. */
async function startClients(url: string, count: number, mode: ClientMode): Promise<{ stop(): Promise<{ events: number }> }> {
  const child: ChildProcess = spawn(process.execPath, [CLIENTS, url, String(count), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await until('the dashboards to connect', () => out.includes('connected'), 30_000);
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      const last = out.trim().split('\n').at(-1) ?? '{}';
      return { events: (JSON.parse(last.startsWith('{') ? last : '{}') as { events?: number }).events ?? 0 };
    },
  };
}

/** One round with `dashboards` connected: saturated runs/s, then CPU and loop delay at 1,000 runs/min. */
async function overheadSample(dashboards: number, mode: ClientMode, seconds: number, saturatedRuns: number): Promise<OverheadSample> {
  return withDaemon(async ({ url }) => {
    const clients = await startClients(url, dashboards, mode);
    try {
      let before = completed;
      const t0 = performance.now();
      let next = 0;
      const submitter = async () => {
        while (next < saturatedRuns) await submit(url, 2_000_000 + next++, 64, true);
      };
      await Promise.all(Array.from({ length: 16 }, submitter));
      await until('the saturated runs', () => completed - before >= saturatedRuns);
      const saturatedPerSec = saturatedRuns / ((performance.now() - t0) / 1000);
      await pause(500);

      before = completed;
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      const cpu0 = process.cpuUsage();
      const w0 = performance.now();
      const runs = await steadyLoad(url, seconds, 3_000_000);
      await until('the steady runs', () => completed - before >= runs);
      const cpu = process.cpuUsage(cpu0);
      const wall = performance.now() - w0;
      delay.disable();
      const { events } = await clients.stop();
      return {
        dashboards,
        mode,
        saturatedPerSec,
        cpuPercent: ((cpu.user + cpu.system) / 1000 / wall) * 100,
        loopDelayP99Ms: delay.percentile(99) / 1e6,
        clientEvents: events,
      };
    } catch (error) {
      await clients.stop();
      throw error;
    }
  });
}

const SETUPS: readonly { dashboards: number; mode: ClientMode; label: string }[] = [
  { dashboards: 0, mode: 'full', label: 'no dashboard' },
  { dashboards: 10, mode: 'stream', label: '10 event streams alone' },
  { dashboards: 10, mode: 'full', label: '10 dashboards (event stream + status re-reads)' },
];

/** 2. No dashboard, 10 event streams, 10 dashboards, side by side, in alternating rounds. */
export async function measureOverhead(rounds = ROUNDS, seconds = Math.max(10, Math.round(SECONDS * 0.67))): Promise<OverheadSample[]> {
  const samples: OverheadSample[] = [];
  for (let r = 0; r < rounds; r++)
    for (const setup of SETUPS) samples.push(await overheadSample(setup.dashboards, setup.mode, seconds, 3000));
  return samples;
}

export interface DashboardResults {
  latency: PageLatency;
  overhead: OverheadSample[];
}

export async function runDashboard(): Promise<DashboardResults> {
  const latency = await measurePageLatency();
  const overhead = await measureOverhead();
  return { latency, overhead };
}

export function formatDashboard(r: DashboardResults): string {
  const ms = (x: number) => String(round(x, 1));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
  const summary = (setup: (typeof SETUPS)[number]) => {
    const s = r.overhead.filter((x) => x.dashboards === setup.dashboards && x.mode === setup.mode);
    return {
      label: setup.label,
      saturated: mean(s.map((x) => x.saturatedPerSec)),
      cpu: mean(s.map((x) => x.cpuPercent)),
      delay: mean(s.map((x) => x.loopDelayP99Ms)),
      events: mean(s.map((x) => x.clientEvents)),
    };
  };
  const [none, ...others] = SETUPS.map(summary);
  const change = (a: number, b: number) => `${b >= a ? '+' : ''}${round(((b - a) / a) * 100, 1)}%`;
  return [
    table(
      [
        `event committed → dashboard (${int(r.latency.runs)} runs at 1,000/min, ${int(r.latency.events)} events)`,
        'p50 ms',
        'p99 ms',
        'max ms',
      ],
      [
        [
          'arrived in the page (feed append + stream poll)',
          ms(r.latency.arrival.p50),
          ms(r.latency.arrival.p99),
          ms(r.latency.arrival.max),
        ],
        ['rendered in the page', ms(r.latency.shown.p50), ms(r.latency.shown.p99), ms(r.latency.shown.max)],
      ],
    ),
    '',
    table(
      [
        `daemon serving dashboards (mean of ${ROUNDS} alternating rounds)`,
        'saturated runs/s',
        'CPU % at 1,000/min',
        'loop delay p99 ms',
        'events streamed',
      ],
      [
        [none!.label, int(none!.saturated), ms(none!.cpu), ms(none!.delay), '0'],
        ...others.map((o) => [o.label, int(o.saturated), ms(o.cpu), ms(o.delay), int(o.events)]),
        ...others.map((o) => [
          `  ${o.label.split(' (')[0]} vs none`,
          change(none!.saturated, o.saturated),
          change(none!.cpu, o.cpu),
          change(none!.delay, o.delay),
          '',
        ]),
      ],
    ),
    '',
    table(
      ['round', 'clients', 'saturated runs/s', 'CPU %', 'loop delay p99 ms'],
      r.overhead.map((s, i) => [
        String(Math.floor(i / SETUPS.length) + 1),
        s.dashboards === 0 ? 'none' : `${s.dashboards} ${s.mode}`,
        int(s.saturatedPerSec),
        ms(s.cpuPercent),
        ms(s.loopDelayP99Ms),
      ]),
    ),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatDashboard(await runDashboard()));
}
