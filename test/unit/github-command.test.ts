import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GITHUB_COMMAND_TYPES, translateGithubEvent, type GithubTranslation } from '../../src/core/github-command.js';
import {
  checkRunCompleted,
  issueAssigned,
  issueCommentCreated,
  pullRequestClosed,
  reviewCommentCreated,
  reviewSubmitted,
} from '../support/github-payloads.js';

const options = { botLogins: ['holdfast-bot'] };
const translate = (event: string, payload: unknown) => translateGithubEvent(event, payload, options);

function reasonOf(translation: GithubTranslation): string {
  if (translation.kind === 'command') throw new Error(`expected no command, got ${JSON.stringify(translation.command)}`);
  return translation.reason;
}

/** A deep copy of `payload` with the field at `path` replaced (or removed, for undefined). */
function withField(payload: object, path: string, value: unknown): unknown {
  const copy = structuredClone(payload) as Record<string, unknown>;
  const parts = path.split('.');
  let at = copy;
  for (const part of parts.slice(0, -1)) at = at[part] as Record<string, unknown>;
  const last = parts.at(-1)!;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}

describe('translateGithubEvent: the six commands', () => {
  it('an inline review comment is a pr_review_comment for the repository key', () => {
    expect(translate('pull_request_review_comment', reviewCommentCreated())).toEqual({
      kind: 'command',
      key: 'repo:acme/web',
      command: {
        type: 'pr_review_comment',
        repo: 'acme/web',
        pr: 17,
        commentId: 2001,
        reviewId: 3001,
        author: 'carol',
        body: 'This retry loop never backs off.',
        path: 'src/upload.ts',
        line: 42,
        url: 'https://github.com/acme/web/pull/17#discussion_r2001',
      },
    });
  });

  it('a file-level review comment has a null line, and one without a review a null reviewId', () => {
    const result = translate('pull_request_review_comment', reviewCommentCreated('carol', { line: null, pull_request_review_id: null }));
    expect(result).toMatchObject({ kind: 'command', command: { line: null, reviewId: null } });
  });

  it('a conversation comment on a pull request is a pr_comment', () => {
    expect(translate('issue_comment', issueCommentCreated())).toEqual({
      kind: 'command',
      key: 'repo:acme/web',
      command: {
        type: 'pr_comment',
        repo: 'acme/web',
        pr: 17,
        commentId: 5005,
        author: 'carol',
        body: '@holdfast-bot please rebase',
        url: 'https://github.com/acme/web/pull/17#issuecomment-5005',
      },
    });
  });

  it('a failed or timed-out check run is a check_failed naming its pull requests', () => {
    expect(translate('check_run', checkRunCompleted('failure'))).toEqual({
      kind: 'command',
      key: 'repo:acme/web',
      command: {
        type: 'check_failed',
        repo: 'acme/web',
        checkRunId: 7007,
        name: 'test (node 20)',
        conclusion: 'failure',
        headSha: '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c',
        prs: [17],
        url: 'https://github.com/acme/web/runs/7007',
      },
    });
    expect(translate('check_run', checkRunCompleted('timed_out'))).toMatchObject({ command: { conclusion: 'timed_out' } });
  });

  it('a merged pull request is a pr_merged', () => {
    expect(translate('pull_request', pullRequestClosed(true))).toEqual({
      kind: 'command',
      key: 'repo:acme/web',
      command: {
        type: 'pr_merged',
        repo: 'acme/web',
        pr: 17,
        mergedBy: 'erin',
        mergeSha: '9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5',
        baseRef: 'main',
      },
    });
  });

  it('an issue assignment is an issue_assigned', () => {
    expect(translate('issues', issueAssigned())).toEqual({
      kind: 'command',
      key: 'repo:acme/web',
      command: { type: 'issue_assigned', repo: 'acme/web', issue: 31, assignee: 'holdfast-bot', title: 'Uploads time out on slow links' },
    });
  });

  it('a review with changes requested, approved, or commented with a body is a review_submitted', () => {
    expect(translate('pull_request_review', reviewSubmitted('changes_requested'))).toEqual({
      kind: 'command',
      key: 'repo:acme/web',
      command: {
        type: 'review_submitted',
        repo: 'acme/web',
        pr: 17,
        reviewId: 3001,
        state: 'changes_requested',
        author: 'carol',
        body: 'Please add a test.',
      },
    });
    expect(translate('pull_request_review', reviewSubmitted('approved', null))).toMatchObject({ command: { state: 'approved', body: '' } });
    expect(translate('pull_request_review', reviewSubmitted('commented', 'Overall fine, see inline.'))).toMatchObject({
      command: { type: 'review_submitted', state: 'commented' },
    });
  });

  it('lists every command type it makes', () => {
    const made = [
      translate('pull_request_review_comment', reviewCommentCreated()),
      translate('issue_comment', issueCommentCreated()),
      translate('check_run', checkRunCompleted()),
      translate('pull_request', pullRequestClosed()),
      translate('issues', issueAssigned()),
      translate('pull_request_review', reviewSubmitted()),
    ].map((t) => (t.kind === 'command' ? t.command.type : t.kind));
    expect(made).toEqual([...GITHUB_COMMAND_TYPES]);
  });
});

describe('translateGithubEvent: ignored deliveries', () => {
  it('a comment on a plain issue', () => {
    expect(reasonOf(translate('issue_comment', issueCommentCreated('carol', false)))).toMatch(/plain issue/);
  });

  it('a successful check run, and one still without a conclusion', () => {
    expect(reasonOf(translate('check_run', checkRunCompleted('success')))).toMatch(/"success" is not a failure/);
    expect(reasonOf(translate('check_run', checkRunCompleted(null)))).toMatch(/conclusion null is not a failure/);
  });

  it('a pull request closed without merging', () => {
    expect(reasonOf(translate('pull_request', pullRequestClosed(false)))).toMatch(/closed without being merged/);
  });

  it('an unknown event, and a known event with another action, naming both', () => {
    expect(reasonOf(translate('deployment_status', { action: 'created', repository: { full_name: 'acme/web' } }))).toBe(
      '"deployment_status" event with action "created": not a supported event and action',
    );
    expect(reasonOf(translate('issue_comment', { ...issueCommentCreated(), action: 'edited' }))).toMatch(
      /"issue_comment" event with action "edited"/,
    );
    expect(reasonOf(translate('pull_request', { ...pullRequestClosed(), action: 'opened' }))).toMatch(/not a supported/);
  });

  it("the bot's own comments and reviews, by configured login (any case) or by a [bot] login", () => {
    expect(reasonOf(translate('issue_comment', issueCommentCreated('holdfast-bot')))).toMatch(/bot account holdfast-bot/);
    expect(reasonOf(translate('issue_comment', issueCommentCreated('HoldFast-Bot')))).toMatch(/bot account/);
    expect(reasonOf(translate('pull_request_review_comment', reviewCommentCreated('holdfast-bot')))).toMatch(/bot account/);
    expect(reasonOf(translate('pull_request_review_comment', reviewCommentCreated('dependabot[bot]')))).toMatch(/dependabot\[bot\]/);
    expect(reasonOf(translate('pull_request_review', reviewSubmitted('approved', 'lgtm', 'renovate[bot]')))).toMatch(/bot account/);
    expect(translateGithubEvent('issue_comment', issueCommentCreated('holdfast-bot'), { botLogins: [] }).kind).toBe('command');
  });
});

describe('translateGithubEvent: the collapse rule', () => {
  it('a commented review without a body is collapsed into its inline comment', () => {
    const comment = translate('pull_request_review_comment', reviewCommentCreated());
    expect(comment.kind).toBe('command');
    for (const body of [null, '', '  \n']) {
      const review = translate('pull_request_review', reviewSubmitted('commented', body));
      expect(review.kind).toBe('collapsed');
      expect(reasonOf(review)).toMatch(/inline comments/);
    }
  });

  it('only commented reviews without a body collapse', () => {
    expect(translate('pull_request_review', reviewSubmitted('approved', null)).kind).toBe('command');
    expect(translate('pull_request_review', reviewSubmitted('changes_requested', '')).kind).toBe('command');
    expect(translate('pull_request_review', reviewSubmitted('COMMENTED', 'see inline')).kind).toBe('command');
  });
});

describe('translateGithubEvent: missing and ill-typed fields', () => {
  const cases: [string, object, string, unknown][] = [
    ['pull_request_review_comment', reviewCommentCreated(), 'comment.body', undefined],
    ['pull_request_review_comment', reviewCommentCreated(), 'comment.id', '2001'],
    ['pull_request_review_comment', reviewCommentCreated(), 'comment.line', 'forty-two'],
    ['pull_request_review_comment', reviewCommentCreated(), 'pull_request.number', -3],
    ['issue_comment', issueCommentCreated(), 'issue.number', 1.5],
    ['issue_comment', issueCommentCreated(), 'comment.user', null],
    ['check_run', checkRunCompleted(), 'check_run.pull_requests', { number: 17 }],
    ['check_run', checkRunCompleted(), 'check_run.head_sha', 12],
    ['pull_request', pullRequestClosed(), 'pull_request.merged', 'true'],
    ['pull_request', pullRequestClosed(), 'pull_request.base', undefined],
    ['issues', issueAssigned(), 'assignee', null],
    ['issues', issueAssigned(), 'repository.full_name', 'not a repository'],
    ['pull_request_review', reviewSubmitted(), 'review.state', 'dismissed'],
    ['pull_request_review', reviewSubmitted(), 'review.id', undefined],
  ];
  it.each(cases)('%s without a proper %s is ignored, naming the field', (event, payload, path, value) => {
    const reason = reasonOf(translate(event, withField(payload, path, value)));
    const named = path === 'comment.user' ? 'comment.user.login' : path === 'pull_request.base' ? 'pull_request.base.ref' : path;
    expect(reason).toContain(`field ${path === 'assignee' ? 'assignee.login' : named}`);
  });

  it('a check run whose pull request entry has no number names that entry', () => {
    const payload = withField(checkRunCompleted(), 'check_run.pull_requests', [{ number: 17 }, { url: 'x' }]);
    expect(reasonOf(translate('check_run', payload))).toContain('field check_run.pull_requests.1.number');
  });

  it('payloads that are not objects, or objects of another shape, are ignored', () => {
    for (const payload of [null, 3, 'text', [], [reviewCommentCreated()], { action: 7 }, { action: 'created' }]) {
      expect(translate('pull_request_review_comment', payload).kind).toBe('ignored');
    }
    expect(reasonOf(translate('issues', [issueAssigned()]))).toMatch(/not a JSON object/);
  });

  it('fields inherited from the prototype are not read', () => {
    const payload = Object.create({ action: 'assigned' }) as Record<string, unknown>;
    Object.assign(payload, { repository: { full_name: 'acme/web' }, issue: { number: 1, title: 't' }, assignee: { login: 'x' } });
    expect(translate('issues', payload).kind).toBe('ignored');
  });

  it('never throws, and every command it makes is plain JSON for a well-formed key', () => {
    const events = fc.constantFrom(
      'pull_request_review_comment',
      'issue_comment',
      'check_run',
      'pull_request',
      'issues',
      'pull_request_review',
    );
    const realistic = fc.constantFrom<object>(
      reviewCommentCreated(),
      issueCommentCreated(),
      checkRunCompleted(),
      pullRequestClosed(),
      issueAssigned(),
      reviewSubmitted(),
    );
    const mutated = fc.tuple(realistic, fc.array(fc.tuple(fc.string(), fc.jsonValue()), { maxLength: 4 })).map(([base, edits]) => {
      const copy = structuredClone(base) as Record<string, unknown>;
      for (const [k, v] of edits) copy[k] = v;
      return copy;
    });
    fc.assert(
      fc.property(fc.oneof(events, fc.string()), fc.oneof(fc.anything(), fc.jsonValue(), mutated), (event, payload) => {
        const result = translateGithubEvent(event, payload, options);
        if (result.kind === 'command') {
          expect(JSON.parse(JSON.stringify(result.command))).toEqual(result.command);
          expect(result.key).toMatch(/^repo:[^/]+\/[^/]+$/);
        } else expect(typeof result.reason).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });
});
