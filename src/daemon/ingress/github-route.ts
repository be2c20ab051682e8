import { Hono } from 'hono';
import { GITHUB_COMMAND_TYPES, translateGithubEvent, type GithubCommandType } from '../../core/github-command.js';
import { InvalidInputError } from '../../errors.js';
import { PREEMPT_KINDS, PRIORITIES, type PreemptKind, type Priority } from '../../model/index.js';
import type { CommandSink } from '../command-sink.js';
import { traceContextOf } from '../trace-header.js';
import { verifyGithubSignature } from './github-signature.js';
import {
  errorReply,
  errorText,
  isJsonContentType,
  jsonReply,
  noContentReply,
  parseJsonBody,
  submitFailureReply,
  type IngressLog,
} from './ingress-reply.js';
import { readBodyWithLimit } from './read-body.js';

/** Where commands of one type go. */
export interface GithubRoute {
  /** A flow registered with the kernel; it receives the typed command as its input. */
  readonly flow: string;
  readonly priority?: Priority;
  /** Only with `priority: 'urgent'`. */
  readonly preempt?: PreemptKind;
}

export interface GithubIngressOptions {
  /** The webhook's secret, as set in GitHub; deliveries not signed with it are refused (401). */
  readonly secret: string;
  /** Command types without a route are acknowledged (204) and dropped. */
  readonly routes: Partial<Record<GithubCommandType, GithubRoute>>;
  /** The bot's own logins: their comments and reviews never become commands. */
  readonly botLogins?: readonly string[];
  readonly bodyLimitBytes: number;
  readonly submit: CommandSink;
  readonly log?: IngressLog;
}

/** GitHub's delivery ids are GUIDs; anything printable and short is accepted as an idempotence key. */
const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/;
const EVENT_NAME = /^[\x21-\x7e]{1,100}$/;

/**
 * The GitHub webhook endpoint, `POST /webhooks/github` (I1). Checks, in order: JSON content type
 * (415), body size (413), `X-Hub-Signature-256` (401), `X-GitHub-Event` and `X-GitHub-Delivery`
 * (400), a JSON object body (400); then answers `ping` with 200, and turns the delivery into a
 * typed command submitted under the idempotence key `github:<delivery id>` (202 with
 * `{ runId, created, type, key }`). Unsupported, collapsed and unrouted deliveries get 204.
 *
 * Durability: 202 is sent only once the command is committed. If the process dies before that,
 * GitHub sees no 2xx and may redeliver; a redelivery of a delivery already committed answers 202
 * with the first run and `created: false`, and nothing is dispatched twice. Nothing is written for
 * any answer other than 202.
 *
 * Throws InvalidInputError at creation for a configuration it cannot serve (empty secret, a route
 * for an unknown command type, a bad priority).
 */
export function createGithubIngress(options: GithubIngressOptions): Hono {
  checkOptions(options);
  const { secret, routes, bodyLimitBytes, submit } = options;
  const botLogins = [...(options.botLogins ?? [])];
  const log: IngressLog = options.log ?? (() => undefined);
  const app = new Hono();
  app.post('/webhooks/github', async (c) => {
    const request = c.req.raw;
    const contentType = request.headers.get('content-type');
    if (!isJsonContentType(contentType)) {
      log('warn', 'github webhook refused: not JSON', { contentType });
      return errorReply(
        415,
        'unsupported_media_type',
        `${contentType === null ? 'a body without a content type' : `content type ${JSON.stringify(contentType.slice(0, 100))}`} is not accepted; ` +
          "set the webhook's content type to application/json in GitHub",
      );
    }
    const read = await readBodyWithLimit(request, bodyLimitBytes);
    if (!read.ok) {
      if (read.problem === 'too_large') {
        log('warn', 'github webhook refused: body too large', { limitBytes: bodyLimitBytes });
        return errorReply(
          413,
          'body_too_large',
          `the body is larger than ${bodyLimitBytes} bytes; this daemon accepts no larger deliveries`,
        );
      }
      return errorReply(400, 'unreadable_body', `the body could not be read (${read.detail}); send the delivery again`);
    }
    const raw = read.body;
    if (!verifyGithubSignature(secret, raw, request.headers.get('x-hub-signature-256') ?? undefined)) {
      log('warn', 'github webhook refused: bad signature', { delivery: request.headers.get('x-github-delivery')?.slice(0, 200) });
      return errorReply(
        401,
        'bad_signature',
        'X-Hub-Signature-256 is missing or does not match the body; sign with the webhook secret this daemon is configured with',
      );
    }
    const event = request.headers.get('x-github-event');
    const delivery = request.headers.get('x-github-delivery');
    if (event === null || !EVENT_NAME.test(event)) {
      return errorReply(
        400,
        'missing_event',
        'X-GitHub-Event is missing or malformed; send the event name GitHub sends (e.g. issue_comment)',
      );
    }
    if (delivery === null || !DELIVERY_ID.test(delivery)) {
      return errorReply(
        400,
        'missing_delivery',
        'X-GitHub-Delivery is missing or malformed; send the delivery id (at most 200 printable ASCII characters), it is the idempotence key',
      );
    }
    const parsed = parseJsonBody(raw);
    if (!parsed.ok) return errorReply(400, 'malformed_json', `${parsed.detail}; send the event payload as a JSON object`);
    if (typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
      return errorReply(400, 'not_an_object', 'the body is JSON but not an object; send the event payload as a JSON object');
    }
    if (event === 'ping') {
      log('info', 'github webhook ping', { delivery });
      return jsonReply(200, { pong: true });
    }
    const translation = translateGithubEvent(event, parsed.value, { botLogins });
    if (translation.kind !== 'command') {
      log('debug', `github webhook ${translation.kind}`, { delivery, event, reason: translation.reason });
      return noContentReply(`${translation.kind}: ${translation.reason}`);
    }
    const { key, command } = translation;
    const route = routes[command.type];
    if (!route) {
      log('debug', 'github webhook without a route', { delivery, event, type: command.type });
      return noContentReply(`no route: this daemon has no flow for ${command.type} commands`);
    }
    try {
      const accepted = await submit({
        key,
        flow: route.flow,
        input: command,
        idempotencyKey: `github:${delivery}`,
        ...(route.priority !== undefined && { priority: route.priority }),
        ...(route.preempt !== undefined && { preempt: route.preempt }),
        ...traceContextOf(request.headers),
      });
      log('info', 'github webhook accepted', {
        delivery,
        event,
        type: command.type,
        key,
        runId: accepted.runId,
        created: accepted.created,
      });
      return jsonReply(202, { runId: accepted.runId, created: accepted.created, type: command.type, key });
    } catch (error) {
      const { response, serverFault } = submitFailureReply(error, `routes.${command.type}.flow`);
      log(serverFault ? 'error' : 'warn', 'github webhook not recorded', {
        delivery,
        event,
        type: command.type,
        status: response.status,
        error: errorText(error),
      });
      return response;
    }
  });
  app.onError((error) => {
    log('error', 'github webhook failed', { error: errorText(error) });
    return errorReply(500, 'internal_error', 'the delivery could not be handled because of a fault in the daemon; see its log');
  });
  return app;
}

function checkOptions(options: GithubIngressOptions): void {
  if (!options || typeof options !== 'object')
    throw new InvalidInputError('createGithubIngress needs { secret, routes, bodyLimitBytes, submit }');
  if (typeof options.secret !== 'string' || options.secret === '') {
    throw new InvalidInputError(
      'the GitHub webhook secret is empty; set the same non-empty secret here and in the webhook settings on GitHub',
    );
  }
  if (!Number.isSafeInteger(options.bodyLimitBytes) || options.bodyLimitBytes < 1) {
    throw new InvalidInputError(`bodyLimitBytes must be a positive whole number of bytes, got ${String(options.bodyLimitBytes)}`);
  }
  if (typeof options.submit !== 'function') throw new InvalidInputError('createGithubIngress needs a submit function');
  for (const [type, route] of Object.entries(options.routes ?? {})) {
    if (!GITHUB_COMMAND_TYPES.includes(type as GithubCommandType)) {
      throw new InvalidInputError(`routes.${type} is not a GitHub command type; use one of ${GITHUB_COMMAND_TYPES.join(', ')}`);
    }
    if (route === undefined) continue;
    if (typeof route?.flow !== 'string' || route.flow === '') throw new InvalidInputError(`routes.${type}.flow must name a flow`);
    if (route.priority !== undefined && !PRIORITIES.includes(route.priority)) {
      throw new InvalidInputError(`routes.${type}.priority must be one of ${PRIORITIES.join(', ')}`);
    }
    if (route.preempt !== undefined && (!PREEMPT_KINDS.includes(route.preempt) || route.priority !== 'urgent')) {
      throw new InvalidInputError(`routes.${type}.preempt must be one of ${PREEMPT_KINDS.join(', ')}, and only with priority 'urgent'`);
    }
  }
}
