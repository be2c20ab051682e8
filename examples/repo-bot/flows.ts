import { defineFlow } from 'holdfast';

/** What a GitHub "issues.opened" webhook carries that the bot uses. */
export interface IssueOpened {
  readonly repo: string;
  readonly issue: number;
  readonly title: string;
  readonly author: string;
}

/** What an "issue_comment.created" webhook carries that the bot uses. */
export interface CommentCreated {
  readonly repo: string;
  readonly issue: number;
  readonly author: string;
  readonly body: string;
}

const LABELS: readonly [RegExp, string][] = [
  [/crash|error|fail|broken|bug/i, 'bug'],
  [/docs?|readme|typo/i, 'documentation'],
  [/add|support|feature|allow/i, 'enhancement'],
];
const MAINTAINERS = ['ada', 'grace', 'linus'];

/**
 * Triage a new issue: label it, pick an assignee, ask the agent for a first suggestion (a long,
 * interruptible provider turn), and compose the bot's comment.
 */
export const triageIssue = defineFlow('triage-issue', async (ctx, input: IssueOpened) => {
  const label = await ctx.step('classify', () => LABELS.find(([re]) => re.test(input.title))?.[1] ?? 'question');
  const assignee = await ctx.step('pick-assignee', () => MAINTAINERS[input.issue % MAINTAINERS.length]!);
  const thoughts = await ctx.turn<string>('agent', `Issue #${input.issue}: ${input.title}`);
  const suggestion = thoughts.split('\n').at(-1) ?? '';
  const comment = await ctx.step(
    'compose-comment',
    () => `Thanks @${input.author}! Labelled **${label}** and assigned to @${assignee}. Agent: ${suggestion}`,
  );
  return { issue: input.issue, label, assignee, comment };
});

/** Answer a comment that mentions the bot. Submitted as urgent: it must not wait for triage. */
export const answerComment = defineFlow('answer-comment', async (ctx, input: CommentCreated) => {
  const question = await ctx.step('read-thread', () => input.body.replace(/@repo-bot\s*/i, '').trim());
  const answer = await ctx.step('draft-answer', () =>
    /status/i.test(question)
      ? `@${input.author} issue #${input.issue} is being triaged right now.`
      : `@${input.author} noted: "${question}".`,
  );
  return { issue: input.issue, answer };
});

/** A low-priority digest of the day's activity. */
export const dailyDigest = defineFlow('daily-digest', async (ctx, input: { repo: string; issues: number[] }) => {
  const lines = await ctx.step('collect', () => input.issues.map((n) => `#${n}`));
  return ctx.step('publish', () => `Digest for ${input.repo}: ${lines.length} issues touched (${lines.join(', ')})`);
});
