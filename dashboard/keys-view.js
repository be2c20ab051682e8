// The Keys table (owner, epoch, lease, mailbox depth per priority, the mailbox itself in claim
// order) and the Parked and waiting table, from GET /v1/status and the queued runs.

import { formatClock, formatRelative, h, replaceChildren, shortId } from './element.js';

const PRIORITY_RANK = { urgent: 0, normal: 1, background: 2 };
const MAILBOX_SHOWN = 6;

/** Queued runs grouped by key, each group in the order its owner claims them (priority, then arrival). */
export function mailboxes(queuedRuns) {
  const byKey = new Map();
  for (const run of queuedRuns) {
    const list = byKey.get(run.key) ?? [];
    list.push(run);
    byKey.set(run.key, list);
  }
  for (const list of byKey.values()) list.sort((a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.seq - b.seq);
  return byKey;
}

export function createKeysView({ keysBody, waitingBody, onAction, onSelectRun }) {
  function render(status, mailboxByKey, now) {
    renderKeys(status, mailboxByKey, now);
    renderWaiting(status, now);
  }

  function renderKeys(status, mailboxByKey, now) {
    if (status.keys.length === 0) {
      replaceChildren(keysBody, h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No key has live work.')));
      return;
    }
    replaceChildren(
      keysBody,
      status.keys.map((k) => {
        const owner = k.owner;
        const mailbox = mailboxByKey.get(k.key) ?? [];
        return h(
          'tr',
          { dataset: { testid: 'key-row', key: k.key, live: owner ? String(owner.live) : 'none' } },
          h('th', { scope: 'row', class: 'key-name' }, k.key),
          h(
            'td',
            { dataset: { testid: 'key-owner' }, title: owner?.ownerId ?? '' },
            owner
              ? [h('span', { class: 'owner-id' }, owner.ownerId ?? '(released)'), ' ', leaseBadge(owner, now)]
              : h('span', { class: 'muted' }, 'no owner yet'),
          ),
          h('td', { class: 'num', dataset: { testid: 'key-epoch' } }, owner ? String(owner.epoch) : '—'),
          ...['urgent', 'normal', 'background'].map((p) =>
            h('td', { class: `num depth${k.queued[p] ? ' nonzero' : ''}`, dataset: { priority: p } }, String(k.queued[p])),
          ),
          h('td', {}, k.running ? runLink(k.running, onSelectRun) : h('span', { class: 'muted' }, 'idle')),
          h('td', { class: 'num' }, `${k.parked.length} / ${k.waiting.length}`),
          h('td', {}, mailboxList(k.key, mailbox, onSelectRun)),
        );
      }),
    );
  }

  function renderWaiting(status, now) {
    const rows = status.keys.flatMap((k) => [
      ...k.parked.map((r) => ({ ...r, key: k.key, parked: true })),
      ...k.waiting.map((r) => ({ ...r, key: k.key, parked: false })),
    ]);
    if (rows.length === 0) {
      replaceChildren(waitingBody, h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'Nothing is parked or waiting.')));
      return;
    }
    rows.sort((a, b) => (a.wakeAt ?? Infinity) - (b.wakeAt ?? Infinity));
    replaceChildren(
      waitingBody,
      rows.map((r) => {
        const cancel = h(
          'button',
          { type: 'button', class: 'action danger', dataset: { testid: 'cancel-button' }, 'aria-label': `cancel run ${r.id}` },
          'Cancel',
        );
        cancel.addEventListener('click', () => onAction('cancel', { id: r.id, key: r.key, flow: r.flow, status: 'waiting' }));
        const why = r.parked ? 'parked (preempted)' : r.kind;
        return h(
          'tr',
          { dataset: { testid: 'waiting-row', runId: r.id, kind: r.parked ? 'parked' : r.kind } },
          h('td', {}, runLink(r, onSelectRun), h('div', { class: 'muted small' }, r.key)),
          h('td', {}, why, r.onRun ? h('div', { class: 'muted small' }, `on ${shortId(r.onRun)}`) : null),
          h('td', { title: r.wakeAt ? formatClock(r.wakeAt) : '' }, wakes(r, now)),
          h('td', {}, cancel),
        );
      }),
    );
  }

  return { render };
}

function wakes(run, now) {
  if (run.parked) return 'after urgent work';
  if (run.wakeAt === null) return run.kind === 'child' ? 'when its child ends' : '—';
  return formatRelative(run.wakeAt, now);
}

function leaseBadge(owner, now) {
  const text = owner.live ? `live, ${formatRelative(owner.expiresAt, now).replace('in ', 'renews within ')}` : 'expired';
  return h('span', { class: `badge lease ${owner.live ? 'ok' : 'warn'}`, title: `lease expires ${formatClock(owner.expiresAt)}` }, text);
}

function runLink(run, onSelectRun) {
  const link = h('button', { type: 'button', class: 'link', title: run.id, 'aria-label': `show run ${run.id}` }, shortId(run.id));
  link.addEventListener('click', () => onSelectRun(run.id));
  return h('span', {}, link, ` ${run.flow}`);
}

function mailboxList(key, runs, onSelectRun) {
  if (runs.length === 0) return h('span', { class: 'muted' }, 'empty');
  return h(
    'ol',
    { class: 'mailbox', dataset: { testid: 'mailbox', key }, 'aria-label': `mailbox of ${key}, in claim order` },
    runs
      .slice(0, MAILBOX_SHOWN)
      .map((run) =>
        h(
          'li',
          { dataset: { testid: 'mailbox-run', runId: run.id, priority: run.priority } },
          runLink(run, onSelectRun),
          h('span', { class: `badge priority`, dataset: { priority: run.priority } }, run.priority),
          run.cancelRequested ? h('span', { class: 'badge warn' }, 'cancel requested') : null,
        ),
      ),
    runs.length > MAILBOX_SHOWN ? h('li', { class: 'muted' }, `+${runs.length - MAILBOX_SHOWN} more`) : null,
  );
}
