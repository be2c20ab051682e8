// A stand-in for an agent CLI (the kind holdfast drives with execProvider): reads a prompt on
// stdin, "thinks" for $REPO_BOT_AGENT_SECONDS (default 6) while streaming progress lines, and
// prints its answer last. A re-issued turn (HOLDFAST_TURN_INTERRUPTED=1, after a preemption)
// resumes the same session (HOLDFAST_SESSION_ID) and finishes quickly. Swap in a real agent CLI
// with one line in holdfast.config.ts.
let prompt = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (prompt += chunk));
process.stdin.on('end', async () => {
  const session = (process.env.HOLDFAST_SESSION_ID ?? 'none').slice(0, 8);
  const resumed = process.env.HOLDFAST_TURN_INTERRUPTED === '1';
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const thoughts = resumed
    ? ['picking up where I was stopped']
    : ['reading the pull request', 'looking at the diff of src/upload.ts', 'running the failing test locally', 'comparing with main'];
  console.log(resumed ? `resuming session ${session}` : `session ${session}: ${prompt.trim().slice(0, 60)}`);
  const total = resumed ? 600 : Number(process.env.REPO_BOT_AGENT_SECONDS ?? 6) * 1000;
  for (const thought of thoughts) {
    await sleep(total / thoughts.length);
    console.log(thought);
  }
  console.log(
    `suggest: ${/retry|flaky|upload/i.test(prompt) ? 'add a capped exponential backoff to the upload retry loop' : 'ask for a failing test first'}`,
  );
});
