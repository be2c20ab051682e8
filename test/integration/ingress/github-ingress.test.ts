import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { StoreUnavailableError } from '../../../src/errors.js';
import { createCustomIngress, type WebhookTranslator } from '../../../src/daemon/ingress/custom-ingress.js';
import { createGithubIngress, type GithubIngressOptions } from '../../../src/daemon/ingress/github-route.js';
import { verifyGithubSignature } from '../../../src/daemon/ingress/github-signature.js';
import {
  checkRunCompleted,
  issueAssigned,
  issueCommentCreated,
  ping,
  pullRequestClosed,
  reviewCommentCreated,
  reviewSubmitted,
  signGithub,
} from '../../support/github-payloads.js';
import { SECRET, githubDelivery, githubRequest, openIngressKernel, type IngressKernel } from './ingress-harness.js';

const LIMIT = 64 * 1024;
let harness: IngressKernel;
let app: Hono;
const logged: { level: string; message: string; fields: Record<string, unknown> }[] = [];

function ingress(overrides: Partial<GithubIngressOptions> = {}): Hono {
  return createGithubIngress({
    secret: SECRET,
    routes: {
      pr_comment: { flow: 'github-event' },
      pr_review_comment: { flow: 'github-event', priority: 'urgent', preempt: 'steal' },
      review_submitted: { flow: 'github-event' },
      check_failed: { flow: 'github-event', priority: 'background' },
      issue_assigned: { flow: 'github-event' },
    },
    botLogins: ['holdfast-bot'],
    bodyLimitBytes: LIMIT,
    submit: harness.submit,
    log: (level, message, fields) => logged.push({ level, message, fields }),
    ...overrides,
  });
}

async function errorBody(response: Response): Promise<{ code: string; message: string }> {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.message.length).toBeGreaterThan(20);
  return body.error;
}

describe('GitHub webhook ingress on a real kernel and SQLite store', () => {
  beforeEach(async () => {
    harness = await openIngressKernel({ start: true });
    app = ingress();
    logged.length = 0;
  });
  afterEach(async () => harness.close());

  it('a signed delivery is answered 202 and its run completes with the typed command as input', async () => {
    const response = await app.request(githubDelivery('issue_comment', 'd-1', issueCommentCreated()));
    expect(response.status).toBe(202);
    const body = (await response.json()) as { runId: string; created: boolean; type: string; key: string };
    expect(body).toEqual({ runId: expect.any(String), created: true, type: 'pr_comment', key: 'repo:acme/web' });
    const command = {
      type: 'pr_comment',
      repo: 'acme/web',
      pr: 17,
      commentId: 5005,
      author: 'carol',
      body: '@holdfast-bot please rebase',
      url: 'https://github.com/acme/web/pull/17#issuecomment-5005',
    };
    expect(await harness.kernel.handle(body.runId).result()).toEqual(command);
    const run = await harness.kernel.getRun(body.runId);
    expect(run).toMatchObject({ key: 'repo:acme/web', flow: 'github-event', input: command, idempotencyKey: 'github:d-1' });
    expect(logged).toContainEqual(expect.objectContaining({ level: 'info', message: 'github webhook accepted' }));
  });

  it('routes carry their priority and preemption into the command', async () => {
    const urgent = await app.request(githubDelivery('pull_request_review_comment', 'd-2', reviewCommentCreated()));
    const background = await app.request(githubDelivery('check_run', 'd-3', checkRunCompleted('timed_out')));
    const [u, b] = [(await urgent.json()) as { runId: string }, (await background.json()) as { runId: string }];
    expect(await harness.store.getRun(u.runId)).toMatchObject({ priority: 'urgent', preempt: 'steal' });
    expect(await harness.store.getRun(b.runId)).toMatchObject({ priority: 'background', input: { type: 'check_failed' } });
  });

  it('a redelivery answers 202 with the first run, created false, and runs nothing twice', async () => {
    const first = (await (await app.request(githubDelivery('issues', 'd-4', issueAssigned()))).json()) as { runId: string };
    await harness.kernel.handle(first.runId).result();
    for (let i = 0; i < 3; i++) {
      const again = await app.request(githubDelivery('issues', 'd-4', issueAssigned()));
      expect(again.status).toBe(202);
      expect(await again.json()).toEqual({ runId: first.runId, created: false, type: 'issue_assigned', key: 'repo:acme/web' });
    }
    const runs = await harness.runs();
    expect(runs.map((r) => r.id)).toEqual([first.runId]);
    expect((await harness.kernel.getRun(first.runId))?.steps).toHaveLength(1);
  });

  it('the same delivery id with another payload is a 409 and records nothing new', async () => {
    await app.request(githubDelivery('issue_comment', 'd-5', issueCommentCreated()));
    const other = await app.request(githubDelivery('issues', 'd-5', issueAssigned()));
    expect(other.status).toBe(409);
    expect((await errorBody(other)).code).toBe('idempotency_conflict');
    expect(await harness.runs()).toHaveLength(1);
  });

  it('a missing, wrong or malformed signature is a 401 and nothing is stored', async () => {
    const body = JSON.stringify(issueCommentCreated());
    const signatures = [
      null,
      '',
      'sha256=',
      signGithub('another secret', body),
      signGithub(SECRET, body).replace('sha256=', 'sha1='),
      'sha256=zz',
    ];
    for (const signature of signatures) {
      const response = await app.request(githubRequest({ body, signature }));
      expect(response.status).toBe(401);
      expect((await errorBody(response)).code).toBe('bad_signature');
    }
    const tampered = await app.request(githubRequest({ body: body.replace('rebase', 'delete'), signature: signGithub(SECRET, body) }));
    expect(tampered.status).toBe(401);
    expect(await harness.runs()).toEqual([]);
  });

  it('ping is answered 200 { pong: true }, and stores nothing', async () => {
    const response = await app.request(githubDelivery('ping', 'd-6', ping()));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ pong: true });
    expect(await harness.runs()).toEqual([]);
  });

  it('unsupported, ignored and collapsed deliveries, and commands without a route, are 204 with no run', async () => {
    const deliveries: [string, unknown, RegExp][] = [
      ['deployment', { action: 'created', repository: { full_name: 'acme/web' } }, /^ignored: .*not a supported/],
      ['issue_comment', issueCommentCreated('carol', false), /^ignored: .*plain issue/],
      ['issue_comment', issueCommentCreated('holdfast-bot'), /^ignored: .*bot account/],
      ['check_run', checkRunCompleted('success'), /^ignored: /],
      ['pull_request', pullRequestClosed(false), /^ignored: /],
      ['pull_request_review', reviewSubmitted('commented', null), /^collapsed: /],
      ['pull_request', pullRequestClosed(true), /^no route: .*pr_merged/],
    ];
    for (const [i, [event, payload, reason]] of deliveries.entries()) {
      const response = await app.request(githubDelivery(event, `ignored-${i}`, payload));
      expect(response.status).toBe(204);
      expect(await response.text()).toBe('');
      expect(response.headers.get('x-holdfast-ignored')).toMatch(reason);
    }
    expect(await harness.runs()).toEqual([]);
  });

  it('an inline review comment and its wrapping review make exactly one run', async () => {
    const comment = await app.request(githubDelivery('pull_request_review_comment', 'd-7', reviewCommentCreated()));
    const review = await app.request(githubDelivery('pull_request_review', 'd-8', reviewSubmitted('commented', '')));
    expect([comment.status, review.status]).toEqual([202, 204]);
    expect((await harness.runs()).map((r) => (r.input as { type: string }).type)).toEqual(['pr_review_comment']);
  });

  it('a body that is not JSON is a 415 before anything else is looked at', async () => {
    for (const contentType of [null, 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', 'multipart/form-data']) {
      const response = await app.request(githubRequest({ body: 'payload=%7B%7D', contentType, signature: 'sha256=bogus' }));
      expect(response.status).toBe(415);
      expect((await errorBody(response)).message).toMatch(/application\/json/);
    }
    const withCharset = await app.request(
      githubRequest({ event: 'ping', body: JSON.stringify(ping()), contentType: 'Application/JSON; charset=utf-8' }),
    );
    expect(withCharset.status).toBe(200);
  });

  it('a body over the limit is a 413, whether Content-Length says so or the stream does', async () => {
    const big = Buffer.alloc(LIMIT + 1, 0x20);
    const declared = await app.request(githubRequest({ body: big }));
    expect(declared.status).toBe(413);
    expect((await errorBody(declared)).message).toContain(String(LIMIT));
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(16 * 1024));
      },
    });
    const headers = { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': 'd-9' };
    const streamed = await app.request(
      new Request('http://holdfast.test/webhooks/github', { method: 'POST', headers, body: endless, duplex: 'half' }),
    );
    expect(streamed.status).toBe(413);
    expect(pulled).toBeLessThan(10);
    const exactly = await app.request(
      githubRequest({ event: 'ping', body: Buffer.concat([Buffer.from('{}'), Buffer.alloc(LIMIT - 2, 0x20)]) }),
    );
    expect(exactly.status).toBe(200);
    expect(await harness.runs()).toEqual([]);
  });

  it('missing event or delivery headers, malformed JSON and non-objects are 400s', async () => {
    const json = JSON.stringify(issueCommentCreated());
    const cases: [Parameters<typeof githubRequest>[0], string][] = [
      [{ body: json, event: null }, 'missing_event'],
      [{ body: json, delivery: null }, 'missing_delivery'],
      [{ body: json, delivery: 'x'.repeat(201) }, 'missing_delivery'],
      [{ body: '{"action": "created",' }, 'malformed_json'],
      [{ body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }, 'malformed_json'],
      [{ body: '' }, 'malformed_json'],
      [{ body: '[1, 2]' }, 'not_an_object'],
      [{ body: 'null' }, 'not_an_object'],
      [{ body: '"created"' }, 'not_an_object'],
    ];
    for (const [delivery, code] of cases) {
      const response = await app.request(githubRequest(delivery));
      expect(response.status, code).toBe(400);
      expect((await errorBody(response)).code).toBe(code);
    }
    expect(await harness.runs()).toEqual([]);
  });

  it('a route to a flow the kernel does not have is a 500 naming the configuration field', async () => {
    const misrouted = ingress({ routes: { pr_comment: { flow: 'no-such-flow' } } });
    const response = await misrouted.request(githubDelivery('issue_comment', 'd-10', issueCommentCreated()));
    expect(response.status).toBe(500);
    expect(await errorBody(response)).toMatchObject({
      code: 'route_to_unknown_flow',
      message: expect.stringContaining('routes.pr_comment.flow'),
    });
    expect(await harness.runs()).toEqual([]);
  });

  it('a store that is unavailable is a 503 with Retry-After, so GitHub redelivers', async () => {
    const unavailable = ingress({
      submit: async () => {
        throw new StoreUnavailableError('locked', 'sqlite:state.db', 'database is locked');
      },
    });
    const response = await unavailable.request(githubDelivery('issue_comment', 'd-11', issueCommentCreated()));
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await errorBody(response)).code).toBe('store_unavailable');
  });

  it('refuses a configuration it cannot serve', () => {
    expect(() => ingress({ secret: '' })).toThrow(/secret is empty/);
    expect(() => ingress({ routes: { pr_commented: { flow: 'github-event' } } as never })).toThrow(/routes.pr_commented/);
    expect(() => ingress({ routes: { pr_comment: { flow: 'github-event', preempt: 'steal' } } })).toThrow(/only with priority 'urgent'/);
    expect(() => ingress({ bodyLimitBytes: 0 })).toThrow(/bodyLimitBytes/);
  });
});

describe('verifyGithubSignature', () => {
  it("accepts GitHub's documented example and refuses anything else", () => {
    // From GitHub's "Validating webhook deliveries" page.
    const body = Buffer.from('Hello, World!');
    const header = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(verifyGithubSignature("It's a Secret to Everybody", body, header)).toBe(true);
    expect(verifyGithubSignature("It's a Secret to Everybody", body, header.toUpperCase().replace('SHA256', 'sha256'))).toBe(true);
    expect(verifyGithubSignature('', body, header)).toBe(false);
    expect(verifyGithubSignature("It's a Secret to Everybody", body, undefined)).toBe(false);
    expect(verifyGithubSignature("It's a Secret to Everybody", body, header.slice(0, -2))).toBe(false);
    expect(verifyGithubSignature("It's a Secret to Everybody", Buffer.from('Hello, World?'), header)).toBe(false);
  });
});

describe('custom webhook translators', () => {
  beforeEach(async () => {
    harness = await openIngressKernel({ start: true });
  });
  afterEach(async () => harness.close());

  const secret = 'linear-secret';
  const linear: WebhookTranslator = {
    verify: ({ headers, rawBody }) => headers['linear-signature'] === createHmac('sha256', secret).update(rawBody).digest('hex'),
    translate: ({ headers, body }) => {
      const event = body as { type: string; action: string; data: { id: string; team: { key: string } } };
      if (event.type !== 'Issue') return null;
      return {
        key: `team:${event.data.team.key}`,
        flow: 'other-event',
        input: { action: event.action, issue: event.data.id },
        idempotencyKey: `linear:${headers['linear-delivery']}`,
      };
    },
  };
  const send = (app: Hono, payload: unknown, options: { delivery?: string; sign?: string; path?: string } = {}) => {
    const body = JSON.stringify(payload);
    return app.request(options.path ?? '/webhooks/linear', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'linear-delivery': options.delivery ?? 'l-1',
        'linear-signature': options.sign ?? createHmac('sha256', secret).update(body).digest('hex'),
      },
      body,
    });
  };
  const issue = { type: 'Issue', action: 'create', data: { id: 'ENG-7', team: { key: 'ENG' } } };

  it('a verified, translated request is submitted once; a redelivery returns the same run', async () => {
    const app = createCustomIngress({ linear }, { bodyLimitBytes: LIMIT, submit: harness.submit });
    const first = await send(app, issue);
    expect(first.status).toBe(202);
    const body = (await first.json()) as { runId: string };
    expect(body).toEqual({ runId: expect.any(String), created: true, key: 'team:ENG', flow: 'other-event' });
    expect(await harness.kernel.handle(body.runId).result()).toEqual({ action: 'create', issue: 'ENG-7' });
    expect(await (await send(app, issue)).json()).toMatchObject({ runId: body.runId, created: false });
    expect(await harness.runs()).toHaveLength(1);
  });

  it('verify false is a 401, null is a 204, a throwing translate a 400 naming it; none stores a run', async () => {
    const app = createCustomIngress({ linear }, { bodyLimitBytes: LIMIT, submit: harness.submit });
    expect((await send(app, issue, { sign: 'nope' })).status).toBe(401);
    expect((await send(app, { type: 'Comment', action: 'create' })).status).toBe(204);
    const broken = await send(app, { type: 'Issue', action: 'create' });
    expect(broken.status).toBe(400);
    expect(await errorBody(broken)).toMatchObject({ code: 'untranslatable', message: expect.stringContaining('"linear"') });
    expect((await send(app, issue, { path: '/webhooks/unknown' })).status).toBe(404);
    expect(await harness.runs()).toEqual([]);
  });

  it('a translator whose command the kernel refuses is a 400; over the limit is a 413', async () => {
    const keyless: WebhookTranslator = { translate: () => ({ key: '', flow: 'other-event' }) };
    const app = createCustomIngress({ keyless }, { bodyLimitBytes: 16, submit: harness.submit });
    expect((await app.request('/webhooks/keyless', { method: 'POST', body: '{}' })).status).toBe(400);
    expect((await app.request('/webhooks/keyless', { method: 'POST', body: 'x'.repeat(17) })).status).toBe(413);
    expect(await harness.runs()).toEqual([]);
  });

  it('refuses names that are not path segments, and the built-in github name', () => {
    const submit = harness.submit;
    expect(() => createCustomIngress({ github: linear }, { bodyLimitBytes: LIMIT, submit })).toThrow(/built-in/);
    expect(() => createCustomIngress({ 'Linear/Issues': linear }, { bodyLimitBytes: LIMIT, submit })).toThrow(/not usable/);
  });
});
