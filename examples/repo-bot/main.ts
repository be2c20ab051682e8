/**
 * `npm start`: repo-bot as users run it. Starts a fake GitHub API (so replies have somewhere to
 * go offline), then `holdfast serve` with ./holdfast.config.ts on .holdfast/repo-bot.db, and prints
 * where to look and how to send it a burst of webhooks. Ctrl-C stops both (the daemon parks its
 * runs first; run it again and they resume).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startFakeGithub } from './fake-github.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const github = await startFakeGithub(Number(process.env.REPO_BOT_GITHUB_PORT ?? 7421));
const daemon = spawn(process.execPath, ['bin/holdfast.js', 'serve', '--config', 'examples/repo-bot/holdfast.config.ts'], {
  cwd: root,
  env: { ...process.env, REPO_BOT_GITHUB_URL: github.url },
  stdio: ['ignore', 'pipe', 'inherit'],
});

let out = '';
let announced = false;
daemon.stdout.setEncoding('utf8');
daemon.stdout.on('data', (chunk: string) => {
  out += chunk;
  const url = /listening on (\S+)/.exec(out)?.[1];
  if (!url || announced) return;
  announced = true;
  const port = new URL(url).port;
  process.stdout.write(
    [
      '',
      'repo-bot is running',
      `  dashboard     ${url}/`,
      `  fake GitHub   ${github.url}/comments   (the replies it received)`,
      '',
      'send it a burst of signed webhooks (a PR comment, an urgent review comment that preempts',
      "the agent turn, a failed check, an assignment, a redelivery, the bot's own comment):",
      '',
      `  npm run burst${port === '7420' ? '' : ` -- (with REPO_BOT_PORT=${port})`}`,
      '',
    ].join('\n'),
  );
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => daemon.kill(signal));
daemon.on('exit', (code, signal) => {
  github.server.close();
  process.exit(code ?? (signal === 'SIGINT' ? 130 : 143));
});
