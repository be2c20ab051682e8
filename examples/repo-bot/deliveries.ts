/** GitHub webhook deliveries shaped like the real ones (trimmed to what the bot and GitHub always send). */
import { createHmac } from 'node:crypto';

export interface Delivery {
  readonly event: string;
  readonly id: string;
  readonly payload: Record<string, unknown>;
  readonly note: string;
}

const user = (login: string) => ({ login, id: login.length * 1000 + 7, type: login.endsWith('[bot]') ? 'Bot' : 'User' });
const repository = (fullName: string) => ({
  id: fullName.length * 7919,
  name: fullName.split('/')[1],
  full_name: fullName,
  private: false,
  owner: { login: fullName.split('/')[0], type: 'Organization' },
  html_url: `https://github.com/${fullName}`,
});
const pullRequest = (repo: string, number: number) => ({
  url: `https://api.github.com/repos/${repo}/pulls/${number}`,
  number,
  state: 'open',
  title: 'Retry flaky uploads',
  user: user('dana'),
  head: { ref: 'retry-uploads', sha: '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c' },
  base: { ref: 'main', sha: '0a0b0c0d0e0f1011121314151617181920212223' },
});

export function prComment(id: string, repo: string, pr: number, login: string, body: string, commentId: number): Delivery {
  return {
    event: 'issue_comment',
    id,
    note: `@${login} comments on ${repo}#${pr}`,
    payload: {
      action: 'created',
      issue: {
        url: `https://api.github.com/repos/${repo}/issues/${pr}`,
        number: pr,
        title: 'Retry flaky uploads',
        user: user('dana'),
        state: 'open',
        pull_request: { url: `https://api.github.com/repos/${repo}/pulls/${pr}`, html_url: `https://github.com/${repo}/pull/${pr}` },
      },
      comment: { id: commentId, html_url: `https://github.com/${repo}/pull/${pr}#issuecomment-${commentId}`, user: user(login), body },
      repository: repository(repo),
      sender: user(login),
    },
  };
}

export function reviewComment(id: string, repo: string, pr: number, login: string, body: string, commentId: number): Delivery {
  return {
    event: 'pull_request_review_comment',
    id,
    note: `@${login} leaves an inline review comment on ${repo}#${pr} (urgent)`,
    payload: {
      action: 'created',
      comment: {
        id: commentId,
        pull_request_review_id: commentId + 1,
        path: 'src/upload.ts',
        line: 42,
        user: user(login),
        body,
        html_url: `https://github.com/${repo}/pull/${pr}#discussion_r${commentId}`,
      },
      pull_request: pullRequest(repo, pr),
      repository: repository(repo),
      sender: user(login),
    },
  };
}

export function checkFailed(id: string, repo: string, pr: number, runId: number): Delivery {
  return {
    event: 'check_run',
    id,
    note: `CI fails on ${repo}#${pr}`,
    payload: {
      action: 'completed',
      check_run: {
        id: runId,
        name: 'test (node 20)',
        status: 'completed',
        conclusion: 'failure',
        head_sha: '9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5',
        html_url: `https://github.com/${repo}/runs/${runId}`,
        pull_requests: [{ number: pr, url: `https://api.github.com/repos/${repo}/pulls/${pr}` }],
      },
      repository: repository(repo),
      sender: user('github-actions[bot]'),
    },
  };
}

export function issueAssigned(id: string, repo: string, issue: number, assignee: string): Delivery {
  return {
    event: 'issues',
    id,
    note: `${repo}#${issue} is assigned to @${assignee}`,
    payload: {
      action: 'assigned',
      issue: { number: issue, title: 'Document the upload limits', user: user('mia'), state: 'open', assignee: user(assignee) },
      assignee: user(assignee),
      repository: repository(repo),
      sender: user('mia'),
    },
  };
}

/** `X-Hub-Signature-256` of a body under the webhook secret. */
export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
