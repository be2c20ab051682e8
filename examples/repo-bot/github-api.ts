/** Where replies go: the fake GitHub started beside the daemon (or the real API behind a proxy you trust). */
export const GITHUB_API = process.env.REPO_BOT_GITHUB_URL ?? 'http://127.0.0.1:7421';

/**
 * Posts a comment on an issue or pull request with an `Idempotency-Key`, so that a retried
 * effect (after a crash between the post and its record) never posts twice to a receiver that
 * honours the key. Returns the comment's id, recorded by the effect as its artifact.
 */
export async function postComment(repo: string, issue: number, body: string, idempotencyKey: string): Promise<{ id: number }> {
  const response = await fetch(`${GITHUB_API}/repos/${repo}/issues/${issue}/comments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    body: JSON.stringify({ body }),
  });
  if (!response.ok) throw new Error(`GitHub answered ${response.status} to the comment on ${repo}#${issue}`);
  return { id: ((await response.json()) as { id: number }).id };
}
