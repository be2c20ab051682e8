import { defineFlow, type GithubCommand } from 'holdfast';
import { postComment } from './github-api.js';

type Command<T extends GithubCommand['type']> = Extract<GithubCommand, { type: T }>;

/**
 * A comment on a pull request: classify it, ask the agent (a long, interruptible provider turn
 * that streams its thinking), compose the reply, and post it exactly once through an effect.
 */
export const triage = defineFlow('triage', async (ctx, input: Command<'pr_comment'>) => {
  const kind = await ctx.step('classify', () =>
    /\?\s*$/.test(input.body) ? 'question' : /rerun|retry/i.test(input.body) ? 'rerun' : 'request',
  );
  const thoughts = await ctx.turn<string>('agent', `PR #${input.pr} in ${input.repo}, ${kind} from @${input.author}: ${input.body}`);
  const suggestion =
    thoughts
      .trim()
      .split('\n')
      .at(-1)
      ?.replace(/^suggest:\s*/, '') ?? '';
  const reply = await ctx.step('compose', () => `@${input.author} I looked into it: ${suggestion}.`);
  const posted = await ctx.effect('post-reply', ({ idempotencyKey }) => postComment(input.repo, input.pr, reply, idempotencyKey));
  return { reply, commentId: posted.id };
});

/** An inline review comment: urgent, it preempts a running agent turn on the same repository. */
export const answer = defineFlow('answer', async (ctx, input: Command<'pr_review_comment'>) => {
  const where = await ctx.step('locate', () => `${input.path}${input.line === null ? '' : `:${input.line}`}`);
  const reply = await ctx.step('draft', () => `@${input.author} noted on ${where}; I will address it in this pull request.`);
  const posted = await ctx.effect('post-reply', ({ idempotencyKey }) => postComment(input.repo, input.pr, reply, idempotencyKey));
  return { reply, commentId: posted.id };
});

/** A failed check run: summarise it on each pull request it belongs to. */
export const ciFailed = defineFlow('ci-failed', async (ctx, input: Command<'check_failed'>) => {
  const summary = await ctx.step(
    'summarise',
    () => `Check **${input.name}** ${input.conclusion.replace('_', ' ')} on ${input.headSha.slice(0, 7)}.`,
  );
  for (const pr of input.prs)
    await ctx.effect(`report-${pr}`, ({ idempotencyKey }) => postComment(input.repo, pr, summary, idempotencyKey));
  return { summary, reported: input.prs };
});

/** An issue assigned to someone: acknowledge it, in the background. */
export const assigned = defineFlow('assigned', async (ctx, input: Command<'issue_assigned'>) => {
  const note = await ctx.step('acknowledge', () => `Assigned to @${input.assignee}: "${input.title}".`);
  await ctx.effect('post-note', ({ idempotencyKey }) => postComment(input.repo, input.issue, note, idempotencyKey));
  return note;
});
