import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { answerProblem } from './admin-errors.js';

/**
 * Requires `Authorization: Bearer <token>` on every request it guards, compared in constant time
 * (both sides hashed first, so neither the token nor its length leaks through timing). Anything
 * else is answered 401 with `{error:{code:'unauthorized'}}` and a `WWW-Authenticate` header.
 */
export function requireBearerToken(token: string): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (match === null || !timingSafeEqual(digest(match[1]!), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="holdfast"');
      const message =
        match === null
          ? 'this admin API needs Authorization: Bearer <token> (the admin token holdfast serve was started with)'
          : 'the bearer token is not the admin token of this holdfast serve';
      return answerProblem(c, 401, 'unauthorized', message);
    }
    await next();
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
