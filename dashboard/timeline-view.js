// The Runs section: one block per key, one row per run, each row a small Gantt of the run's spans
// on the key's shared time axis (so a preemption reads left to right: the turn, the urgent run,
// the parked span, the resumed turn). Rows are kept per run and updated in place.

import { formatClock, formatDuration, h, replaceChildren, setData, shortId } from './element.js';
import { isLive, TERMINAL } from './run-model.js';
import { createRunDetail } from './run-detail-view.js';

const ENDED_PER_KEY = 6;
const MAX_KEYS = 40;
const MIN_WINDOW_MS = 1000;
/** The longest stretch a key's axis shows; older spans are cut at its left edge. */
const MAX_WINDOW_MS = 15 * 60_000;

/**
 * `onAction(kind, run)` is called when an operator presses cancel or retry on a row; `fetchRun(id)`
 * reads a run's journal for its expanded detail.
 */
export function createTimelineView({ container, model, onAction, fetchRun }) {
  const groups = new Map(); // key -> { el, rows, title, axis }
  const rows = new Map(); // run id -> row parts
  const dirtyKeys = new Set();
  const expanded = new Set();
  let filter = '';
  const note = h('p', { class: 'muted', dataset: { testid: 'runs-note' } });
  const list = h('div', { class: 'key-timelines' });
  replaceChildren(container, list, note);

  function markDirty(run) {
    if (run?.key) dirtyKeys.add(run.key);
  }

  function markLive() {
    for (const [key, group] of groups) if (group.live) dirtyKeys.add(key);
  }

  function setFilter(text) {
    filter = text.trim().toLowerCase();
    for (const key of groups.keys()) dirtyKeys.add(key);
    dirtyKeys.add('*');
  }

  const matches = (run) =>
    filter === '' || [run.key, run.id, run.flow].some((v) => typeof v === 'string' && v.toLowerCase().includes(filter));

  /** The runs a key shows: every live one, the latest ended ones, children right under their parents. */
  function runsOf(key, all) {
    const mine = all.filter((r) => r.key === key && matches(r));
    const live = mine.filter(isLive);
    const ended = mine.filter((r) => !isLive(r)).sort((a, b) => (b.touchedAt ?? 0) - (a.touchedAt ?? 0));
    const shown = new Set([...live, ...ended.slice(0, ENDED_PER_KEY)]);
    const byStart = [...shown].sort((a, b) => (a.createdAt ?? a.touchedAt) - (b.createdAt ?? b.touchedAt) || (a.seq ?? 0) - (b.seq ?? 0));
    const out = [];
    const placed = new Set();
    const place = (run, depth) => {
      if (placed.has(run.id)) return;
      placed.add(run.id);
      out.push({ run, depth });
      for (const childId of run.children) {
        const child = model.get(childId);
        if (child && shown.has(child)) place(child, depth + 1);
      }
    };
    for (const run of byStart) {
      const parent = run.parentId ? model.get(run.parentId) : null;
      if (!parent || !shown.has(parent)) place(run, 0);
    }
    return out;
  }

  function render(now) {
    if (dirtyKeys.size === 0) return;
    const all = [...model.runs.values()];
    const byKey = new Map();
    for (const run of all) {
      if (!run.key) continue;
      const latest = byKey.get(run.key) ?? 0;
      const weight = isLive(run) ? Infinity : (run.touchedAt ?? 0);
      byKey.set(run.key, Math.max(latest, weight));
    }
    const chosen = [...byKey.entries()]
      .filter(([key]) => filter === '' || all.some((r) => r.key === key && matches(r)))
      .sort((a, b) => b[1] - a[1])
      .slice(0, MAX_KEYS)
      .map(([key]) => key)
      .sort();
    const wanted = new Set(chosen);
    for (const [key, group] of groups) {
      if (!wanted.has(key)) {
        group.el.remove();
        for (const id of group.rows) rows.delete(id);
        groups.delete(key);
      }
    }
    chosen.forEach((key, index) => {
      let group = groups.get(key);
      if (!group) {
        group = createGroup(key);
        groups.set(key, group);
        dirtyKeys.add(key);
      }
      if (list.children[index] !== group.el) list.insertBefore(group.el, list.children[index] ?? null);
      if (dirtyKeys.has(key)) renderGroup(group, runsOf(key, all), now);
    });
    note.textContent =
      byKey.size > chosen.length
        ? `${byKey.size - chosen.length} quieter keys are not shown; type in the filter to find one.`
        : byKey.size === 0
          ? 'No runs yet. They appear here as commands arrive.'
          : '';
    dirtyKeys.clear();
  }

  function createGroup(key) {
    const title = h('h3', { class: 'key-title' }, key);
    const axis = h('span', { class: 'axis muted' });
    const body = h('div', { class: 'run-rows', role: 'list', 'aria-label': `runs of ${key}` });
    const el = h(
      'article',
      { class: 'key-timeline', dataset: { testid: 'key-timeline', key }, 'aria-label': `timeline of ${key}` },
      h('header', { class: 'key-timeline-head' }, title, axis),
      body,
    );
    return { key, el, body, axis, rows: new Set(), live: false };
  }

  function renderGroup(group, shown, now) {
    let t0 = Infinity;
    let t1 = -Infinity;
    for (const { run } of shown)
      for (const span of run.spans) {
        t0 = Math.min(t0, span.start);
        t1 = Math.max(t1, span.end ?? now);
      }
    if (!Number.isFinite(t0)) {
      t0 = now - MIN_WINDOW_MS;
      t1 = now;
    }
    if (t1 - t0 < MIN_WINDOW_MS) t1 = t0 + MIN_WINDOW_MS;
    t0 = Math.max(t0, t1 - MAX_WINDOW_MS);
    group.live = shown.some(({ run }) => isLive(run));
    group.axis.textContent = `from ${formatClock(t0)} · ${formatDuration(t1 - t0)} shown`;
    const keep = new Set(shown.map(({ run }) => run.id));
    for (const id of group.rows) {
      if (!keep.has(id)) {
        rows.get(id)?.el.remove();
        rows.delete(id);
        group.rows.delete(id);
      }
    }
    shown.forEach(({ run, depth }, index) => {
      let row = rows.get(run.id);
      if (!row) {
        row = createRow(run);
        rows.set(run.id, row);
        group.rows.add(run.id);
      }
      if (group.body.children[index] !== row.el) group.body.insertBefore(row.el, group.body.children[index] ?? null);
      updateRow(row, run, depth, { t0, t1, now });
    });
  }

  function createRow(run) {
    const toggle = h('button', {
      class: 'run-toggle',
      type: 'button',
      dataset: { testid: 'run-expand' },
      'aria-expanded': 'false',
      'aria-label': `details of run ${run.id}`,
    });
    const flow = h('span', { class: 'run-flow' });
    const priority = h('span', { class: 'badge priority' });
    const status = h('span', { class: 'badge status', dataset: { testid: 'run-status' } });
    const notes = h('span', { class: 'run-notes muted' });
    const cancel = h('button', { type: 'button', class: 'action danger', dataset: { testid: 'cancel-button' } }, 'Cancel');
    const retry = h('button', { type: 'button', class: 'action', dataset: { testid: 'retry-button' } }, 'Retry');
    const track = h('div', { class: 'track', role: 'img', dataset: { testid: 'run-timeline' } });
    const detail = createRunDetail({ fetchRun, model });
    const el = h(
      'div',
      { class: 'run-row', role: 'listitem', dataset: { testid: 'run-row', runId: run.id } },
      h('div', { class: 'run-label' }, toggle, flow, priority, status, notes),
      track,
      h('div', { class: 'run-actions' }, cancel, retry),
      detail.el,
    );
    const row = { el, toggle, flow, priority, status, notes, cancel, retry, track, detail, label: '' };
    toggle.addEventListener('click', () => {
      if (expanded.has(run.id)) expanded.delete(run.id);
      else expanded.add(run.id);
      markDirty(model.get(run.id));
      updateRow(row, model.get(run.id) ?? run, Number(el.dataset.depth ?? 0), row.lastAxis);
    });
    cancel.addEventListener('click', () => onAction('cancel', model.get(run.id) ?? run));
    retry.addEventListener('click', () => onAction('retry', model.get(run.id) ?? run));
    return row;
  }

  function updateRow(row, run, depth, axis) {
    row.lastAxis = axis;
    const open = expanded.has(run.id);
    setData(row.el, 'status', run.status);
    setData(row.el, 'flow', run.flow);
    setData(row.el, 'priority', run.priority);
    setData(row.el, 'depth', depth);
    setData(row.el, 'cancelRequested', run.cancelRequested);
    row.el.style.setProperty('--depth', String(depth));
    setText(row.toggle, `${open ? '▾' : '▸'} ${shortId(run.id)}`);
    row.toggle.setAttribute('aria-expanded', String(open));
    setText(row.flow, run.flow ?? '?');
    setText(row.priority, run.priority);
    setData(row.priority, 'priority', run.priority);
    setText(row.status, run.cancelRequested && isLive(run) ? `${run.status} · cancel requested` : run.status);
    setData(row.status, 'status', run.status);
    const notes = [];
    if (run.parentId) notes.push(`child of ${shortId(run.parentId)}`);
    if (run.preempted.length) notes.push(`preempted ${run.preempted.map(shortId).join(', ')}`);
    if (run.spans.some((s) => s.kind === 'retry')) notes.push(`attempt ${run.attempts}`);
    if (run.wait?.kind === 'preempted') notes.push('parked: resumes after the urgent work');
    else if (run.wait?.wakeAt) notes.push(`wakes ${formatClock(run.wait.wakeAt)}`);
    if (run.error && TERMINAL.has(run.status)) notes.push(run.error.message ?? run.error.code);
    setText(row.notes, notes.join(' · '));
    row.notes.title = notes.join('\n');
    row.cancel.hidden = !isLive(run);
    row.cancel.setAttribute('aria-label', `cancel run ${run.id}`);
    row.retry.hidden = !(run.status === 'failed' || run.status === 'cancelled');
    row.retry.setAttribute('aria-label', `retry run ${run.id}`);
    renderTrack(row.track, run, axis);
    row.detail.update(run, open, axis.now);
  }

  return { render, markDirty, markLive, setFilter, clear: () => (groups.clear(), rows.clear(), list.replaceChildren()) };
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/** A running run with nothing open is inside a step: shown from its last boundary until its commit. */
function withStepInProgress(run) {
  if (run.status !== 'running' || run.spans.some((s) => s.end === null && s.kind !== 'queued')) return run.spans;
  const start = run.lastBoundary ?? run.startedAt;
  if (start === null || start === undefined) return run.spans;
  return [...run.spans, { id: 0, kind: 'step', start, end: null, state: 'open', label: 'step in progress' }];
}

function renderTrack(track, run, { t0, t1, now }) {
  const width = t1 - t0;
  const spans = withStepInProgress(run).map((span) => {
    const end = span.end ?? now;
    const duration = Math.max(0, end - span.start);
    const title = spanTitle(span, duration);
    const el = h(
      'div',
      {
        class: `span kind-${span.kind} state-${span.state}${span.end === null ? ' open' : ''}${span.resumed ? ' resumed' : ''}`,
        title,
        'aria-label': title,
        dataset: {
          testid: 'timeline-span',
          kind: span.kind,
          state: span.state,
          seq: span.seq,
          by: span.by,
          resumed: span.kind === 'turn' ? String(Boolean(span.resumed)) : undefined,
          outputLines: span.kind === 'turn' ? span.lines : undefined,
          durationMs: Math.round(duration),
          start: Math.round(span.start),
          end: span.end === null ? undefined : Math.round(span.end),
        },
        style: { left: `${((span.start - t0) / width) * 100}%`, width: `${(duration / width) * 100}%` },
      },
      h('span', { class: 'span-label' }, span.kind === 'turn' ? `${span.label} · ${span.lines} lines` : span.label),
    );
    return el;
  });
  track.replaceChildren(...spans);
  track.setAttribute(
    'aria-label',
    `timeline of run ${run.id}: ${run.spans.map((s) => `${s.kind} ${s.label} ${s.state}`).join(', ') || 'no events yet'}`,
  );
}

function spanTitle(span, duration) {
  const parts = [
    `${span.kind}: ${span.label}`,
    `${formatClock(span.start)} · ${formatDuration(duration)}${span.end === null ? ' so far' : ''}`,
  ];
  if (span.state !== 'ok' && span.state !== 'open') parts.push(span.state);
  if (span.detail) parts.push(span.detail);
  if (span.wakeAt) parts.push(`wakes at ${formatClock(span.wakeAt)}`);
  if (span.late) parts.push('a late result arrived and was discarded');
  return parts.join('\n');
}
