/**
 * The holder name of a lane lease a run takes with `ctx.lane`: `run:<runId>/<seq>@<epoch>`, the
 * run, the position of the `ctx.lane` call in its journal, and the epoch of the key's owner that
 * executed it (its fencing token). The run id and position make the acquire idempotent: a re-run
 * finds the lease it took before instead of taking a second one. The epoch fences a stale
 * execution: a newer owner of the key adopts the lease under its own epoch, after which the old
 * one can neither beat nor release it (L5: only the exact holder may). Pure.
 */

export interface RunHolder {
  readonly runId: string;
  readonly seq: number;
  readonly epoch: number;
}

const PREFIX = 'run:';
const FORM = /^run:(.+)\/(\d+)@(\d+)$/;

export function runHolder(holder: RunHolder): string {
  return `${PREFIX}${holder.runId}/${holder.seq}@${holder.epoch}`;
}

/** The run, position and epoch a holder name stands for; undefined when it is not a run's. */
export function parseRunHolder(holder: string): RunHolder | undefined {
  if (!holder.startsWith(PREFIX)) return undefined;
  const match = FORM.exec(holder);
  if (match === null) return undefined;
  return { runId: match[1]!, seq: Number(match[2]), epoch: Number(match[3]) };
}

/** Whether a lease's holder is a run (taken with `ctx.lane`). */
export function isRunHolder(holder: string): boolean {
  return parseRunHolder(holder) !== undefined;
}
