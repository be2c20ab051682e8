/**
 * repo-bot: a small GitHub bot on holdfast. It receives webhook deliveries for two repositories,
 * submits one command per delivery (the delivery id is the idempotence key, so a redelivery never
 * runs twice), and holdfast runs each repository's commands one at a time, in priority order, with
 * every step journaled in .holdfast/repo-bot.db. Triage asks an agent CLI (a child process) for a
 * suggestion; the urgent comment that arrives meanwhile preempts it (steal): the agent is stopped,
 * the comment answered, and the triage resumes its agent session. Run it twice: the second time
 * every delivery is recognised as already handled.
 */
import { createKernel, execProvider, sqliteStore, type RunHandle } from 'holdfast';
import { answerComment, dailyDigest, triageIssue } from './flows.js';
import { printTimeline } from './timeline.js';

const dbPath = process.env.HOLDFAST_DB ?? '.holdfast/repo-bot.db';
const store = sqliteStore({ path: dbPath });
const agent = execProvider({ argv: [process.execPath, new URL('./agent.mjs', import.meta.url).pathname] });
const kernel = createKernel({ store, flows: [triageIssue, answerComment, dailyDigest], providers: { agent } });
const write = (line: string) => process.stdout.write(`${line}\n`);

write(`repo-bot on ${store.description}\n`);
printTimeline(kernel, write, () => performance.now());
await kernel.start();

// Webhook deliveries as GitHub would send them, `afterMs` apart; delivery 3 is redelivered.
const deliveries = [
  {
    id: 'd-1001',
    key: 'repo:acme/web',
    flow: 'triage-issue',
    input: { repo: 'acme/web', issue: 41, title: 'Login page crashes on Safari', author: 'mia' },
  },
  {
    id: 'd-1002',
    key: 'repo:acme/api',
    flow: 'triage-issue',
    input: { repo: 'acme/api', issue: 7, title: 'Add support for API tokens', author: 'raj' },
  },
  {
    id: 'd-1003',
    key: 'repo:acme/web',
    flow: 'answer-comment',
    input: { repo: 'acme/web', issue: 41, author: 'mia', body: '@repo-bot status?' },
    priority: 'urgent',
    afterMs: 180,
  },
  {
    id: 'd-1003',
    key: 'repo:acme/web',
    flow: 'answer-comment',
    input: { repo: 'acme/web', issue: 41, author: 'mia', body: '@repo-bot status?' },
    priority: 'urgent',
  },
  { id: 'd-1004', key: 'repo:acme/web', flow: 'daily-digest', input: { repo: 'acme/web', issues: [39, 40, 41] }, priority: 'background' },
  {
    id: 'd-1005',
    key: 'repo:acme/api',
    flow: 'answer-comment',
    input: { repo: 'acme/api', issue: 7, author: 'raj', body: '@repo-bot please also cover the docs' },
  },
] as const;

const handles: RunHandle[] = [];
for (const d of deliveries) {
  if ('afterMs' in d) await new Promise((resolve) => setTimeout(resolve, d.afterMs));
  const handle = await kernel.submit({
    key: d.key,
    flow: d.flow,
    input: d.input,
    idempotencyKey: d.id,
    priority: 'priority' in d ? d.priority : 'normal',
  });
  if (!handle.created)
    write(`          ${d.key.padEnd(14)} duplicate  delivery ${d.id} is run ${handle.id.slice(0, 8)} already; not run again`);
  handles.push(handle);
}
await Promise.all(handles.map((h) => h.result()));

write('\nruns:');
for (const handle of new Set(handles.map((h) => h.id))) {
  const run = await kernel.getRun(handle);
  if (!run) continue;
  write(
    `  ${run.id.slice(0, 8)}  ${run.key.padEnd(14)} ${run.flow.padEnd(15)} ${run.priority.padEnd(10)} ${run.status.padEnd(9)} steps: ${run.steps.map((s) => s.name).join(' > ')}`,
  );
}
await kernel.stop();
await store.close();
