/**
 * repo-bot: a GitHub bot on holdfast, as `holdfast serve` runs it (`npm start`). Webhooks for
 * pull request comments start a triage with an agent turn; an inline review comment is urgent and
 * preempts that turn (steal: the agent is stopped, the comment answered, and the triage resumes
 * its agent session); every reply is posted once through an effect.
 */
import { defineConfig, execProvider } from 'holdfast';
import { answer, assigned, ciFailed, triage } from './flows.js';

export default defineConfig({
  store: process.env.REPO_BOT_DB ?? new URL('../../.holdfast/repo-bot.db', import.meta.url).pathname,
  flows: [triage, answer, ciFailed, assigned],
  providers: {
    // Swap in a real agent CLI here, e.g. execProvider({ argv: ['claude', '-p'], sessionArg: '--session-id' }).
    agent: execProvider({ argv: [process.execPath, new URL('./agent.mjs', import.meta.url).pathname] }),
  },
  http: { port: Number(process.env.REPO_BOT_PORT ?? 7420) },
  ingress: {
    github: {
      secret: 'repo-bot-dev-secret', // HOLDFAST_GITHUB_SECRET overrides it
      botLogins: ['repo-bot'],
      routes: {
        pr_comment: { flow: 'triage' },
        pr_review_comment: { flow: 'answer', priority: 'urgent', preempt: 'steal' },
        check_failed: { flow: 'ci-failed' },
        issue_assigned: { flow: 'assigned', priority: 'background' },
      },
    },
  },
});
