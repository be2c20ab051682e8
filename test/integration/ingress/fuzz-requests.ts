// Malformed (and some well-formed) webhook requests for the ingress fuzz test, drawn with
// fast-check from a fixed seed, and an oracle that says what the ingress must answer to each and
// which runs the store must then hold. The oracle reads the body with the standard library and
// the pure translator (tested on its own); it does not call the route's code.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { translateGithubEvent, type GithubCommandType } from '../../../src/core/github-command.js';
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
import { SECRET } from './ingress-harness.js';

export const FUZZ_LIMIT = 32 * 1024;
export const CUSTOM_SECRET = 'custom-source-secret';
export const BOT_LOGINS = ['holdfast-bot'];
/** Routed types: pr_merged and issue_assigned deliberately have no route. */
export const ROUTED: readonly GithubCommandType[] = ['pr_review_comment', 'pr_comment', 'check_failed', 'review_submitted'];

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8', 'application/json ; q=1'];
const OTHER_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/jsonp',
  'application/json-patch+json',
  'text/json',
  '',
  '*/*',
];
const EVENTS = [
  'issue_comment',
  'pull_request_review_comment',
  'check_run',
  'pull_request',
  'issues',
  'pull_request_review',
  'push',
  'ping',
];
const PAYLOADS: [string, () => object][] = [
  ['pull_request_review_comment', () => reviewCommentCreated()],
  ['pull_request_review_comment', () => reviewCommentCreated('dependabot[bot]')],
  ['issue_comment', () => issueCommentCreated()],
  ['issue_comment', () => issueCommentCreated('carol', false)],
  ['issue_comment', () => issueCommentCreated('holdfast-bot')],
  ['check_run', () => checkRunCompleted('failure')],
  ['check_run', () => checkRunCompleted('success')],
  ['pull_request', () => pullRequestClosed(true)],
  ['pull_request', () => pullRequestClosed(false)],
  ['issues', () => issueAssigned()],
  ['pull_request_review', () => reviewSubmitted('approved', 'ship it')],
  ['pull_request_review', () => reviewSubmitted('commented', null)],
  ['ping', () => ping()],
];

const printable = (max: number) => fc.string({ unit: 'binary-ascii', maxLength: max }).map((s) => s.replace(/[\0\r\n]/g, ''));
const token = fc.stringMatching(/^[a-z_]{1,30}$/);

type Body =
  | { readonly kind: 'payload'; readonly index: number; readonly edits: readonly [string, unknown][] }
  | { readonly kind: 'custom'; readonly value: unknown }
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'huge'; readonly size: number; readonly byte: number; readonly declare: 'true' | 'lie' | 'none' };

export interface FuzzSpec {
  readonly target: 'github' | 'custom';
  readonly contentType: { readonly json: boolean; readonly value: string | null };
  readonly body: Body;
  readonly signature: 'valid' | 'missing' | 'wrong_secret' | 'sha1' | 'truncated' | { readonly garbled: string };
  readonly event: 'matching' | { readonly name: string } | { readonly bad: string | null };
  readonly delivery: 'fresh' | 'missing' | 'too_long' | { readonly redeliver: number; readonly samePayload: boolean };
}

const bodyArb: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('payload' as const),
      // Half of the picks are payloads of routed commands, so that many requests are accepted.
      index: fc.oneof(fc.nat(PAYLOADS.length - 1), fc.constantFrom(0, 2, 5, 10)),
      edits: fc.oneof(
        fc.constant([]),
        fc.array(fc.tuple(fc.constantFrom('action', 'repository', 'comment', 'issue', 'check_run', 'review', 'x'), fc.jsonValue()), {
          minLength: 1,
          maxLength: 2,
        }),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('custom' as const), value: fc.oneof(customBody(), fc.jsonValue({ maxDepth: 3 })) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('json' as const), value: fc.jsonValue({ maxDepth: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.string({ unit: 'binary', maxLength: 300 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 2000 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('huge' as const),
      size: fc.integer({ min: FUZZ_LIMIT - 8, max: 1024 * 1024 }),
      byte: fc.integer({ min: 0, max: 255 }),
      declare: fc.constantFrom('true' as const, 'lie' as const, 'none' as const),
    }),
  },
);

function customBody(): fc.Arbitrary<unknown> {
  return fc.record({
    kind: fc.constantFrom('job', 'job', 'other'),
    target: fc.oneof(fc.stringMatching(/^[a-z0-9-]{1,12}$/), fc.jsonValue()),
  });
}

/** One request's recipe; most are malformed in exactly one or two ways. */
export const fuzzSpecArb: fc.Arbitrary<FuzzSpec> = fc.record({
  target: fc.constantFrom('github' as const, 'github' as const, 'github' as const, 'github' as const, 'custom' as const),
  contentType: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...JSON_TYPES).map((value) => ({ json: true, value })) },
    { weight: 1, arbitrary: fc.constantFrom<string | null>(null, ...OTHER_TYPES).map((value) => ({ json: false, value })) },
  ),
  body: bodyArb,
  signature: fc.oneof(
    { weight: 12, arbitrary: fc.constant('valid' as const) },
    { weight: 1, arbitrary: fc.constantFrom('missing' as const, 'wrong_secret' as const, 'sha1' as const, 'truncated' as const) },
    { weight: 1, arbitrary: printable(80).map((garbled) => ({ garbled })) },
  ),
  event: fc.oneof(
    { weight: 8, arbitrary: fc.constant('matching' as const) },
    { weight: 2, arbitrary: fc.oneof(fc.constantFrom(...EVENTS), token).map((name) => ({ name })) },
    { weight: 1, arbitrary: fc.constantFrom(null, 'issue comment', 'x'.repeat(101), 'issues\u00e9').map((bad) => ({ bad })) },
  ),
  delivery: fc.oneof(
    { weight: 8, arbitrary: fc.constant('fresh' as const) },
    { weight: 1, arbitrary: fc.constantFrom('missing' as const, 'too_long' as const) },
    { weight: 2, arbitrary: fc.record({ redeliver: fc.nat(), samePayload: fc.boolean() }) },
  ),
});

/** The bytes of a spec's body, and the event its payload was made for (if any). */
export function bodyBytes(body: Body): { readonly bytes: Buffer; readonly payloadEvent: string | null } {
  switch (body.kind) {
    case 'payload': {
      const [event, make] = PAYLOADS[body.index]!;
      const payload = make() as Record<string, unknown>;
      for (const [field, value] of body.edits) payload[field] = value;
      return { bytes: Buffer.from(JSON.stringify(payload)), payloadEvent: event };
    }
    case 'custom':
    case 'json':
      return { bytes: Buffer.from(JSON.stringify(body.value)), payloadEvent: null };
    case 'text':
      return { bytes: Buffer.from(body.text), payloadEvent: null };
    case 'bytes':
      return { bytes: Buffer.from(body.bytes), payloadEvent: null };
    case 'huge':
      return { bytes: Buffer.alloc(body.size, body.byte), payloadEvent: null };
  }
}

/** A concrete request: what is sent, built from a spec and the delivery id it is given. */
export interface FuzzRequest {
  readonly target: 'github' | 'custom';
  readonly headers: Headers;
  readonly bytes: Buffer;
  readonly contentTypeJson: boolean;
  readonly signed: boolean;
  /** The event header, when it is well formed. */
  readonly event: string | null;
  /** The delivery header, when it is well formed. */
  readonly delivery: string | null;
  readonly stream: boolean;
}

/**
 * `deliveryHeader` is what is sent (null: nothing); `delivery` what a correct ingress takes as the
 * delivery id (null: it must refuse the header).
 */
export function buildRequest(
  spec: FuzzSpec,
  delivery: string | null,
  deliveryHeader: string | null,
  bytes: Buffer,
  payloadEvent: string | null,
): FuzzRequest {
  const headers = new Headers();
  if (spec.contentType.value !== null) headers.set('content-type', spec.contentType.value);
  const secret = spec.target === 'github' ? SECRET : CUSTOM_SECRET;
  const valid = spec.target === 'github' ? signGithub(secret, bytes) : createHmac('sha256', secret).update(bytes).digest('hex');
  const signature =
    spec.signature === 'valid'
      ? valid
      : spec.signature === 'missing'
        ? null
        : spec.signature === 'wrong_secret'
          ? signGithub('not the secret', bytes)
          : spec.signature === 'sha1'
            ? valid.replace('sha256=', 'sha1=')
            : spec.signature === 'truncated'
              ? valid.slice(0, -1)
              : spec.signature.garbled;
  const signatureHeader = spec.target === 'github' ? 'x-hub-signature-256' : 'x-signature';
  if (signature !== null) headers.set(signatureHeader, signature);
  let event: string | null = null;
  if (spec.event === 'matching') event = payloadEvent ?? 'issues';
  else if ('name' in spec.event) event = spec.event.name;
  const badEvent = spec.event !== 'matching' && 'bad' in spec.event ? spec.event.bad : null;
  if (event !== null) headers.set('x-github-event', event);
  else if (badEvent !== null) headers.set('x-github-event', badEvent);
  if (deliveryHeader !== null) headers.set(spec.target === 'github' ? 'x-github-delivery' : 'x-delivery', deliveryHeader);
  const huge = spec.body.kind === 'huge' ? spec.body : undefined;
  if (huge?.declare === 'true') headers.set('content-length', String(bytes.length));
  if (huge?.declare === 'lie') headers.set('content-length', '64');
  return {
    target: spec.target,
    headers,
    bytes,
    contentTypeJson: spec.contentType.json,
    signed: headers.get(signatureHeader) === valid,
    event,
    delivery,
    stream: huge !== undefined && huge.declare !== 'true',
  };
}

/** The web Request for a FuzzRequest; big bodies without a truthful length arrive as a stream. */
export function toWebRequest(request: FuzzRequest): Request {
  const url = `http://holdfast.test/webhooks/${request.target}`;
  if (!request.stream) return new Request(url, { method: 'POST', headers: request.headers, body: request.bytes });
  const chunk = 16 * 1024;
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= request.bytes.length) return controller.close();
      controller.enqueue(new Uint8Array(request.bytes.subarray(at, at + chunk)));
      at += chunk;
    },
  });
  return new Request(url, { method: 'POST', headers: request.headers, body, duplex: 'half' });
}

/** A run the store must hold: the command a request was accepted with. */
export interface ExpectedRun {
  readonly key: string;
  readonly flow: string;
  readonly input: unknown;
}

/**
 * What the ingress must answer, request by request, and the runs it must have recorded: one per
 * idempotence key of a request that was validly signed, parseable and routed.
 */
export class IngressOracle {
  readonly runs = new Map<string, ExpectedRun>();

  expect(request: FuzzRequest): { readonly status: number; readonly created?: boolean } {
    if (request.target === 'github' && !request.contentTypeJson) return { status: 415 };
    if (request.bytes.length > FUZZ_LIMIT) return { status: 413 };
    if (!request.signed) return { status: 401 };
    const parsed = strictJson(request.bytes);
    return request.target === 'github' ? this.github(request, parsed) : this.custom(request, parsed);
  }

  private github(request: FuzzRequest, parsed: { ok: boolean; value?: unknown }): { status: number; created?: boolean } {
    if (request.event === null || request.delivery === null) return { status: 400 };
    const value = parsed.value;
    if (!parsed.ok || typeof value !== 'object' || value === null || Array.isArray(value)) return { status: 400 };
    if (request.event === 'ping') return { status: 200 };
    const translation = translateGithubEvent(request.event, value, { botLogins: BOT_LOGINS });
    if (translation.kind !== 'command' || !ROUTED.includes(translation.command.type)) return { status: 204 };
    return this.accept(`github:${request.delivery}`, { key: translation.key, flow: 'github-event', input: translation.command });
  }

  /** The fuzz test's translator: `{ kind: 'job', target }` becomes a command; other kinds nothing. */
  private custom(request: FuzzRequest, parsed: { ok: boolean; value?: unknown }): { status: number; created?: boolean } {
    if (request.contentTypeJson && !parsed.ok) return { status: 400 };
    const body = request.contentTypeJson ? parsed.value : null;
    if (body === null || body === undefined) return { status: 400 };
    const fields = body as { kind?: unknown; target?: unknown };
    if (typeof body !== 'object' || Array.isArray(body) || !Object.hasOwn(body, 'kind') || fields.kind !== 'job') return { status: 204 };
    if (typeof fields.target !== 'string' || !/^[a-z0-9-]{1,12}$/.test(fields.target) || request.delivery === null) return { status: 400 };
    return this.accept(`custom:${request.delivery}`, {
      key: `job:${fields.target}`,
      flow: 'other-event',
      input: { target: fields.target },
    });
  }

  private accept(idempotencyKey: string, run: ExpectedRun): { status: number; created?: boolean } {
    const existing = this.runs.get(idempotencyKey);
    if (!existing) {
      this.runs.set(idempotencyKey, run);
      return { status: 202, created: true };
    }
    const same = existing.key === run.key && existing.flow === run.flow && JSON.stringify(existing.input) === JSON.stringify(run.input);
    return same ? { status: 202, created: false } : { status: 409 };
  }
}

function strictJson(bytes: Buffer): { ok: boolean; value?: unknown } {
  try {
    return { ok: true, value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown };
  } catch {
    return { ok: false };
  }
}
