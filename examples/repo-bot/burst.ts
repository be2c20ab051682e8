/**
 * Sends repo-bot a realistic burst of signed GitHub webhooks (`npm run burst`), prints what the
 * daemon does with them from its event feed, and waits for the triage to finish: a PR comment
 * starts a triage with a long agent turn; an inline review comment arrives during that turn and
 * preempts it; a redelivery and the bot's own comment change nothing.
 */
import { checkFailed, issueAssigned, prComment, reviewComment, sign, type Delivery } from './deliveries.js';
import { GITHUB_API } from './github-api.js';

const daemon = process.env.REPO_BOT_URL ?? `http://127.0.0.1:${process.env.REPO_BOT_PORT ?? 7420}`;
const secret = process.env.HOLDFAST_GITHUB_SECRET ?? 'repo-bot-dev-secret';
const tag = Date.now().toString(36);
const n = Number.parseInt(tag.slice(-6), 36) % 1_000_000;
const t0 = performance.now();
const at = () => `+${((performance.now() - t0) / 1000).toFixed(2).padStart(6)}s`;
const short = (id: unknown) => String(id).slice(0, 8);

async function send(delivery: Delivery): Promise<{ status: number; runId?: string }> {
  const body = JSON.stringify(delivery.payload);
  const response = await fetch(`${daemon}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': delivery.event,
      'x-github-delivery': delivery.id,
      'x-hub-signature-256': sign(secret, body),
    },
    body,
  });
  const text = await response.text();
  const answer = text ? (JSON.parse(text) as { runId?: string; created?: boolean }) : {};
  const outcome =
    response.status === 202
      ? `202 run ${short(answer.runId)}${answer.created === false ? ' (already received: nothing dispatched)' : ''}`
      : `${response.status} ${response.headers.get('x-holdfast-ignored') ?? text}`;
  console.log(`${at()}  webhook    ${delivery.note.padEnd(58)} -> ${outcome}`);
  return { status: response.status, runId: answer.runId };
}

interface FeedEvent {
  seq: number;
  type: string;
  runId: string | null;
  key: string | null;
  data: Record<string, unknown>;
}

function describe(e: FeedEvent): string | undefined {
  const d = e.data;
  switch (e.type) {
    case 'run:started':
      return `started    ${short(e.runId)} ${d.flow} attempt ${d.attempt}`;
    case 'step:committed':
      return `step       ${short(e.runId)} #${d.seq} ${d.name}`;
    case 'turn:started':
      return `turn       ${short(e.runId)} agent${d.interrupted ? ' (re-issued with the same session)' : ''}`;
    case 'turn:output': {
      const chunk = d.chunk as { data?: unknown } | undefined;
      const text = typeof chunk?.data === 'string' ? chunk.data.trim() : '';
      return text ? `  agent    ${text.split('\n').join(' / ')}` : undefined;
    }
    case 'run:interrupted':
      return `PREEMPT    ${short(e.runId)} ${d.kind} by ${short(d.by)}`;
    case 'run:parked':
      return `parked     ${short(e.runId)} at #${d.turnSeq}`;
    case 'run:resumed':
      return `resumed    ${short(e.runId)} from #${d.turnSeq}`;
    case 'effect:delivered':
      return `effect     ${short(e.runId)} ${d.name} delivered`;
    case 'run:completed':
      return `completed  ${short(e.runId)}`;
    case 'run:failed':
      return `FAILED     ${short(e.runId)} ${JSON.stringify(d.error)}`;
    default:
      return undefined;
  }
}

/** The feed's current end: only this burst's events are printed. */
async function feedEnd(): Promise<number> {
  let after = 0;
  for (;;) {
    const page = (await (await fetch(`${daemon}/v1/events?after=${after}&limit=1000`)).json()) as { events: FeedEvent[]; next: number };
    if (page.events.length === 0) return after;
    after = page.next;
  }
}

let cursor: number;
try {
  cursor = await feedEnd();
} catch {
  console.error(`no repo-bot daemon answers at ${daemon}; start it with npm start (or set REPO_BOT_URL)`);
  process.exit(1);
}

async function follow(until: () => boolean): Promise<void> {
  while (!until()) {
    const page = (await (await fetch(`${daemon}/v1/events?after=${cursor}&limit=500`)).json()) as { events: FeedEvent[]; next: number };
    for (const e of page.events) {
      const line = describe(e);
      if (line) console.log(`${at()}  ${(e.key ?? '').padEnd(14)} ${line}`);
      seen.push(e);
    }
    cursor = page.next;
    if (page.events.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const seen: FeedEvent[] = [];
const ended = (runId: string | undefined) => seen.some((e) => e.runId === runId && (e.type === 'run:completed' || e.type === 'run:failed'));
console.log(`repo-bot burst to ${daemon}\n`);
const triage = await send(
  prComment(`${tag}-1`, 'acme/web', 17, 'carol', 'Uploads are flaky on CI again, can you retry with backoff?', n * 10 + 1),
);
const others = [
  await send(issueAssigned(`${tag}-2`, 'acme/web', 18, 'mia')),
  await send(checkFailed(`${tag}-3`, 'acme/api', 7, n * 10 + 3)),
];
await follow(() => seen.some((e) => e.type === 'turn:started' && e.runId === triage.runId));
await follow(() => seen.filter((e) => e.type === 'turn:output' && e.runId === triage.runId).length >= 2);
const urgent = reviewComment(`${tag}-4`, 'acme/web', 17, 'dana', 'This retry loop never backs off.', n * 10 + 4);
others.push(await send(urgent));
await send(urgent);
await send(prComment(`${tag}-5`, 'acme/web', 17, 'repo-bot', 'Thanks, looking into it.', n * 10 + 5));
await follow(() => [triage, ...others].every((r) => ended(r.runId)));

const comments = (await (await fetch(`${GITHUB_API}/comments`)).json()) as { id: number; repo: string; issue: number; body: string }[];
const preempted = seen.some((e) => e.type === 'run:parked' && e.runId === triage.runId);
const resumed = seen.some((e) => e.type === 'run:resumed' && e.runId === triage.runId);
console.log(`\ntriage ${short(triage.runId)}: ${preempted && resumed ? 'preempted by the urgent comment, then resumed, ' : ''}completed`);
console.log(`comments the fake GitHub received (${comments.length} in all; each reply posted once):`);
for (const c of comments.slice(-4)) console.log(`  #${c.id} on ${c.repo}#${c.issue}: ${c.body}`);
console.log(`\nsee it all at ${daemon}/ , or: node bin/holdfast.js run ${short(triage.runId)} --url ${daemon}`);
