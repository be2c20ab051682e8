import { createHmac, timingSafeEqual } from 'node:crypto';
import fc from 'fast-check';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomIngress, type WebhookTranslator } from '../../../src/daemon/ingress/custom-ingress.js';
import { createGithubIngress } from '../../../src/daemon/ingress/github-route.js';
import {
  BOT_LOGINS,
  CUSTOM_SECRET,
  FUZZ_LIMIT,
  IngressOracle,
  ROUTED,
  bodyBytes,
  buildRequest,
  fuzzSpecArb,
  toWebRequest,
  type FuzzSpec,
} from './fuzz-requests.js';
import { SECRET, openIngressKernel, type IngressKernel } from './ingress-harness.js';

const REQUESTS = 10_000;
const SEED = 0x5eed1;

/** The translator the oracle describes: `{ kind: 'job', target }`, naively written (it throws on odd bodies). */
const jobs: WebhookTranslator = {
  verify: ({ headers, rawBody }) => {
    const given = Buffer.from(headers['x-signature'] ?? '');
    const expected = Buffer.from(createHmac('sha256', CUSTOM_SECRET).update(rawBody).digest('hex'));
    return given.length === expected.length && timingSafeEqual(given, expected);
  },
  translate: ({ headers, body }) => {
    const job = body as { kind: unknown; target: unknown };
    if (job.kind !== 'job') return null;
    if (typeof job.target !== 'string' || !/^[a-z0-9-]{1,12}$/.test(job.target)) throw new Error('target must be a short slug');
    const delivery = headers['x-delivery'];
    if (delivery === undefined) throw new Error('x-delivery is missing');
    return { key: `job:${job.target}`, flow: 'other-event', input: { target: job.target }, idempotencyKey: `custom:${delivery}` };
  },
};

describe('webhook ingress under 10,000 malformed requests, on a real SQLite store', () => {
  let harness: IngressKernel;
  let app: Hono;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);

  beforeAll(async () => {
    harness = await openIngressKernel({ start: false });
    const routes = Object.fromEntries(ROUTED.map((type) => [type, { flow: 'github-event' }]));
    app = new Hono();
    app.route(
      '/',
      createGithubIngress({ secret: SECRET, routes, botLogins: BOT_LOGINS, bodyLimitBytes: FUZZ_LIMIT, submit: harness.submit }),
    );
    app.route('/', createCustomIngress({ custom: jobs }, { bodyLimitBytes: FUZZ_LIMIT, submit: harness.submit }));
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await harness.close();
  });

  it('answers every client fault with a 4xx (never a 5xx, never a throw) and stores exactly the valid, routed commands', async () => {
    const specs = fc.sample(fuzzSpecArb, { seed: SEED, numRuns: REQUESTS });
    const oracle = new IngressOracle();
    const sent: { spec: FuzzSpec; id: string | null }[] = [];
    const statuses = new Map<number, number>();
    const mismatches: string[] = [];
    const escaped: unknown[] = [];
    for (const [i, drawn] of specs.entries()) {
      let spec = drawn;
      let id: string | null = `delivery-${i}`;
      let header: string | null = id;
      if (spec.delivery === 'missing') id = header = null;
      else if (spec.delivery === 'too_long') {
        header = 'y'.repeat(201);
        id = spec.target === 'custom' ? header : null;
      } else if (typeof spec.delivery === 'object' && i > 0) {
        const earlier = sent[spec.delivery.redeliver % i]!;
        if (earlier.id !== null && earlier.id.startsWith('delivery-')) {
          id = header = earlier.id;
          if (spec.delivery.samePayload) spec = { ...earlier.spec, signature: 'valid', delivery: spec.delivery };
        }
      }
      sent.push({ spec, id });
      const { bytes, payloadEvent } = bodyBytes(spec.body);
      const request = buildRequest(spec, id, header, bytes, payloadEvent);
      const expected = oracle.expect(request);
      let response: Response;
      try {
        response = await app.request(toWebRequest(request));
      } catch (error) {
        escaped.push(error);
        continue;
      }
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const text = await response.text();
      const describe = () =>
        `#${i} ${JSON.stringify({ ...spec, body: spec.body.kind })}: expected ${JSON.stringify(expected)}, got ${response.status} ${text.slice(0, 300)}`;
      if (response.status !== expected.status) mismatches.push(describe());
      else if (response.status >= 400) {
        const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string')
          mismatches.push(`${describe()} (not an error body)`);
      } else if (response.status === 202 && (JSON.parse(text) as { created: boolean }).created !== expected.created) {
        mismatches.push(`${describe()} (created)`);
      }
    }

    expect(escaped).toEqual([]);
    expect(unhandled).toEqual([]);
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);

    const runs = await harness.runs();
    expect(runs).toHaveLength(oracle.runs.size);
    const stored = new Map(runs.map((run) => [run.idempotencyKey, { key: run.key, flow: run.flow, input: run.input }]));
    expect(stored).toEqual(oracle.runs);

    // The draw covers every answer the ingress gives, so the comparison above means something.
    for (const status of [200, 202, 204, 400, 401, 409, 413, 415]) expect(statuses.get(status) ?? 0, `status ${status}`).toBeGreaterThan(0);
    expect(oracle.runs.size).toBeGreaterThan(REQUESTS / 20);
    console.info(
      `ingress fuzz: ${REQUESTS} requests, ${oracle.runs.size} runs stored; answers ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`,
    );
  });
});
