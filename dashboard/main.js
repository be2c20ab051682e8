// The dashboard page: reads the admin API, follows the run-event feed live, and renders keys,
// mailboxes, run timelines, parked and waiting runs, lane leases and the outbox.
//
// `window.holdfastDashboard` exposes the feed cursor and the connection state; with `?measure`
// in the address it also records, per live event, when it was committed (`at`), when it arrived
// (`receivedAt`) and when the page had rendered it (`shownAt`), all in wall-clock milliseconds.

import { createAdminApi } from './admin-api.js';
import { shortId } from './element.js';
import { createEventFeed, now } from './event-feed.js';
import { createKeysView, mailboxes } from './keys-view.js';
import { renderLanes, renderOutbox } from './lanes-outbox-view.js';
import { askToken, confirmAction } from './operator-dialogs.js';
import { createRunModel, isLive } from './run-model.js';
import { createTimelineView } from './timeline-view.js';

const params = new URLSearchParams(location.search);
const measuring = params.has('measure');
const MAX_TIMINGS = 200_000;
const STATUS_EVENTS = new Set([
  'run:queued',
  'run:started',
  'run:completed',
  'run:failed',
  'run:cancelled',
  'run:requeued',
  'run:parked',
  'run:resumed',
  'run:waiting',
  'run:reopened',
  'owner:acquired',
  'owner:released',
  'owner:lost',
]);
const CONNECTION_TEXT = {
  connecting: 'connecting…',
  live: 'live',
  offline: 'reconnecting…',
  degraded: 'live, with errors',
  unauthorized: 'needs the admin token',
};

const $ = (id) => document.getElementById(id);
const state = { status: null, mailbox: new Map(), serverOffset: 0, connection: 'connecting' };
const timings = [];
let pendingTimings = [];
const serverNow = () => now() + state.serverOffset;

const api = createAdminApi({
  askToken: (rejected) => {
    setConnection('unauthorized');
    return askToken(rejected);
  },
});
const model = createRunModel();
const timeline = createTimelineView({
  container: $('runs'),
  model,
  onAction: act,
  fetchRun: (id) => api.get(`/v1/runs/${encodeURIComponent(id)}`),
});
const keys = createKeysView({ keysBody: $('keys-body'), waitingBody: $('waiting-body'), onAction: act, onSelectRun: selectRun });
const feed = createEventFeed({
  api,
  backfill: Number(params.get('backfill') ?? 5000),
  onEvents,
  onState: setConnection,
  onReconnected: refreshEverything,
  onReset: () => {
    model.clear();
    timeline.clear();
  },
});

window.holdfastDashboard = {
  measuring,
  timings,
  get cursor() {
    return feed.cursor;
  },
  get connection() {
    return state.connection;
  },
  get runs() {
    return model.runs.size;
  },
};

/**
 * Calls `fn` at most once per `gapMs`, and never sooner than ten times as long as its last call
 * took after it (at most 5 s: a daemon under load is asked less often); never two at a time; a
 * request during a call runs once after it.
 */
function throttled(fn, gapMs) {
  let timer = null;
  let running = false;
  let again = false;
  let last = -Infinity;
  let tookMs = 0;
  async function go() {
    timer = null;
    running = true;
    last = performance.now();
    try {
      await fn();
    } catch (error) {
      if (error?.name !== 'AbortError') console.warn('holdfast dashboard:', error);
    } finally {
      tookMs = performance.now() - last;
      running = false;
      if (again) {
        again = false;
        request();
      }
    }
  }
  function request() {
    if (running) again = true;
    else timer ??= setTimeout(go, Math.max(0, last + Math.max(gapMs, Math.min(5000, 10 * tookMs)) - performance.now()));
  }
  return request;
}

function onEvents(events, { backfill, receivedAt }) {
  let status = false;
  let outbox = false;
  for (const event of events) {
    timeline.markDirty(model.apply(event));
    if (STATUS_EVENTS.has(event.type)) status = true;
    if (event.type.startsWith('effect:')) outbox = true;
    if (measuring && !backfill) pendingTimings.push({ seq: event.seq, type: event.type, at: event.at, receivedAt });
  }
  if (pendingTimings.length > MAX_TIMINGS) pendingTimings = pendingTimings.slice(-MAX_TIMINGS);
  if (status && !backfill) requestStatus();
  if (outbox && !backfill) requestOutbox();
  scheduleRender();
}

let renderQueued = false;
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(render);
}

function render() {
  renderQueued = false;
  for (const key of model.evict()) timeline.markDirty({ key });
  timeline.render(serverNow());
  if (pendingTimings.length > 0) {
    const shownAt = now();
    for (const timing of pendingTimings) timings.push({ ...timing, shownAt });
    pendingTimings = [];
    if (timings.length > MAX_TIMINGS) timings.splice(0, timings.length - MAX_TIMINGS);
  }
}

async function refreshStatus() {
  const cursor = feed.cursor;
  const sent = now();
  const [status, queued, live] = await Promise.all([
    api.get('/v1/status'),
    api.get('/v1/runs?status=queued&limit=1000'),
    api.get('/v1/runs?status=running,waiting&limit=1000'),
  ]);
  state.serverOffset = status.at - (sent + now()) / 2;
  state.status = status;
  state.mailbox = mailboxes(queued.runs);
  const listed = new Set();
  for (const record of [...queued.runs, ...live.runs]) {
    listed.add(record.id);
    timeline.markDirty(model.applyRecord(record, cursor));
  }
  if (queued.runs.length < 1000 && live.runs.length < 1000) await settleMissedEnds(listed, cursor);
  renderStatus();
  scheduleRender();
}

/** Runs the page thinks live that the store no longer lists as live (their last events were lost): read them. */
async function settleMissedEnds(listed, cursor) {
  const missed = [...model.runs.values()].filter((r) => isLive(r) && !listed.has(r.id) && r.lastSeq <= cursor).slice(0, 20);
  await Promise.all(
    missed.map(async (run) => {
      try {
        timeline.markDirty(model.applyRecord(await api.get(`/v1/runs/${encodeURIComponent(run.id)}`), cursor));
      } catch (error) {
        if (error.status === 404) {
          model.runs.delete(run.id);
          timeline.markDirty(run);
        }
      }
    }),
  );
}

function renderStatus() {
  const status = state.status;
  if (!status) return;
  keys.render(status, state.mailbox, serverNow());
  const t = status.totals;
  $('totals').textContent =
    `${t.keys} keys · queued ${t.queued.urgent}/${t.queued.normal}/${t.queued.background} · running ${t.running} · parked ${t.parked} · waiting ${t.waiting}` +
    (status.truncated ? ' · (status truncated)' : '') +
    (status.workers ? ` · workers ${status.workers.map((w) => w.state).join(', ')}` : '');
  $('source').textContent = status.source;
}

async function loadRecentRuns() {
  const cursor = feed.cursor;
  const { runs } = await api.get('/v1/runs?limit=200');
  for (const record of runs) timeline.markDirty(model.applyRecord(record, cursor));
  scheduleRender();
}

async function refreshLanes() {
  renderLanes($('lanes-body'), (await api.get('/v1/lanes')).leases);
}

async function refreshOutbox() {
  renderOutbox($('outbox-body'), (await api.get('/v1/outbox?limit=200')).effects, serverNow());
}

const requestStatus = throttled(refreshStatus, 750);
const requestOutbox = throttled(refreshOutbox, 1000);
const requestLanes = throttled(refreshLanes, 2000);

async function refreshEverything() {
  await refreshStatus();
  await Promise.all([loadRecentRuns(), refreshLanes(), refreshOutbox()]);
}

function setConnection(next, detail) {
  state.connection = next;
  const el = $('connection');
  el.dataset.state = next;
  const reason = detail instanceof Error ? detail.message : detail;
  el.textContent = CONNECTION_TEXT[next] ?? next;
  el.title = reason ? String(reason) : '';
}

let noticeTimer = null;
function notify(text, kind = 'info') {
  const el = $('notice');
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (el.hidden = true), 10_000);
}

async function act(kind, run) {
  const answer = await confirmAction(kind, run);
  if (!answer) return;
  const id = encodeURIComponent(run.id);
  try {
    const outcome =
      kind === 'cancel' ? await api.post(`/v1/runs/${id}/cancel`, { mode: answer.mode }) : await api.post(`/v1/runs/${id}/retry`);
    notify(
      kind === 'cancel'
        ? `Cancel (${answer.mode}) recorded for run ${shortId(outcome.runId)}; it is ${outcome.status} until its owner applies it.`
        : `Run ${shortId(outcome.runId)} re-opened: ${outcome.status}.`,
    );
    const cursor = feed.cursor;
    timeline.markDirty(model.applyRecord(await api.get(`/v1/runs/${id}`), cursor));
    scheduleRender();
    requestStatus();
  } catch (error) {
    notify(`Could not ${kind} run ${shortId(run.id)}: ${error.message}`, 'error');
  }
}

function selectRun(id) {
  const row = document.querySelector(`[data-testid="run-row"][data-run-id="${CSS.escape(id)}"]`);
  if (!row) {
    $('filter').value = id;
    timeline.setFilter(id);
    scheduleRender();
    return;
  }
  row.scrollIntoView({ block: 'center', behavior: 'smooth' });
  row.classList.add('flash');
  setTimeout(() => row.classList.remove('flash'), 1500);
}

async function start() {
  $('filter').addEventListener('input', (event) => {
    timeline.setFilter(event.target.value);
    scheduleRender();
  });
  setInterval(() => {
    timeline.markLive();
    scheduleRender();
  }, 500);
  setInterval(renderStatus, 5000);
  setInterval(requestStatus, 10_000);
  setInterval(requestLanes, 5000);
  setInterval(requestOutbox, 10_000);
  for (let delay = 500; ; delay = Math.min(delay * 2, 5000)) {
    try {
      await feed.start();
      break;
    } catch (error) {
      setConnection('offline', error);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  await refreshEverything().catch(() => requestStatus());
}

void start();
