import { Hono } from 'hono';
import { InvalidInputError } from '../../errors.js';
import type { SubmitOptions } from '../../runtime/submit-command.js';
import type { CommandSink } from '../command-sink.js';
import { traceContextOf } from '../trace-header.js';
import {
  errorReply,
  errorText,
  headerRecord,
  isJsonContentType,
  jsonReply,
  noContentReply,
  parseJsonBody,
  submitFailureReply,
  type IngressLog,
} from './ingress-reply.js';
import { readBodyWithLimit } from './read-body.js';

/** A webhook request as a translator sees it: header names are lower-case. */
export interface WebhookRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly rawBody: Buffer;
}

/**
 * User code that turns one source's webhooks into commands. `verify` (say, an HMAC check) runs
 * before anything else looks at the body; without it every request is trusted. `translate` gets
 * the body parsed when the request says `application/json` (otherwise `body` is null and the
 * translator reads `rawBody`) and returns the command to submit, or null for "nothing to do".
 * Give the command an `idempotencyKey` derived from the request (the source's delivery id) so a
 * redelivery is never run twice.
 */
export interface WebhookTranslator {
  verify?(request: WebhookRequest): boolean;
  translate(request: WebhookRequest & { readonly body: unknown }): SubmitOptions | null | Promise<SubmitOptions | null>;
}

export interface CustomIngressOptions {
  readonly bodyLimitBytes: number;
  readonly submit: CommandSink;
  readonly log?: IngressLog;
}

/** Translator names are URL path segments; `github` is the built-in route's. */
const TRANSLATOR_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * Mounts `POST /webhooks/<name>` for each translator. Answers: 413 for a body over the limit, 401
 * when `verify` says no (or throws), 400 for a JSON content type with a malformed body or when
 * `translate` throws (naming the translator), 204 when it returns null, 202 with
 * `{ runId, created, key, flow }` once its command is committed. Nothing is written for any answer
 * other than 202. Durability is the kernel's submit: a command is committed before the 202; if
 * the process dies before that the sender sees no 2xx, and a redelivery with the same
 * idempotence key is never run twice.
 *
 * Throws InvalidInputError at creation for a name that is not a lower-case path segment, the
 * reserved name `github`, or a translator without a `translate` function.
 */
export function createCustomIngress(translators: Readonly<Record<string, WebhookTranslator>>, options: CustomIngressOptions): Hono {
  if (!Number.isSafeInteger(options?.bodyLimitBytes) || options.bodyLimitBytes < 1) {
    throw new InvalidInputError(`bodyLimitBytes must be a positive whole number of bytes, got ${String(options?.bodyLimitBytes)}`);
  }
  if (typeof options.submit !== 'function') throw new InvalidInputError('createCustomIngress needs a submit function');
  const log: IngressLog = options.log ?? (() => undefined);
  const app = new Hono();
  for (const [name, translator] of Object.entries(translators)) {
    if (!TRANSLATOR_NAME.test(name) || name === 'github') {
      throw new InvalidInputError(
        `webhook translator name ${JSON.stringify(name)} is not usable; use lower-case letters, digits, - and _ (and not "github", the built-in route)`,
      );
    }
    if (typeof translator?.translate !== 'function') throw new InvalidInputError(`webhook translator "${name}" has no translate function`);
    app.post(`/webhooks/${name}`, (c) => handle(name, translator, c.req.raw, options, log));
  }
  app.onError((error) => {
    log('error', 'webhook failed', { error: errorText(error) });
    return errorReply(500, 'internal_error', 'the request could not be handled because of a fault in the daemon; see its log');
  });
  return app;
}

async function handle(
  name: string,
  translator: WebhookTranslator,
  request: Request,
  options: CustomIngressOptions,
  log: IngressLog,
): Promise<Response> {
  const read = await readBodyWithLimit(request, options.bodyLimitBytes);
  if (!read.ok) {
    if (read.problem === 'too_large') {
      return errorReply(
        413,
        'body_too_large',
        `the body is larger than ${options.bodyLimitBytes} bytes; this daemon accepts no larger requests`,
      );
    }
    return errorReply(400, 'unreadable_body', `the body could not be read (${read.detail}); send the request again`);
  }
  const webhook: WebhookRequest = { headers: headerRecord(request), rawBody: read.body };
  if (translator.verify && !verified(name, translator, webhook, log)) {
    return errorReply(
      401,
      'bad_signature',
      `webhook "${name}" refused the request's signature; sign it with the secret this daemon expects`,
    );
  }
  let body: unknown = null;
  if (isJsonContentType(request.headers.get('content-type'))) {
    const parsed = parseJsonBody(read.body);
    if (!parsed.ok) return errorReply(400, 'malformed_json', `${parsed.detail}; send a JSON body, or another content type`);
    body = parsed.value;
  }
  let command: SubmitOptions | null;
  try {
    command = await translator.translate({ ...webhook, body });
  } catch (error) {
    log('warn', 'webhook translator refused the request', { webhook: name, error: errorText(error) });
    return errorReply(
      400,
      'untranslatable',
      `webhook translator "${name}" could not make a command of this request (${errorText(error).slice(0, 300)}); check the request against what the translator expects`,
    );
  }
  if (command === null || command === undefined) return noContentReply(`webhook translator "${name}" had nothing to do`);
  if (typeof command !== 'object') {
    log('error', 'webhook translator returned no command', { webhook: name });
    return errorReply(500, 'translator_fault', `webhook translator "${name}" returned neither a command nor null; fix the translator`);
  }
  try {
    // The request's traceparent header, unless the translator chose one.
    const accepted = await options.submit({ ...traceContextOf(request.headers), ...command });
    log('info', 'webhook accepted', { webhook: name, key: command.key, runId: accepted.runId, created: accepted.created });
    return jsonReply(202, { runId: accepted.runId, created: accepted.created, key: command.key, flow: command.flow });
  } catch (error) {
    const { response, serverFault } = submitFailureReply(error, `the flow of webhook translator "${name}"`);
    log(serverFault ? 'error' : 'warn', 'webhook not recorded', { webhook: name, status: response.status, error: errorText(error) });
    return response;
  }
}

/** A verify that throws counts as a refusal: an unverifiable request is never trusted. */
function verified(name: string, translator: WebhookTranslator, request: WebhookRequest, log: IngressLog): boolean {
  try {
    return translator.verify?.(request) === true;
  } catch (error) {
    log('warn', 'webhook verify threw; refusing the request', { webhook: name, error: errorText(error) });
    return false;
  }
}
