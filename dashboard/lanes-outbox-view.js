// The Lane leases table (GET /v1/lanes: each live lease with its liveness verdict) and the Outbox
// table (GET /v1/outbox: effects owed, that is claimed and not recorded, and failed).

import { formatClock, formatDuration, formatRelative, h, replaceChildren, shortId } from './element.js';

export function renderLanes(body, leases) {
  if (leases.length === 0) {
    replaceChildren(body, h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No live lane leases.')));
    return;
  }
  replaceChildren(
    body,
    leases.map(({ lease, ageMs, sinceBeatMs, expired, verdict }) =>
      h(
        'tr',
        { dataset: { testid: 'lane-row', lane: lease.lane, verdict, expired: String(expired) } },
        h(
          'th',
          { scope: 'row' },
          lease.lane,
          h('div', { class: 'muted small' }, `${lease.kind} · gen ${lease.generation}`),
          lease.runId ? h('div', { class: 'muted small', title: lease.runId }, `run ${shortId(lease.runId)}`) : null,
        ),
        h(
          'td',
          {},
          h('code', { class: 'tree' }, lease.tree.map((p) => (p === '' ? '*' : p)).join(', ') || '(empty)'),
          h('div', { class: 'muted small' }, lease.mode),
        ),
        h(
          'td',
          { title: `${lease.host} pid ${lease.pid}` },
          lease.holder,
          h('div', { class: 'muted small' }, `${lease.host}:${lease.pid}`),
        ),
        h(
          'td',
          {},
          h('span', { class: `badge verdict`, dataset: { verdict } }, verdict),
          expired ? h('span', { class: 'badge warn' }, 'expired') : null,
          h('div', { class: 'muted small' }, `held ${formatDuration(ageMs)}, beat ${formatDuration(sinceBeatMs)} ago`),
        ),
      ),
    ),
  );
}

export function renderOutbox(body, effects, now) {
  if (effects.length === 0) {
    replaceChildren(body, h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'Nothing owed.')));
    return;
  }
  replaceChildren(
    body,
    effects.map((effect) =>
      h(
        'tr',
        { dataset: { testid: 'outbox-row', status: effect.status, effectKey: effect.key } },
        h('th', { scope: 'row', title: effect.key }, effect.name, h('div', { class: 'muted small' }, effect.key)),
        h(
          'td',
          {},
          h(
            'span',
            { class: `badge effect-status`, dataset: { status: effect.status } },
            effect.status === 'claimed' ? 'owed' : effect.status,
          ),
        ),
        h('td', { class: 'num' }, String(effect.attempts)),
        h(
          'td',
          {},
          effect.error ? `${effect.error.code}: ${effect.error.message}` : `claimed ${formatRelative(effect.claimedAt, now)}`,
          effect.status === 'failed'
            ? h(
                'div',
                { class: 'muted small' },
                effect.nextAttemptAt ? `retries ${formatRelative(effect.nextAttemptAt, now)}` : 'not retried',
              )
            : null,
        ),
        h('td', { title: formatClock(effect.claimedAt) }, h('code', { title: effect.runId }, shortId(effect.runId))),
      ),
    ),
  );
}
