// The dashboard in a real Chromium against `holdfast serve` as a real process: keys and owners,
// a run's timeline growing as its agent turn streams, a preemption (preempted turn, parked span,
// urgent run, resumed turn), a cancel with confirmation, the admin token prompt, and recovery
// after a daemon restart. Screenshots go to test-artifacts/dashboard/ (light and dark).
import { existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLanes } from '../../../src/lanes/service.js';
import { probeProcessAlive } from '../../../src/platform/process-liveness.js';
import { systemClock } from '../../../src/platform/system-clock.js';
import { sqliteStore } from '../../../src/stores/sqlite/sqlite-store.js';
import { daemonDir, deliver, startDaemonProcess } from '../../support/daemon.js';
import { issueCommentCreated, reviewCommentCreated } from '../../support/github-payloads.js';
import { frontFor, type DashboardFront } from './dashboard-front.js';

const CHROMIUM = process.env.HOLDFAST_CHROMIUM ?? '/usr/bin/chromium';
const NO_CHROMIUM = !existsSync(CHROMIUM);
const SKIPPED = NO_CHROMIUM ? ` (skipped: no Chromium at ${CHROMIUM}; install chromium or set HOLDFAST_CHROMIUM)` : '';
if (NO_CHROMIUM) console.warn(`dashboard browser tests${SKIPPED}`);

const ARTIFACTS = join(import.meta.dirname, '..', '..', '..', 'test-artifacts', 'dashboard');
const KEY = 'repo:acme/web';
const WAIT = { timeout: 30_000 };

/** What the page functions below touch in the browser (this project compiles without the DOM library). */
interface InPage {
  readonly document: { querySelector(selector: string): { getAttribute(name: string): string | null; textContent: string | null } | null };
  readonly holdfastDashboard: { readonly cursor: number };
}

const row = (runId: string) => `[data-testid="run-row"][data-run-id="${runId}"]`;
const span = (runId: string, kind: string, extra = '') => `${row(runId)} [data-testid="timeline-span"][data-kind="${kind}"]${extra}`;

/** POST /v1/commands on the daemon; the run id. */
async function submit(url: string, command: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${url}/v1/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(command),
  });
  if (response.status !== 202) throw new Error(`submit: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { runId: string }).runId;
}

/** Takes a lane lease in the daemon's database from this process, as `holdfast lane acquire` would. */
async function acquireLane(db: string, lane: string, tree: string[], owner: string): Promise<void> {
  const store = sqliteStore({ path: db });
  try {
    const lanes = createLanes({ store, clock: systemClock, host: hostname(), pid: process.pid, isProcessAlive: probeProcessAlive });
    const result = await lanes.acquire({ lane, tree, owner, kind: 'review', ttlMinutes: 30 });
    expect(result.outcome).toBe('acquire');
  } finally {
    await store.close();
  }
}

async function deliverRun(url: string, event: string, payload: unknown, delivery: string): Promise<string> {
  const answer = await deliver(url, event, payload, delivery);
  expect(answer.status).toBe(202);
  return answer.body!.runId as string;
}

describe.skipIf(NO_CHROMIUM)(`dashboard in Chromium${SKIPPED}`, () => {
  let browser: Browser;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function openPage(url: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${error.name}: ${error.message}`));
    await page.goto(url);
    return page;
  }

  async function live(page: Page): Promise<void> {
    await page.waitForSelector('[data-testid="connection-status"][data-state="live"]', WAIT);
  }

  async function shoot(page: Page, name: string): Promise<void> {
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: join(ARTIFACTS, `${name}-${scheme}.png`), fullPage: true });
    }
    await page.emulateMedia({ colorScheme: 'light' });
  }

  async function numberAttr(page: Page, selector: string, name: string): Promise<number> {
    return Number(await page.locator(selector).first().getAttribute(name));
  }

  /** Waits until the attribute `name` of the first match of `selector` is a number above `than`. */
  async function attrAbove(page: Page, selector: string, name: string, than: number): Promise<void> {
    await page.waitForFunction(
      ({ selector, name, than }) =>
        Number((globalThis as unknown as InPage).document.querySelector(selector)?.getAttribute(name) ?? NaN) > than,
      { selector, name, than },
      WAIT,
    );
  }

  async function withFront<T>(daemonUrl: string, fn: (front: DashboardFront) => Promise<T>): Promise<T> {
    const front = await frontFor(daemonUrl);
    try {
      return await fn(front);
    } finally {
      await front.close();
    }
  }

  it('shows the key with its owner and epoch, and a running turn growing live on the run timeline', async () => {
    const daemon = await startDaemonProcess({ HF_AGENT_MS: '4000' });
    await withFront(daemon.url, async (front) => {
      const page = await openPage(front.url);
      await live(page);
      const runId = await deliverRun(daemon.url, 'issue_comment', issueCommentCreated('carol'), 'dash-live-1');

      const turn = span(runId, 'turn');
      await page.waitForSelector(`${turn}[data-state="open"]`, WAIT);
      const keyRow = page.locator(`[data-testid="key-row"][data-key="${KEY}"]`);
      await keyRow.waitFor(WAIT);
      await page.waitForFunction(
        (key) =>
          /\S/.test(
            (globalThis as unknown as InPage).document.querySelector(`[data-testid="key-row"][data-key="${key}"] .owner-id`)?.textContent ??
              '',
          ),
        KEY,
        WAIT,
      );
      expect(Number(await keyRow.locator('[data-testid="key-epoch"]').textContent())).toBeGreaterThanOrEqual(1);
      await page.waitForSelector(span(runId, 'step', '[data-state="ok"]'), WAIT); // the `read` step before the turn

      const lines = await numberAttr(page, turn, 'data-output-lines');
      const duration = await numberAttr(page, turn, 'data-duration-ms');
      await attrAbove(page, `${turn}[data-state="open"]`, 'data-output-lines', lines);
      await attrAbove(page, `${turn}[data-state="open"]`, 'data-duration-ms', duration);

      await page.locator(`${row(runId)} [data-testid="run-expand"]`).click();
      const output = page.locator(`${row(runId)} [data-testid="turn-output"] pre`);
      await expect.poll(async () => output.textContent(), WAIT).toContain('working');
      await page.screenshot({ path: join(ARTIFACTS, 'live-turn-light.png'), fullPage: true });

      await page.waitForSelector(`${row(runId)}[data-status="completed"]`, WAIT);
      expect(await page.locator(`${turn}`).getAttribute('data-state')).toBe('ok');
      expect(await page.locator(span(runId, 'step')).count()).toBe(2); // read, reply
      await page.context().close();
    });
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('shows a preemption: the preempted turn and parked span, the urgent run, then the resumed turn', async () => {
    const daemon = await startDaemonProcess({ HF_AGENT_MS: '6000' });
    await withFront(daemon.url, async (front) => {
      const page = await openPage(front.url);
      await live(page);
      const slow = await deliverRun(daemon.url, 'issue_comment', issueCommentCreated('carol'), 'dash-pre-1');
      await page.waitForSelector(`${span(slow, 'turn')}[data-output-lines]:not([data-output-lines="0"])`, WAIT);
      const urgent = await deliverRun(daemon.url, 'pull_request_review_comment', reviewCommentCreated('dana'), 'dash-pre-2');

      await page.waitForSelector(span(slow, 'preempted', `[data-by="${urgent}"]`), WAIT);
      await page.waitForSelector(span(slow, 'parked', `[data-by="${urgent}"]`), WAIT);
      await page.waitForSelector(`${row(urgent)}[data-priority="urgent"][data-status="completed"]`, WAIT);
      await page.waitForSelector(span(slow, 'turn', '[data-resumed="true"]'), WAIT);
      await page.waitForSelector(`${row(slow)}[data-status="completed"]`, WAIT);

      const first = page.locator(span(slow, 'turn', '[data-resumed="false"]'));
      expect(await first.getAttribute('data-state')).toBe('preempted');
      const parked = page.locator(span(slow, 'parked'));
      const parkedStart = Number(await parked.getAttribute('data-start'));
      const parkedEnd = Number(await parked.getAttribute('data-end'));
      const answered = Number(await page.locator(span(urgent, 'step')).getAttribute('data-end'));
      const resumedAt = Number(await page.locator(span(slow, 'turn', '[data-resumed="true"]')).getAttribute('data-start'));
      expect(Number(await page.locator(span(slow, 'preempted')).getAttribute('data-start'))).toBeLessThanOrEqual(parkedStart);
      expect(parkedStart).toBeLessThanOrEqual(answered);
      expect(answered).toBeLessThanOrEqual(parkedEnd);
      expect(parkedEnd).toBeLessThanOrEqual(resumedAt);
      await expect
        .poll(async () => page.locator(`${row(urgent)} .run-notes`).textContent(), WAIT)
        .toContain(`preempted ${slow.slice(0, 8)}`);

      // A second preemption held open by a slow urgent run, with a lane lease held, for the screenshots.
      await acquireLane(daemon.db, 'upload-fix', ['src/upload.ts', 'test/upload'], 'agent-7');
      await page.waitForSelector('[data-testid="lane-row"][data-lane="upload-fix"][data-verdict="advancing"]', WAIT);
      const next = await deliverRun(daemon.url, 'issue_comment', issueCommentCreated('erin'), 'dash-pre-3');
      await page.waitForSelector(`${span(next, 'turn')}[data-output-lines]:not([data-output-lines="0"])`, WAIT);
      const holder = await submit(daemon.url, { key: KEY, flow: 'stubborn', input: { ms: 6000 }, priority: 'urgent', preempt: 'steal' });
      await page.waitForSelector(span(next, 'parked', '.open'), WAIT);
      await page.waitForSelector(`${row(holder)}[data-status="running"]`, WAIT);
      await page.waitForSelector(span(holder, 'step', '.open'), WAIT); // its step, in progress while the review is parked
      await attrAbove(page, span(holder, 'step', '.open'), 'data-duration-ms', 1500);
      await page.waitForSelector(`[data-testid="waiting-row"][data-run-id="${next}"][data-kind="parked"]`, WAIT);
      await shoot(page, 'preemption');
      await page.waitForSelector(span(next, 'turn', '[data-resumed="true"]'), WAIT);
      await page.waitForSelector(`${row(next)}[data-status="completed"]`, WAIT);
      await shoot(page, 'after-preemption');
      await page.context().close();
    });
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('cancels a queued run from the page after confirmation; dismissing the dialog changes nothing', async () => {
    const daemon = await startDaemonProcess({ HF_AGENT_MS: '7000' });
    await withFront(daemon.url, async (front) => {
      const page = await openPage(front.url);
      await live(page);
      const busy = await deliverRun(daemon.url, 'issue_comment', issueCommentCreated('carol'), 'dash-cancel-1');
      await page.waitForSelector(`${span(busy, 'turn')}[data-state="open"]`, WAIT);
      const queued = await submit(daemon.url, {
        key: KEY,
        flow: 'review',
        input: { repo: 'acme/web', pr: 17, author: 'erin', body: 'one more look' },
      });
      await page.waitForSelector(`[data-testid="key-row"][data-key="${KEY}"] [data-testid="mailbox-run"][data-run-id="${queued}"]`, WAIT);
      await page.waitForSelector(`${row(queued)}[data-status="queued"]`, WAIT);

      const cancel = page.locator(`${row(queued)} [data-testid="cancel-button"]`);
      const dialog = page.locator('[data-testid="confirm-dialog"]');
      await cancel.click();
      await dialog.waitFor({ state: 'visible' });
      await page.locator('[data-testid="confirm-dismiss"]').click();
      await dialog.waitFor({ state: 'hidden' });
      expect(await page.locator(row(queued)).getAttribute('data-cancel-requested')).toBeNull();

      await cancel.click();
      await dialog.waitFor({ state: 'visible' });
      await page.locator('[data-testid="mode-abort-drop"]').check();
      await page.screenshot({ path: join(ARTIFACTS, 'cancel-confirm-light.png') });
      await page.locator('[data-testid="confirm-button"]').click();
      await page.waitForSelector(`${row(queued)}[data-cancel-requested="abort-drop"]`, WAIT);
      await page.waitForSelector(`${row(queued)}[data-status="cancelled"]`, WAIT);
      await page.waitForSelector(`${row(busy)}[data-status="completed"]`, WAIT);
      expect(await page.locator(`${row(queued)} [data-testid="retry-button"]`).isVisible()).toBe(true);
      await page.context().close();
    });
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('asks for the admin token on 401, refuses a wrong one, and keeps the right one for the tab', async () => {
    const daemon = await startDaemonProcess({ HF_TOKEN: 'dashboard-admin-token', HF_AGENT_MS: '300' });
    await withFront(daemon.url, async (front) => {
      const page = await openPage(front.url);
      const dialog = page.locator('[data-testid="token-dialog"]');
      await dialog.waitFor({ state: 'visible', ...WAIT });
      await page.locator('[data-testid="token-input"]').fill('not-the-token');
      await page.locator('[data-testid="token-submit"]').click();
      await page.waitForSelector('#token-message.error', WAIT);
      await page.locator('[data-testid="token-input"]').fill('dashboard-admin-token');
      await page.locator('[data-testid="token-submit"]').click();
      await live(page);
      await dialog.waitFor({ state: 'hidden' });

      const response = await fetch(`${daemon.url}/v1/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer dashboard-admin-token' },
        body: JSON.stringify({ key: 'repo:acme/api', flow: 'answer', input: { repo: 'acme/api', pr: 1, author: 'fay', body: 'hi' } }),
      });
      const { runId } = (await response.json()) as { runId: string };
      await page.waitForSelector(`${row(runId)}[data-status="completed"]`, WAIT);

      await page.reload();
      await live(page);
      expect(await dialog.isVisible()).toBe(false);
      await page.waitForSelector(`${row(runId)}[data-status="completed"]`, WAIT);
      await page.context().close();
    });
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('after a daemon restart the page reconnects, re-reads status and continues from its cursor', async () => {
    const where = daemonDir();
    const first = await startDaemonProcess({ HF_AGENT_MS: '300' }, where);
    const front = await frontFor(first.url, { alwaysProxy: true });
    try {
      const page = await openPage(front.url);
      await live(page);
      const before = await deliverRun(first.url, 'issue_comment', issueCommentCreated('carol'), 'dash-restart-1');
      await page.waitForSelector(`${row(before)}[data-status="completed"]`, WAIT);
      const cursor = await page.evaluate(() => (globalThis as unknown as InPage).holdfastDashboard.cursor);

      first.fixture.child.kill('SIGTERM');
      await first.fixture.exited();
      await page.waitForSelector('[data-testid="connection-status"][data-state="offline"]', WAIT);

      const second = await startDaemonProcess({ HF_AGENT_MS: '300' }, where);
      front.retarget(second.url);
      await live(page);
      const after = await deliverRun(second.url, 'issue_comment', issueCommentCreated('dana'), 'dash-restart-2');
      await page.waitForSelector(`${row(after)}[data-status="completed"]`, WAIT);
      await page.waitForSelector(span(after, 'turn', '[data-state="ok"]'), WAIT);
      await page.waitForSelector(`${row(before)}[data-status="completed"]`, WAIT);
      const resumed = await page.evaluate(() => (globalThis as unknown as InPage).holdfastDashboard.cursor);
      expect(resumed).toBeGreaterThan(cursor);
      expect(await page.locator(`${row(after)}`).count()).toBe(1);
      await page.context().close();
    } finally {
      await front.close();
    }
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
