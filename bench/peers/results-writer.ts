// Writes one run's summary to bench/results/: peers.json, peers.md (a table per metric) and an SVG
// chart per metric.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { int } from '../common.js';
import type { NotifySummary, RunSummary, SystemSummary, Timing } from './report.js';
import { barChart, type Row } from './svg-chart.js';

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

const ms = (t: Timing) => (t.ms >= 100 ? int(t.ms) : t.ms.toFixed(2));
const raw = (t: Timing) => t.rawTxns.toFixed(1);
const measured = (r: RunSummary) => r.systems.filter((s): s is SystemSummary & { status: 'measured' } => s.status === 'measured');
const notMeasured = (r: RunSummary) => r.systems.filter((s) => s.status !== 'measured') as { name: string; reason: string }[];
const mdRow = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

/** Latency cells as "p50 / p99 ms (p50 / p99 in raw txns)". */
const pair = (a: Timing, b: Timing) => `${ms(a)} / ${ms(b)} ms (${raw(a)} / ${raw(b)})`;

export function markdown(r: RunSummary): string {
  const lines: string[] = [
    `# holdfast and its peers on one Postgres`,
    '',
    `${r.date}, ${r.machine.cpus} cores (${r.machine.cpuModel}), Node ${r.machine.node}, PostgreSQL ${r.postgres.server_version ?? '?'}, ` +
      `synchronous_commit=${r.postgres.synchronous_commit}, fsync=${r.postgres.fsync}, wal_sync_method=${r.postgres.wal_sync_method}. ` +
      `Unit of work: ${r.unit.steps} durable steps per run, ${r.unit.resultBytes}-byte results, ${r.unit.inFlight} runs in flight. Whole run ${r.totalSeconds.toFixed(0)} s.`,
    '',
    '## 1. Durable steps per second',
    '',
    mdRow([
      'system',
      'version',
      'steps/s',
      'raw txn/s, 1 connection (same run)',
      'ratio',
      'ratio by round',
      'raw txn/s, 8 connections',
      'runs',
      'time s',
    ]),
    mdRow(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...measured(r).map((s) =>
      mdRow([
        s.name,
        s.version,
        int(s.throughput.stepsPerSec),
        int(s.rawTxnPerSec),
        s.throughput.ratio.toFixed(2),
        s.throughput.rounds.map((x) => x.ratio.toFixed(2)).join(', '),
        Number.isFinite(s.raw8TxnPerSec) ? int(s.raw8TxnPerSec) : '',
        int(s.throughput.runs),
        s.throughput.seconds.toFixed(1),
      ]),
    ),
    ...notMeasured(r).map((s) => mdRow([s.name, '', `not measured: ${s.reason}`, '', '', '', '', '', ''])),
    '',
    r.aims.holdfastStepsVsDbos.status === 'measured'
      ? `holdfast ÷ DBOS: ${r.aims.holdfastStepsVsDbos.factor}× by ratio (each system's steps/s ÷ its own raw baseline), ` +
        `${r.aims.holdfastStepsVsDbos.plainFactor}× by plain steps/s; aim ≥ 5×: ${r.aims.holdfastStepsVsDbos.met ? 'met' : '**not met**'}.`
      : `holdfast ÷ DBOS: not measured (${r.aims.holdfastStepsVsDbos.reason}).`,
    '',
    '## 2. Submit-to-start latency',
    '',
    'Idle system, one run at a time, from just before the submit call to the first line of the run. In brackets: the same time in raw transactions (ms × raw txn/s of the same process).',
    '',
    mdRow(['system', 'submit → start', 'n', 'p50 / p99 ms (raw txns)', 'max ms', 'submit call p50 / p99 ms', 'raw txn/s (same process)']),
    mdRow(['---', '---', '---:', '---:', '---:', '---:', '---:']),
    ...measured(r).flatMap((s) =>
      s.latency.map((l) =>
        mdRow([
          s.name,
          l.path,
          l.samples,
          pair(l.p50, l.p99),
          ms(l.max),
          `${l.submitP50Ms.toFixed(2)} / ${l.submitP99Ms.toFixed(2)}`,
          int(s.sampleRawTxnPerSec),
        ]),
      ),
    ),
    ...notMeasured(r).map((s) => mdRow([s.name, `not measured: ${s.reason}`, '', '', '', '', ''])),
    '',
    r.aims.holdfastLatencyP99BelowGraphile.status === 'measured'
      ? `holdfast p99 ${r.aims.holdfastLatencyP99BelowGraphile.holdfastP99Ms.toFixed(2)} ms against graphile-worker's ` +
        `${r.aims.holdfastLatencyP99BelowGraphile.graphileP99Ms.toFixed(2)} ms: aim ${r.aims.holdfastLatencyP99BelowGraphile.met ? 'met' : '**not met**'}.`
      : `holdfast against graphile-worker: not measured (${r.aims.holdfastLatencyP99BelowGraphile.reason}).`,
    '',
    '## 3. Interrupting a running step for urgent work',
    '',
    `A run is ${r.unit.interruptAtMs} ms into a ${r.unit.longStepMs} ms step on a key (for the peers: a queue that runs one job or workflow at a time); ` +
      "urgent work for the same key is submitted and the running work is interrupted with the system's own API. From that call's commit.",
    '',
    mdRow([
      'system',
      'interrupt API and what it does',
      'n',
      'commit → step ended p50 ms',
      'step ran to its end',
      'commit → urgent first step p50 / p99 ms (raw txns)',
      'urgent ran beside the interrupted step',
    ]),
    mdRow(['---', '---', '---:', '---:', '---:', '---:', '---:']),
    ...measured(r).flatMap((s) =>
      s.interrupt.map((i) =>
        mdRow([
          s.name,
          i.api,
          i.samples,
          ms(i.stepEndedP50),
          `${i.ranToEnd} of ${i.samples}`,
          pair(i.urgentStartP50, i.urgentStartP99),
          `${i.overlapped} of ${i.samples}`,
        ]),
      ),
    ),
    ...notMeasured(r).map((s) => mdRow([s.name, `not measured: ${s.reason}`, '', '', '', '', ''])),
    '',
    '## 4. Cross-process preemption through LISTEN/NOTIFY',
    '',
    ...notifyTable(r.notifyPreemption),
    '',
  ];
  return lines.join('\n');
}

function notifyTable(n: RunSummary['notifyPreemption']): string[] {
  const head = [
    mdRow([
      'system',
      'how',
      'n',
      'urgent commit (A) → step aborted (B) p50 / p99 ms (raw txns)',
      'urgent commit (A) → urgent first step (B) p50 / p99 ms (raw txns)',
      'raw txn/s',
    ]),
    mdRow(['---', '---', '---:', '---:', '---:', '---:']),
  ];
  const hf =
    n.status === 'measured'
      ? mdRow([
          'holdfast',
          `urgent submit, preempt '${n.preempt}', from another kernel process`,
          n.samples,
          pair(n.abortP50, n.abortP99),
          pair(n.startP50, n.startP99),
          int(n.rawTxnPerSec),
        ])
      : mdRow(['holdfast', `not measured: ${n.reason}`, '', '', '', '']);
  return [
    ...head,
    hf,
    mdRow([
      'DBOS',
      'cancelWorkflow from any process: the step sees it by polling the database (about 1 s); figure 3 already is that path',
      '',
      '',
      '',
      '',
    ]),
    mdRow(['graphile-worker', 'no API interrupts a running job', '', '', '', '']),
    mdRow(['pg-boss', 'no API interrupts a running handler', '', '', '', '']),
  ];
}

const SUBTITLE = (r: RunSummary) =>
  `${r.unit.steps}-step runs, ${r.unit.resultBytes}-byte results, ${r.unit.inFlight} in flight; one Postgres, one run (${r.date})`;
const missingRow = (s: { name: string; reason: string }): Row => ({
  label: s.name,
  bars: [],
  note: `not measured: ${s.reason.slice(0, 80)}`,
});

export function charts(r: RunSummary): Record<string, string> {
  const sys = measured(r);
  const steps = barChart({
    title: 'Durable steps per second',
    subtitle: SUBTITLE(r),
    unit: 'steps/s',
    rows: [
      ...sys.map((s) => ({
        label: s.name,
        bars: [
          {
            value: s.throughput.stepsPerSec,
            series: 'steps/s',
            text: `${int(s.throughput.stepsPerSec)} steps/s · ${s.throughput.ratio.toFixed(2)}× raw txn/s`,
          },
        ],
      })),
      ...notMeasured(r).map(missingRow),
    ],
    footnotes: ['ratio: steps/s ÷ single-row INSERT transactions/s on one connection, measured in the same process just before and after'],
  });
  const latency = barChart({
    title: 'Submit-to-start latency (idle system)',
    subtitle: SUBTITLE(r),
    unit: 'ms',
    log: true,
    rows: [
      ...sys.flatMap((s) =>
        s.latency.map((l, i) => ({
          label: i === 0 ? s.name : `${s.name} (${l.path.includes('queue') ? 'queue' : 'variant'})`,
          bars: [
            { value: l.p50.ms, series: 'p50', text: `p50 ${ms(l.p50)} ms` },
            { value: l.p99.ms, series: 'p99', text: `p99 ${ms(l.p99)} ms` },
          ],
        })),
      ),
      ...notMeasured(r).map(missingRow),
    ],
  });
  const interrupt = barChart({
    title: 'Urgent work on a key whose step is running: interrupt → urgent first step',
    subtitle: `${r.unit.longStepMs} ms step, interrupted ${r.unit.interruptAtMs} ms in, through each system's own API`,
    unit: 'ms',
    log: true,
    rows: [
      ...sys.flatMap((s) =>
        s.interrupt.map((i, k) => ({
          label: s.interrupt.length > 1 ? `${s.name} (${i.api.match(/preempt: '([a-z-]+)'/)?.[1] ?? k + 1})` : s.name,
          bars: [
            {
              value: i.urgentStartP50.ms,
              series: 'p50',
              text: `p50 ${ms(i.urgentStartP50)} ms${i.ranToEnd ? ' (step ran to its end)' : ''}`,
            },
            { value: i.urgentStartP99.ms, series: 'p99', text: `p99 ${ms(i.urgentStartP99)} ms` },
          ],
        })),
      ),
      ...notMeasured(r).map(missingRow),
    ],
  });
  const n = r.notifyPreemption;
  const notifyRows: Row[] =
    n.status === 'measured'
      ? [
          { label: 'holdfast: step aborted in B', bars: bars(n, 'abort') },
          { label: 'holdfast: urgent first step', bars: bars(n, 'start') },
        ]
      : [{ label: 'holdfast', bars: [], note: `not measured: ${n.reason.slice(0, 80)}` }];
  const notify = barChart({
    title: 'Cross-process preemption through LISTEN/NOTIFY',
    subtitle: 'urgent commit in process A → the owner of the key, process B, aborts its step and runs the urgent work',
    unit: 'ms',
    log: true,
    rows: [
      ...notifyRows,
      { label: 'DBOS', bars: [], note: 'cancel seen by polling the database, about 1 s (see the interrupt chart)' },
      { label: 'graphile-worker, pg-boss', bars: [], note: 'no API interrupts a running job' },
    ],
  });
  return {
    'peers-steps-per-sec.svg': steps,
    'peers-submit-to-start.svg': latency,
    'peers-interrupt.svg': interrupt,
    'peers-notify-preemption.svg': notify,
  };
}

function bars(n: NotifySummary, which: 'abort' | 'start') {
  const [p50, p99] = which === 'abort' ? [n.abortP50, n.abortP99] : [n.startP50, n.startP99];
  return [
    { value: p50.ms, series: 'p50', text: `p50 ${ms(p50)} ms` },
    { value: p99.ms, series: 'p99', text: `p99 ${ms(p99)} ms` },
  ];
}

export function writeResults(r: RunSummary): string[] {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const files: Record<string, string> = { 'peers.json': `${JSON.stringify(r, null, 2)}\n`, 'peers.md': markdown(r), ...charts(r) };
  for (const [name, text] of Object.entries(files)) writeFileSync(`${RESULTS_DIR}${name}`, text);
  return Object.keys(files).map((name) => `bench/results/${name}`);
}
