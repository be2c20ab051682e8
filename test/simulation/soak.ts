/*
 * The simulation soak runner (I5), run as `npm run soak -- --minutes N` (or `npx tsx test/simulation/soak.ts`).
 *
 *   --minutes N     run fresh seeds for N minutes (default 5) in parallel worker processes
 *   --workers W     how many (default: the number of CPUs)
 *   --from S        the first seed (default: one derived from the current time, printed)
 *   --out FILE      where failing seeds are kept, one line each (default soak-failures.txt); the
 *                   seeds already in it are run again first, so a fixed bug shows as fixed
 *   --mutation M    run with a fault mutation turned on (see src/core/fault-mutations.ts)
 *   --seed S        replay one seed: print its report and its whole trace, exit 1 if it fails
 */
import { fork } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createSimulation } from '../../src/testing.js';
import { FAULT_MUTATIONS, setFaultMutation, type FaultMutation } from '../../src/core/fault-mutations.js';
import { replayCommand } from './seeds.js';

interface Failure {
  readonly seed: number;
  readonly line: string;
}

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const number = (name: string, fallback: number): number => {
  const value = option(name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`--${name} must be a non-negative number, got ${value}`);
  return parsed;
};
const mutation = option('mutation') as FaultMutation | undefined;
if (mutation !== undefined && !FAULT_MUTATIONS.includes(mutation)) {
  throw new Error(`--mutation must be one of ${FAULT_MUTATIONS.join(', ')}, got ${mutation}`);
}
setFaultMutation(mutation);

/** Runs one seed; a failure as one line for the seed file. */
async function runSeed(seed: number): Promise<Failure | undefined> {
  const result = await createSimulation({ seed, replay: (s) => replayCommand(s, mutation) }).run();
  if (result.ok) return undefined;
  const first = result.violations[0]!;
  return {
    seed,
    line: `seed ${seed}${mutation ? ` mutation ${mutation}` : ''}: ${first.invariant}: ${first.message} | replay: ${result.replay}`,
  };
}

async function replayOne(seed: number): Promise<void> {
  const result = await createSimulation({ seed, replay: (s) => replayCommand(s, mutation) }).run();
  console.log(result.trace);
  console.log(`\n${result.report(0)}`);
  process.exitCode = result.ok ? 0 : 1;
}

/** A worker process: seeds first, first + stride ... until the deadline; reports each failure to the parent. */
async function work(): Promise<void> {
  const first = number('worker-from', 1);
  const stride = number('stride', 1);
  const deadline = number('deadline', 0);
  let seeds = 0;
  for (let seed = first; Date.now() < deadline; seed += stride) {
    const failure = await runSeed(seed);
    seeds++;
    if (failure) process.send?.({ failure });
  }
  process.send?.({ seeds });
}

async function lead(): Promise<void> {
  const minutes = number('minutes', 5);
  const workers = Math.max(1, Math.floor(number('workers', availableParallelism())));
  const from = number('from', 1_000_000 + (Math.floor(Date.now() / 1000) % 1_000_000_000));
  const out = option('out') ?? 'soak-failures.txt';
  const existing = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const known = [...existing.matchAll(/^seed (\d+)/gm)].map((m) => Number(m[1]));
  const kept = new Set(existing.split('\n'));
  const keep = (failure: Failure) => {
    console.log(`FAIL ${failure.line}`);
    if (!kept.has(failure.line)) appendFileSync(out, `${failure.line}\n`);
    kept.add(failure.line);
  };
  for (const seed of [...new Set(known)]) {
    const failure = await runSeed(seed);
    console.log(`known seed ${seed}: ${failure ? 'still fails' : 'passes now'}`);
    if (failure) keep(failure);
  }
  const deadline = Date.now() + minutes * 60_000;
  console.log(
    `soak: ${workers} workers, seeds from ${from} (stride ${workers}), ${minutes} min${mutation ? `, mutation ${mutation}` : ''}`,
  );
  const started = Date.now();
  let seeds = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const child = fork(process.argv[1]!, [
        '--worker',
        '--worker-from',
        String(from + w),
        '--stride',
        String(workers),
        '--deadline',
        String(deadline),
        ...(mutation ? ['--mutation', mutation] : []),
      ]);
      child.on('message', (message: { failure?: Failure; seeds?: number }) => {
        if (message.failure) {
          failures++;
          keep(message.failure);
        }
        if (message.seeds !== undefined) seeds += message.seeds;
      });
      return new Promise<void>((resolve) => child.on('exit', () => resolve()));
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `soak: ${seeds} seeds in ${seconds.toFixed(0)} s (${(seeds / seconds).toFixed(0)} simulated runs/s), ${failures} failing${failures ? `, kept in ${out}` : ''}`,
  );
  process.exitCode = failures > 0 ? 1 : 0;
}

const seed = option('seed');
if (seed !== undefined) await replayOne(number('seed', 0));
else if (args.includes('--worker')) await work();
else await lead();
