// A stand-in for an agent CLI (the kind holdfast drives with execProvider): reads a prompt on
// stdin, "thinks" while streaming progress lines, and prints its answer last. A re-issued turn
// (HOLDFAST_TURN_INTERRUPTED=1) resumes the same session (HOLDFAST_SESSION_ID) and says so.
let prompt = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (prompt += chunk));
process.stdin.on('end', async () => {
  const session = process.env.HOLDFAST_SESSION_ID ?? 'none';
  const resumed = process.env.HOLDFAST_TURN_INTERRUPTED === '1';
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  console.log(resumed ? `resuming session ${session.slice(0, 8)}` : `session ${session.slice(0, 8)}: reading the issue`);
  for (const thought of ['looking at recent commits', 'reproducing the report']) {
    await sleep(resumed ? 20 : 120);
    console.log(thought);
  }
  console.log(
    `suggest: ${prompt.includes('crash') ? 'check the Safari user-agent branch in login.ts' : 'ask the reporter for a minimal example'}`,
  );
});
