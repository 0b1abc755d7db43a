/**
 * A random id per request, sent back in `X-Request-Id`, written in the server-error log line and
 * shown in the 500 body: a user's report leads an operator to the one log line. It is kept beside
 * the raw request because each tenant's oidc-provider builds its own Koa context from it.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { publicRandomBytes } from './publicRandom.ts';

const ids = new WeakMap<IncomingMessage, string>();

export function assignRequestId(req: IncomingMessage): string {
  const id = publicRandomBytes(12).toString('base64url');
  ids.set(req, id);
  return id;
}

export function requestIdOf(req: IncomingMessage): string | undefined {
  return ids.get(req);
}

/**
 * One line per server error: the error's type, message and stack, the request id, method and
 * path. Never the query, body, headers or the error's other fields (a driver error may carry the
 * statement's parameters): they can hold PINs, codes, client secrets and tokens.
 */
export function logServerError(logger: Logger, ctx: { req: IncomingMessage; method: string; path: string }, err: unknown, tenant?: string) {
  const e = err instanceof Error ? { type: err.name, message: err.message, stack: err.stack } : { type: typeof err };
  logger.error({ err: e, requestId: requestIdOf(ctx.req), method: ctx.method, path: ctx.path, ...(tenant ? { tenant } : {}) }, 'server error');
}
