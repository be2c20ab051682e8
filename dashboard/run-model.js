// Runs and their timelines, folded from the run-event feed (and from run records for runs whose
// events are older than what the page read). A timeline is a list of spans:
//   queued    waiting in the key's mailbox (again after a requeue or an operator retry)
//   step      a committed step: from the previous boundary to its commit
//   turn      a provider turn with its streamed output; `resumed` when run again from its frame after a park
//   effect    an outbox effect from its claim to its delivery (or failed emit)
//   wait      a durable wait (timer, retry backoff, child, effect backoff) until it is claimed again
//   preempted from the interrupt decision to the run letting go of its key, with who preempted it
//   parked    parked by `steal` with its frame, until resumed
//   retry     an instant: an operator re-opened the run, or a new attempt started after a crash
//   run       what a run record alone tells (no events of it in the page's window)

export const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const LIVE = new Set(['queued', 'running', 'waiting']);
const OUTPUT_KEEP_CHARS = 32 * 1024;

export function isLive(run) {
  return LIVE.has(run.status);
}

export function createRunModel({ maxRuns = 1500 } = {}) {
  const runs = new Map();
  let spanIds = 0;

  function ensure(id, key) {
    let run = runs.get(id);
    if (!run) {
      run = {
        id,
        key: key ?? null,
        flow: null,
        priority: 'normal',
        status: 'queued',
        seq: null,
        createdAt: null,
        startedAt: null,
        finishedAt: null,
        attempts: 0,
        epoch: null,
        parentId: null,
        children: [],
        spans: [],
        preempted: [],
        error: null,
        cancelRequested: null,
        wait: null,
        lastSeq: 0,
        lastBoundary: null,
        fromEvents: false,
        touchedAt: 0,
      };
      runs.set(id, run);
    }
    if (key && !run.key) run.key = key;
    return run;
  }

  function openSpan(run, kind, at, fields = {}) {
    const span = { id: ++spanIds, kind, start: at, end: null, state: 'open', label: kind, ...fields };
    run.spans.push(span);
    return span;
  }

  const lastOpen = (run, kind, match = () => true) => run.spans.findLast((s) => s.kind === kind && s.end === null && match(s));

  function close(span, at, state) {
    if (!span || span.end !== null) return;
    span.end = Math.max(at, span.start);
    span.state = state;
  }

  function closeAll(run, at, state, kinds) {
    for (const span of run.spans) if (span.end === null && (!kinds || kinds.includes(span.kind))) close(span, at, state);
  }

  /** A new claim of a run that was parked, waiting, requeued or retried: the timeline already says why. */
  function explainedClaim(run) {
    return Boolean(lastOpen(run, 'parked') || lastOpen(run, 'wait') || lastOpen(run, 'queued')?.cause);
  }

  function boundary(run, at) {
    return run.lastBoundary ?? run.startedAt ?? at;
  }

  function end(run, status, at, error) {
    run.status = status;
    run.finishedAt = at;
    run.wait = null;
    if (error) run.error = error;
    closeAll(run, at, status === 'completed' ? 'ok' : status);
  }

  /** Folds one feed event in; returns the run it touched, or null for events of no run. */
  function apply(event) {
    const { type, runId, key, at } = event;
    const data = event.data ?? {};
    if (!runId) return null;
    const run = ensure(runId, key);
    if (event.seq > run.lastSeq) run.lastSeq = event.seq;
    run.fromEvents = true;
    run.touchedAt = at;
    switch (type) {
      case 'run:queued':
        run.flow = data.flow ?? run.flow;
        run.priority = data.priority ?? run.priority;
        run.createdAt ??= at;
        run.status = 'queued';
        if (!lastOpen(run, 'queued')) openSpan(run, 'queued', at, { label: `queued (${run.priority})` });
        break;
      case 'run:started':
        run.flow = data.flow ?? run.flow;
        run.status = 'running';
        run.wait = null;
        run.startedAt ??= at;
        run.createdAt ??= at;
        if (data.attempt > run.attempts && run.attempts > 0 && !explainedClaim(run))
          openSpan(run, 'retry', at, { end: at, state: 'ok', label: `attempt ${data.attempt}: claimed again after its owner stopped` });
        run.attempts = Math.max(run.attempts, data.attempt ?? 0);
        run.epoch = data.epoch ?? run.epoch;
        closeAll(run, at, 'ok', ['queued', 'wait', 'run']);
        run.lastBoundary = at;
        break;
      case 'run:resumed':
        close(lastOpen(run, 'parked'), at, 'ok');
        run.lastBoundary = at;
        break;
      case 'step:committed':
        commitStep(run, data, at);
        break;
      case 'step:retrying':
        openSpan(run, 'step', boundary(run, at), {
          end: at,
          state: 'failed',
          seq: data.seq,
          label: `${data.name} (attempt ${data.attempt} failed)`,
          detail: data.error?.message,
        });
        openSpan(run, 'wait', at, { label: `retry backoff`, waitKind: 'retry', wakeAt: at + (data.delayMs ?? 0) });
        run.lastBoundary = at;
        break;
      case 'step:abandoned':
        closeAll(run, at, 'failed', ['turn']);
        openSpan(run, 'step', boundary(run, at), {
          end: at,
          state: 'failed',
          seq: data.seq,
          label: `${data.name} (abandoned: ${data.reason})`,
        });
        break;
      case 'turn:started':
        closeAll(run, at, 'ok', ['queued', 'wait']);
        openSpan(run, 'turn', at, {
          seq: data.seq,
          provider: data.provider,
          label: data.interrupted ? `${data.provider} (resumed)` : data.provider,
          resumed: Boolean(data.interrupted),
          output: '',
          outputCut: false,
          lines: 0,
        });
        break;
      case 'turn:output':
        appendOutput(run, data);
        break;
      case 'turn:completed':
        close(
          lastOpen(run, 'turn', (s) => s.seq === data.seq),
          at,
          'ok',
        );
        run.lastBoundary = at;
        break;
      case 'turn:preempted': {
        const turn = lastOpen(run, 'turn', (s) => s.seq === data.seq);
        if (turn) turn.detail = data.reason;
        close(turn, at, 'preempted');
        break;
      }
      case 'turn:late-result': {
        const turn = run.spans.findLast((s) => s.kind === 'turn' && s.seq === data.seq);
        if (turn) turn.late = true;
        break;
      }
      case 'run:interrupted': {
        openSpan(run, 'preempted', at, { by: data.by, preemptKind: data.kind, label: `${data.kind} by ${shortLabel(data.by)}` });
        const urgent = data.by && data.by !== 'operator' ? runs.get(data.by) : null;
        if (urgent && !urgent.preempted.includes(run.id)) urgent.preempted.push(run.id);
        break;
      }
      case 'run:parked': {
        close(lastOpen(run, 'preempted'), at, 'ok');
        closeAll(run, at, 'preempted', ['turn']);
        run.status = 'waiting';
        run.wait = { kind: 'preempted', wakeAt: null };
        openSpan(run, 'parked', at, { by: data.by, label: `parked by ${shortLabel(data.by)}` });
        break;
      }
      case 'run:waiting': {
        run.status = 'waiting';
        run.wait = { kind: data.kind, wakeAt: data.wakeAt ?? null };
        if (data.kind === 'preempted') break;
        const waiting = lastOpen(run, 'wait');
        if (waiting) Object.assign(waiting, { waitKind: data.kind, wakeAt: data.wakeAt ?? null, label: waitLabel(data.kind) });
        else openSpan(run, 'wait', at, { waitKind: data.kind, wakeAt: data.wakeAt ?? null, label: waitLabel(data.kind) });
        break;
      }
      case 'run:requeued':
        closeAll(run, at, 'preempted', ['turn', 'preempted']);
        run.status = 'queued';
        openSpan(run, 'queued', at, { label: `requeued: ${data.reason ?? ''}`, cause: 'requeued' });
        break;
      case 'run:spawned': {
        run.flow = data.flow ?? run.flow;
        run.parentId = data.parentId ?? null;
        run.createdAt ??= at;
        const parent = data.parentId ? runs.get(data.parentId) : null;
        if (parent && !parent.children.includes(run.id)) parent.children.push(run.id);
        break;
      }
      case 'effect:claimed':
        openSpan(run, 'effect', at, { label: data.name, effectKey: data.effectKey, attempt: data.attempt });
        break;
      case 'effect:delivered':
        close(
          lastOpen(run, 'effect', (s) => s.effectKey === data.effectKey),
          at,
          'ok',
        );
        run.lastBoundary = at;
        break;
      case 'effect:failed': {
        const effect = lastOpen(run, 'effect', (s) => s.effectKey === data.effectKey);
        if (effect) effect.detail = data.error?.message;
        close(effect, at, 'failed');
        break;
      }
      case 'run:completed':
        end(run, 'completed', at);
        break;
      case 'run:failed':
        end(run, 'failed', at, data.error);
        break;
      case 'run:cancelled':
        end(run, 'cancelled', at, data.error);
        break;
      case 'run:reopened':
        run.status = 'queued';
        run.finishedAt = null;
        run.error = null;
        run.cancelRequested = null;
        openSpan(run, 'retry', at, { end: at, state: 'ok', label: `retried by an operator (was ${data.from})` });
        openSpan(run, 'queued', at, { label: 'queued (retry)', cause: 'retry' });
        break;
      default:
        break;
    }
    return run;
  }

  function commitStep(run, data, at) {
    const turn = run.spans.findLast((s) => s.kind === 'turn' && s.seq === data.seq);
    if (turn || String(data.name).startsWith('turn:')) {
      if (turn) {
        close(turn, at, 'ok');
        turn.committed = true;
      }
    } else if (String(data.name).startsWith('effect:')) {
      const name = data.name.slice('effect:'.length);
      const effect = run.spans.findLast((s) => s.kind === 'effect' && s.label === name);
      if (effect) {
        close(effect, at, 'ok');
        effect.committed = true;
      } else openSpan(run, 'effect', boundary(run, at), { end: at, state: 'ok', label: name, committed: true, seq: data.seq });
    } else {
      openSpan(run, 'step', boundary(run, at), { end: at, state: 'ok', seq: data.seq, label: data.name });
    }
    run.lastBoundary = at;
  }

  function appendOutput(run, data) {
    const turn = run.spans.findLast((s) => s.kind === 'turn' && s.seq === data.seq);
    if (!turn) return;
    const chunk = data.chunk ?? {};
    let text = typeof chunk.data === 'string' ? chunk.data : `${JSON.stringify(chunk.data)}\n`;
    if (chunk.truncated) text += `… [${chunk.length} characters, cut]\n`;
    turn.lines += (text.match(/\n/g) ?? []).length;
    turn.output += text;
    if (turn.output.length > OUTPUT_KEEP_CHARS) {
      turn.output = turn.output.slice(-OUTPUT_KEEP_CHARS);
      turn.outputCut = true;
    }
  }

  /**
   * Takes what a run record says. Its status wins unless the page has applied an event of the run
   * newer than `cursorAtFetch` (the feed cursor when the request left): then the events are newer.
   */
  function applyRecord(record, cursorAtFetch) {
    const run = ensure(record.id, record.key);
    run.flow = record.flow;
    run.priority = record.priority;
    run.seq = record.seq;
    run.createdAt = record.createdAt;
    run.startedAt = run.startedAt ?? record.startedAt;
    run.attempts = Math.max(run.attempts, record.attempts);
    run.parentId = record.parentId ?? run.parentId;
    run.preempt = record.preempt;
    if (run.lastSeq <= cursorAtFetch) {
      run.status = record.status;
      run.cancelRequested = record.cancelRequested ?? null;
      run.wait = record.wait ? { kind: record.wait.kind, wakeAt: record.wait.wakeAt } : null;
      run.finishedAt = record.finishedAt;
      run.epoch = record.epoch ?? run.epoch;
      if (record.error) run.error = record.error;
    }
    if (run.parentId) {
      const parent = runs.get(run.parentId);
      if (parent && !parent.children.includes(run.id)) parent.children.push(run.id);
    }
    if (!run.fromEvents && run.spans.length === 0) sketchFromRecord(run);
    if (!run.touchedAt) run.touchedAt = record.finishedAt ?? record.startedAt ?? record.createdAt;
    return run;
  }

  /** A coarse timeline from a record alone: queued until it started, then one span until it ended. */
  function sketchFromRecord(run) {
    const started = run.startedAt;
    openSpan(run, 'queued', run.createdAt, {});
    if (started === null || started === undefined) return;
    close(run.spans[0], started, 'ok');
    const span = openSpan(run, 'run', started, { label: 'ran (its events are older than this page)' });
    if (TERMINAL.has(run.status)) close(span, run.finishedAt ?? started, run.status === 'completed' ? 'ok' : run.status);
  }

  /** Drops the oldest ended runs past `maxRuns`; returns the keys that lost runs. */
  function evict() {
    const dropped = new Set();
    if (runs.size <= maxRuns) return dropped;
    const ended = [...runs.values()].filter((r) => TERMINAL.has(r.status)).sort((a, b) => a.touchedAt - b.touchedAt);
    for (const run of ended.slice(0, runs.size - Math.floor(maxRuns * 0.9))) {
      runs.delete(run.id);
      dropped.add(run.key);
    }
    return dropped;
  }

  return {
    runs,
    apply,
    applyRecord,
    evict,
    get: (id) => runs.get(id),
    clear: () => runs.clear(),
  };
}

function waitLabel(kind) {
  if (kind === 'child') return 'waiting for a child run';
  if (kind === 'timer') return 'sleeping';
  if (kind === 'retry') return 'retry backoff';
  if (kind === 'effect') return 'effect backoff';
  return `waiting (${kind})`;
}

function shortLabel(by) {
  if (!by) return 'unknown';
  return by === 'operator' ? 'an operator' : by.slice(0, 8);
}
