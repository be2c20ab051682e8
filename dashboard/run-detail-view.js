// A run's expanded detail under its timeline row: its facts, each turn's streamed output
// (collapsible, updated in place as chunks arrive), its step journal, failed attempts, operator
// actions and spawn tree as the admin API reports them.

import { formatClock, formatDuration, h, replaceChildren, shortId } from './element.js';

const JOURNAL_REFRESH_MS = 2000;

export function createRunDetail({ fetchRun, model }) {
  const facts = h('dl', { class: 'facts' });
  const turns = h('div', { class: 'turns' });
  const journal = h('div', { class: 'journal' });
  const el = h('div', { class: 'run-detail', hidden: true, dataset: { testid: 'run-detail' } }, facts, turns, journal);
  const turnParts = new Map(); // span id -> { details, summary, pre }
  const openTurns = new Set();
  let fetched = { seq: -1, at: 0, pending: false, detail: null, error: null };
  let current = null;

  function update(run, open, now) {
    current = run;
    el.hidden = !open;
    if (!open) return;
    renderFacts(run, now);
    renderTurns(run);
    if (!fetched.pending && fetched.seq !== run.lastSeq && now - fetched.at > JOURNAL_REFRESH_MS) void loadJournal(run);
  }

  function renderFacts(run, now) {
    const rows = [
      ['run', run.id],
      ['key', run.key],
      ['flow', run.flow],
      ['priority', run.priority],
      ['status', run.status + (run.cancelRequested ? ` (cancel requested: ${run.cancelRequested})` : '')],
      ['attempts', run.attempts],
      ['epoch', run.epoch],
      ['created', run.createdAt && formatClock(run.createdAt)],
      ['started', run.startedAt && formatClock(run.startedAt)],
      [
        'ended',
        run.finishedAt && `${formatClock(run.finishedAt)} (took ${formatDuration(run.finishedAt - (run.startedAt ?? run.createdAt))})`,
      ],
      ['waits', run.wait && `${run.wait.kind}${run.wait.wakeAt ? `, wakes ${formatClock(run.wait.wakeAt)}` : ''}`],
      ['error', run.error && `${run.error.code}: ${run.error.message}`],
      ['parent', run.parentId],
      ['preempted', run.preempted.length ? run.preempted.join(', ') : null],
      ['age', run.createdAt && formatDuration(now - run.createdAt)],
    ].filter(([, value]) => value !== null && value !== undefined && value !== '');
    replaceChildren(
      facts,
      rows.map(([name, value]) => [h('dt', {}, name), h('dd', {}, String(value))]),
    );
  }

  function renderTurns(run) {
    const spans = run.spans.filter((s) => s.kind === 'turn');
    if (spans.length === 0) {
      if (turns.childElementCount) replaceChildren(turns);
      return;
    }
    if (!turns.firstElementChild) turns.append(h('h4', {}, 'Turns'));
    for (const span of spans) {
      let parts = turnParts.get(span.id);
      if (!parts) {
        const summary = h('summary');
        const pre = h('pre', { class: 'turn-output', tabindex: '0' });
        const details = h('details', { dataset: { testid: 'turn-output', seq: span.seq } }, summary, pre);
        if (span.end === null) openTurns.add(span.id);
        details.open = openTurns.has(span.id);
        details.addEventListener('toggle', () => (details.open ? openTurns.add(span.id) : openTurns.delete(span.id)));
        parts = { details, summary, pre, length: -1 };
        turnParts.set(span.id, parts);
        turns.append(details);
      }
      const state = span.end === null ? 'streaming' : span.state === 'ok' ? 'done' : span.state;
      const label = `turn #${span.seq} · ${span.label} · ${span.lines} lines · ${state}`;
      if (parts.summary.textContent !== label) parts.summary.textContent = label;
      parts.details.dataset.state = state;
      if (parts.length !== span.output.length || parts.cut !== span.outputCut) {
        const follow = parts.pre.scrollTop + parts.pre.clientHeight >= parts.pre.scrollHeight - 4;
        parts.pre.textContent = (span.outputCut ? '… [earlier output not kept]\n' : '') + (span.output || '(no output yet)');
        if (follow) parts.pre.scrollTop = parts.pre.scrollHeight;
        parts.length = span.output.length;
        parts.cut = span.outputCut;
      }
    }
  }

  async function loadJournal(run) {
    fetched = { ...fetched, pending: true, seq: run.lastSeq, at: performance.now() };
    try {
      fetched.detail = await fetchRun(run.id);
      fetched.error = null;
    } catch (error) {
      fetched.error = error;
    }
    fetched.pending = false;
    fetched.at = performance.now();
    renderJournal();
  }

  function renderJournal() {
    const detail = fetched.detail;
    if (fetched.error) {
      replaceChildren(journal, h('p', { class: 'muted' }, `The journal could not be read: ${fetched.error.message}`));
      return;
    }
    if (!detail) return;
    const start = detail.startedAt ?? detail.createdAt;
    replaceChildren(
      journal,
      h('h4', {}, 'Step journal'),
      detail.compacted ? h('p', { class: 'muted' }, 'Compacted: the steps were pruned by retention.') : null,
      table(
        ['#', 'step', 'committed', 'after start', 'epoch'],
        detail.steps.map((s) => [s.seq, s.name, formatClock(s.committedAt), formatDuration(s.committedAt - start), s.epoch]),
        'no steps committed',
      ),
      detail.failedAttempts.length
        ? [
            h('h4', {}, 'Failed attempts'),
            table(
              ['#', 'step', 'attempt', 'error', 'failed', 'retry at'],
              detail.failedAttempts.map((a) => [
                a.seq,
                a.name,
                a.attempt,
                `${a.error.code}: ${a.error.message}`,
                formatClock(a.failedAt),
                a.retryAt ? formatClock(a.retryAt) : 'none',
              ]),
            ),
          ]
        : null,
      detail.actions.length
        ? [
            h('h4', {}, 'Operator actions'),
            table(
              ['action', 'detail', 'at'],
              detail.actions.map((a) => [a.action, a.detail, formatClock(a.at)]),
            ),
          ]
        : null,
      detail.children.length ? [h('h4', {}, 'Spawn tree'), spawnTree(detail.children, model)] : null,
    );
    if (current) current.detailLoadedAt = fetched.at;
  }

  return { el, update };
}

function table(header, rows, empty = '') {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h(
    'table',
    { class: 'compact' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        header.map((cell) => h('th', { scope: 'col' }, cell)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((cells) =>
        h(
          'tr',
          {},
          cells.map((cell) => h('td', {}, cell === null || cell === undefined ? '—' : String(cell))),
        ),
      ),
    ),
  );
}

function spawnTree(children, model) {
  return h(
    'ul',
    { class: 'spawn-tree', dataset: { testid: 'spawn-tree' } },
    children.map((child) =>
      h(
        'li',
        { dataset: { runId: child.id } },
        h('code', {}, shortId(child.id)),
        ` ${child.flow} · ${model.get(child.id)?.status ?? child.status}`,
        child.children?.length ? spawnTree(child.children, model) : null,
      ),
    ),
  );
}
