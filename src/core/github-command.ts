/**
 * GitHub webhook deliveries as typed commands (I1). Pure: one (event, action, payload) in, one
 * decision out, the same forever. Fail-closed: anything not listed below, and anything whose
 * fields are missing or of the wrong type, is ignored with a reason; nothing here ever throws.
 */

/** The commands a GitHub delivery can become, in the order they are documented. */
export const GITHUB_COMMAND_TYPES = [
  'pr_review_comment',
  'pr_comment',
  'check_failed',
  'pr_merged',
  'issue_assigned',
  'review_submitted',
] as const;
export type GithubCommandType = (typeof GITHUB_COMMAND_TYPES)[number];

/** An inline comment on a pull request's diff (`pull_request_review_comment.created`). */
export type PrReviewCommentCommand = {
  readonly type: 'pr_review_comment';
  /** `owner/name`. */
  readonly repo: string;
  readonly pr: number;
  readonly commentId: number;
  /** The review the comment belongs to, if GitHub named one. */
  readonly reviewId: number | null;
  readonly author: string;
  readonly body: string;
  readonly path: string;
  /** The diff line; null for a comment on the whole file or an outdated one. */
  readonly line: number | null;
  readonly url: string;
};

/** A conversation comment on a pull request (`issue_comment.created` on an issue that is a PR). */
export type PrCommentCommand = {
  readonly type: 'pr_comment';
  readonly repo: string;
  readonly pr: number;
  readonly commentId: number;
  readonly author: string;
  readonly body: string;
  readonly url: string;
};

/** A check run that failed or timed out (`check_run.completed`). */
export type CheckFailedCommand = {
  readonly type: 'check_failed';
  readonly repo: string;
  readonly checkRunId: number;
  readonly name: string;
  readonly conclusion: 'failure' | 'timed_out';
  readonly headSha: string;
  /** Numbers of the pull requests the check ran for (empty for a branch without one, or a fork). */
  readonly prs: number[];
  readonly url: string;
};

/** A pull request that was merged (`pull_request.closed` with `merged: true`). */
export type PrMergedCommand = {
  readonly type: 'pr_merged';
  readonly repo: string;
  readonly pr: number;
  /** Null when GitHub does not say who merged it. */
  readonly mergedBy: string | null;
  readonly mergeSha: string;
  readonly baseRef: string;
};

/** Someone was assigned to an issue (`issues.assigned`). */
export type IssueAssignedCommand = {
  readonly type: 'issue_assigned';
  readonly repo: string;
  readonly issue: number;
  readonly assignee: string;
  readonly title: string;
};

/** A review was submitted on a pull request (`pull_request_review.submitted`). */
export type ReviewSubmittedCommand = {
  readonly type: 'review_submitted';
  readonly repo: string;
  readonly pr: number;
  readonly reviewId: number;
  readonly state: 'approved' | 'changes_requested' | 'commented';
  readonly author: string;
  /** Empty when the review has no summary text. */
  readonly body: string;
};

/**
 * A typed command made from one GitHub delivery; plain JSON, recorded as the run's input. (Object
 * types rather than interfaces, so that each is assignable to `Json`.)
 */
export type GithubCommand =
  PrReviewCommentCommand | PrCommentCommand | CheckFailedCommand | PrMergedCommand | IssueAssignedCommand | ReviewSubmittedCommand;

/**
 * What became of a delivery: a command for key `repo:<owner>/<name>`; ignored (unsupported,
 * ill-formed, or written by the bot itself); or collapsed into another delivery's command.
 */
export type GithubTranslation =
  | { readonly kind: 'command'; readonly key: string; readonly command: GithubCommand }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'collapsed'; readonly reason: string };

export interface GithubTranslateOptions {
  /** Logins whose comments and reviews are never commands (the bot's own); `*[bot]` always are not. */
  readonly botLogins: readonly string[];
}

const REVIEW_STATES = ['approved', 'changes_requested', 'commented'] as const;
const FAILED_CONCLUSIONS = ['failure', 'timed_out'] as const;
/** GitHub's owner and repository name alphabet; anything else cannot be a real repository. */
const FULL_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}$/;

/**
 * Translates one delivery: `event` is the `X-GitHub-Event` header, `payload` the parsed body
 * (any value at all). Returns a command, or `ignored` / `collapsed` with a reason naming the
 * event, action or field. Never throws.
 */
export function translateGithubEvent(event: string, payload: unknown, options: GithubTranslateOptions): GithubTranslation {
  try {
    return translate(event, payload, options);
  } catch (error) {
    if (error instanceof FieldProblem) return { kind: 'ignored', reason: `${describeDelivery(event, payload)}: ${error.message}` };
    return { kind: 'ignored', reason: `${shown(event)} event: the payload could not be read` };
  }
}

/** True for the bot's own logins and every GitHub App account (`name[bot]`), compared case-insensitively. */
export function isBotLogin(login: string, botLogins: readonly string[]): boolean {
  const folded = login.toLowerCase();
  return folded.endsWith('[bot]') || botLogins.some((bot) => typeof bot === 'string' && bot.toLowerCase() === folded);
}

function translate(event: string, payload: unknown, options: GithubTranslateOptions): GithubTranslation {
  const what = describeDelivery(event, payload);
  if (!isRecord(payload)) return ignored(`${what}: the payload is not a JSON object`);
  const action = Object.hasOwn(payload, 'action') ? payload['action'] : undefined;
  const is = (e: string, a: string) => event === e && action === a;
  if (is('pull_request_review_comment', 'created')) {
    const repo = repoOf(payload);
    const author = text(payload, 'comment.user.login');
    if (isBotLogin(author, options.botLogins)) return ignored(`${what}: written by the bot account ${author}`);
    return command(repo, {
      type: 'pr_review_comment',
      repo,
      pr: count(payload, 'pull_request.number'),
      commentId: count(payload, 'comment.id'),
      reviewId: optional(payload, 'comment.pull_request_review_id', count),
      author,
      body: text(payload, 'comment.body'),
      path: text(payload, 'comment.path'),
      line: optional(payload, 'comment.line', count),
      url: text(payload, 'comment.html_url'),
    });
  }
  if (is('issue_comment', 'created')) {
    if (!isRecord(read(payload, 'issue'))) throw new FieldProblem('issue', 'an object');
    if (!isRecord(read(payload, 'issue.pull_request'))) return ignored(`${what}: a comment on a plain issue, not on a pull request`);
    const repo = repoOf(payload);
    const author = text(payload, 'comment.user.login');
    if (isBotLogin(author, options.botLogins)) return ignored(`${what}: written by the bot account ${author}`);
    return command(repo, {
      type: 'pr_comment',
      repo,
      pr: count(payload, 'issue.number'),
      commentId: count(payload, 'comment.id'),
      author,
      body: text(payload, 'comment.body'),
      url: text(payload, 'comment.html_url'),
    });
  }
  if (is('check_run', 'completed')) {
    const conclusion = read(payload, 'check_run.conclusion');
    if (!FAILED_CONCLUSIONS.includes(conclusion as never)) {
      return ignored(`${what}: conclusion ${shown(conclusion)} is not a failure (only failure and timed_out are)`);
    }
    const repo = repoOf(payload);
    const prs = read(payload, 'check_run.pull_requests');
    if (!Array.isArray(prs)) throw new FieldProblem('check_run.pull_requests', 'an array');
    return command(repo, {
      type: 'check_failed',
      repo,
      checkRunId: count(payload, 'check_run.id'),
      name: text(payload, 'check_run.name'),
      conclusion: conclusion as CheckFailedCommand['conclusion'],
      headSha: text(payload, 'check_run.head_sha'),
      prs: prs.map((_, i) => count(payload, `check_run.pull_requests.${i}.number`)),
      url: text(payload, 'check_run.html_url'),
    });
  }
  if (is('pull_request', 'closed')) {
    const merged = read(payload, 'pull_request.merged');
    if (typeof merged !== 'boolean') throw new FieldProblem('pull_request.merged', 'a boolean');
    if (!merged) return ignored(`${what}: the pull request was closed without being merged`);
    const repo = repoOf(payload);
    return command(repo, {
      type: 'pr_merged',
      repo,
      pr: count(payload, 'pull_request.number'),
      mergedBy: optional(payload, 'pull_request.merged_by', () => text(payload, 'pull_request.merged_by.login')),
      mergeSha: text(payload, 'pull_request.merge_commit_sha'),
      baseRef: text(payload, 'pull_request.base.ref'),
    });
  }
  if (is('issues', 'assigned')) {
    const repo = repoOf(payload);
    return command(repo, {
      type: 'issue_assigned',
      repo,
      issue: count(payload, 'issue.number'),
      assignee: text(payload, 'assignee.login'),
      title: text(payload, 'issue.title'),
    });
  }
  if (is('pull_request_review', 'submitted')) {
    const repo = repoOf(payload);
    const author = text(payload, 'review.user.login');
    if (isBotLogin(author, options.botLogins)) return ignored(`${what}: written by the bot account ${author}`);
    const state = text(payload, 'review.state').toLowerCase();
    if (!REVIEW_STATES.includes(state as never)) throw new FieldProblem('review.state', `one of ${REVIEW_STATES.join(', ')}`);
    const body = optional(payload, 'review.body', text) ?? '';
    if (state === 'commented' && body.trim() === '') {
      return {
        kind: 'collapsed',
        reason: `${what}: a commented review without a body only wraps inline comments, whose own deliveries are the commands`,
      };
    }
    return command(repo, {
      type: 'review_submitted',
      repo,
      pr: count(payload, 'pull_request.number'),
      reviewId: count(payload, 'review.id'),
      state: state as ReviewSubmittedCommand['state'],
      author,
      body,
    });
  }
  return ignored(`${what}: not a supported event and action`);
}

/** A field the command needs is missing or has the wrong type. */
class FieldProblem extends Error {
  constructor(path: string, expected: string) {
    super(`field ${path} is missing or not ${expected}`);
  }
}

function command(repo: string, value: GithubCommand): GithubTranslation {
  return { kind: 'command', key: `repo:${repo}`, command: value };
}

function ignored(reason: string): GithubTranslation {
  return { kind: 'ignored', reason };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a dotted path of own properties (array indexes included), or undefined. */
function read(payload: unknown, path: string): unknown {
  let value = payload;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function text(payload: unknown, path: string): string {
  const value = read(payload, path);
  if (typeof value !== 'string') throw new FieldProblem(path, 'a string');
  return value;
}

/** A positive whole number (GitHub's ids and pull request numbers). */
function count(payload: unknown, path: string): number {
  const value = read(payload, path);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new FieldProblem(path, 'a positive integer');
  return value;
}

/** Null when the field is absent or null; otherwise it must read as `reader` says. */
function optional<T>(payload: unknown, path: string, reader: (payload: unknown, path: string) => T): T | null {
  const value = read(payload, path);
  return value === undefined || value === null ? null : reader(payload, path);
}

function repoOf(payload: unknown): string {
  const name = read(payload, 'repository.full_name');
  if (typeof name !== 'string' || !FULL_NAME.test(name)) throw new FieldProblem('repository.full_name', 'an "owner/name" string');
  return name;
}

function describeDelivery(event: string, payload: unknown): string {
  const action = isRecord(payload) && Object.hasOwn(payload, 'action') ? payload['action'] : undefined;
  return `${shown(event)} event` + (typeof action === 'string' ? ` with action ${shown(action)}` : '');
}

/** A short, printable rendering of a value from the outside (quoted, cut at 60 characters). */
function shown(value: unknown): string {
  if (value === undefined) return 'none';
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') {
    return Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  }
  const cut = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  return JSON.stringify(cut);
}
