// GitHub webhook payloads shaped like real deliveries (trimmed to the fields GitHub always sends
// around the ones the translator reads), and a signer for them.
import { createHmac } from 'node:crypto';

const repository = {
  id: 123456789,
  node_id: 'R_kgDOB1a2b3',
  name: 'web',
  full_name: 'acme/web',
  private: false,
  owner: { login: 'acme', id: 9001, type: 'Organization' },
  html_url: 'https://github.com/acme/web',
  default_branch: 'main',
};
const sender = (login: string) => ({ login, id: 4242, type: login.endsWith('[bot]') ? 'Bot' : 'User' });
const pullRequest = {
  url: 'https://api.github.com/repos/acme/web/pulls/17',
  id: 1_900_000_017,
  number: 17,
  state: 'open',
  title: 'Retry flaky uploads',
  user: sender('dana'),
  merged: false,
  merged_by: null,
  merge_commit_sha: null,
  head: { ref: 'retry-uploads', sha: '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c' },
  base: { ref: 'main', sha: '0a0b0c0d0e0f1011121314151617181920212223' },
};

/** `pull_request_review_comment.created`: an inline comment on line 42 of a diff. */
export function reviewCommentCreated(login = 'carol', overrides: Record<string, unknown> = {}) {
  return {
    action: 'created',
    comment: {
      url: 'https://api.github.com/repos/acme/web/pulls/comments/2001',
      id: 2001,
      pull_request_review_id: 3001,
      diff_hunk: '@@ -40,3 +40,4 @@',
      path: 'src/upload.ts',
      commit_id: '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c',
      user: sender(login),
      body: 'This retry loop never backs off.',
      html_url: 'https://github.com/acme/web/pull/17#discussion_r2001',
      line: 42,
      original_line: 42,
      side: 'RIGHT',
      subject_type: 'line',
      ...overrides,
    },
    pull_request: pullRequest,
    repository,
    sender: sender(login),
  };
}

/** `issue_comment.created` on pull request 17 (or on a plain issue when `onPullRequest` is false). */
export function issueCommentCreated(login = 'carol', onPullRequest = true) {
  return {
    action: 'created',
    issue: {
      url: 'https://api.github.com/repos/acme/web/issues/17',
      number: 17,
      title: 'Retry flaky uploads',
      user: sender('dana'),
      state: 'open',
      ...(onPullRequest && {
        pull_request: {
          url: 'https://api.github.com/repos/acme/web/pulls/17',
          html_url: 'https://github.com/acme/web/pull/17',
          merged_at: null,
        },
      }),
    },
    comment: {
      id: 5005,
      html_url: 'https://github.com/acme/web/pull/17#issuecomment-5005',
      user: sender(login),
      body: '@holdfast-bot please rebase',
      created_at: '2025-03-04T10:11:12Z',
    },
    repository,
    sender: sender(login),
  };
}

/** `check_run.completed` for pull request 17 with the given conclusion. */
export function checkRunCompleted(conclusion: string | null = 'failure') {
  return {
    action: 'completed',
    check_run: {
      id: 7007,
      name: 'test (node 20)',
      head_sha: '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c',
      status: 'completed',
      conclusion,
      html_url: 'https://github.com/acme/web/runs/7007',
      started_at: '2025-03-04T10:00:00Z',
      completed_at: '2025-03-04T10:05:00Z',
      check_suite: { id: 6006, head_branch: 'retry-uploads' },
      app: { id: 15368, slug: 'github-actions' },
      pull_requests: [{ url: 'https://api.github.com/repos/acme/web/pulls/17', id: 1_900_000_017, number: 17 }],
    },
    repository,
    sender: sender('github-actions[bot]'),
  };
}

/** `pull_request.closed`, merged or not. */
export function pullRequestClosed(merged = true) {
  return {
    action: 'closed',
    number: 17,
    pull_request: {
      ...pullRequest,
      state: 'closed',
      merged,
      merged_by: merged ? sender('erin') : null,
      merge_commit_sha: merged ? '9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5' : null,
    },
    repository,
    sender: sender('erin'),
  };
}

/** `issues.assigned`: issue 31 assigned to the bot. */
export function issueAssigned(assignee = 'holdfast-bot') {
  return {
    action: 'assigned',
    issue: {
      url: 'https://api.github.com/repos/acme/web/issues/31',
      number: 31,
      title: 'Uploads time out on slow links',
      user: sender('frank'),
      state: 'open',
      assignees: [sender(assignee)],
    },
    assignee: sender(assignee),
    repository,
    sender: sender('frank'),
  };
}

/** `pull_request_review.submitted` with the given state and body. */
export function reviewSubmitted(state = 'changes_requested', body: string | null = 'Please add a test.', login = 'carol') {
  return {
    action: 'submitted',
    review: {
      id: 3001,
      user: sender(login),
      body,
      commit_id: '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c',
      submitted_at: '2025-03-04T10:20:00Z',
      state,
      html_url: 'https://github.com/acme/web/pull/17#pullrequestreview-3001',
    },
    pull_request: pullRequest,
    repository,
    sender: sender(login),
  };
}

/** GitHub's `ping` on webhook creation. */
export function ping() {
  return { zen: 'Keep it logically awesome.', hook_id: 1, hook: { type: 'Repository', events: ['*'] }, repository, sender: sender('acme') };
}

/** `X-Hub-Signature-256` for `body` under `secret`. */
export function signGithub(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
