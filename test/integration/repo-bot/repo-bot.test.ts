// The main job, as `npm start` and `npm run burst` run it: the example repo-bot under `holdfast
// serve` (the compiled CLI) with a fake GitHub beside it. The burst ends with the triage
// preempted by the urgent review comment, resumed, and completed, and every reply received by the
// fake GitHub exactly once.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ensureBuiltBinary } from '../cli/cli-harness.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function start(script: string, env: Record<string, string>): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, out: () => out, exited };
}

async function waitFor(what: string, check: () => boolean, diagnose: () => string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${diagnose()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the repo-bot main job', () => {
  it('npm start serves repo-bot; the printed burst command ends with a preempted-then-resumed triage and one reply per command', async () => {
    ensureBuiltBinary();
    const dir = mkdtempSync(join(tmpdir(), 'repo-bot-'));
    const env = { REPO_BOT_DB: join(dir, 'repo-bot.db'), REPO_BOT_PORT: '0', REPO_BOT_GITHUB_PORT: '0', REPO_BOT_AGENT_SECONDS: '3' };
    const bot = start('examples/repo-bot/main.ts', env);
    await waitFor('the banner', () => bot.out().includes('npm run burst'), bot.out, 60_000);
    const dashboard = /dashboard\s+(\S+)\//.exec(bot.out())![1]!;
    const github = /fake GitHub\s+(\S+)\/comments/.exec(bot.out())![1]!;
    expect((await fetch(`${dashboard}/readyz`)).status).toBe(200);

    const burst = start('examples/repo-bot/burst.ts', { REPO_BOT_URL: dashboard, REPO_BOT_GITHUB_URL: github });
    expect(await burst.exited, burst.out()).toBe(0);
    expect(burst.out()).toContain('preempted by the urgent comment, then resumed, completed');
    expect(burst.out()).toContain('(already received: nothing dispatched)');
    expect(burst.out()).toContain('written by the bot account repo-bot');

    const comments = (await (await fetch(`${github}/comments`)).json()) as { repo: string; issue: number; body: string }[];
    expect(comments).toHaveLength(4);
    expect(comments.filter((c) => c.body.startsWith('@carol I looked into it'))).toHaveLength(1);
    expect(comments.filter((c) => c.body.startsWith('@dana noted on src/upload.ts:42'))).toHaveLength(1);

    bot.child.kill('SIGINT');
    expect(await bot.exited).toBe(130);
  }, 120_000);
});
