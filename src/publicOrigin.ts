/**
 * Answers only for PUBLIC_URL's origin. oidc-provider builds endpoint URLs (discovery, JWKS,
 * token, logout) from the request's scheme and Host (or X-Forwarded-* when TRUST_PROXY), so a
 * request for any other origin gets 421 instead of a document pointing elsewhere.
 */
import type { Context, Next } from 'koa';
import { FacegateError, InputError } from './errors.ts';

/** `exempt` paths answer any host: load balancers probe /healthz by IP. */
export function publicOriginOnly(publicUrl: string, exempt: ReadonlySet<string>) {
  const publicOrigin = new URL(publicUrl).origin;
  return async (ctx: Context, next: Next) => {
    // Absolute-form targets (`GET http://other/…`) would replace Host in Koa's href: refuse them.
    if (!ctx.req.url?.startsWith('/')) throw new InputError('request.malformed', 'the request target must be a path');
    if (exempt.has(ctx.path)) return next();
    let origin: string;
    try {
      origin = new URL(`${ctx.protocol}://${ctx.host}`).origin;
    } catch {
      origin = 'an invalid origin';
    }
    if (origin !== publicOrigin) {
      throw new FacegateError(
        'request.misdirected',
        `this server answers for ${publicOrigin} (PUBLIC_URL), not ${origin}; behind a TLS proxy set TRUST_PROXY=true`,
        421,
      );
    }
    return next();
  };
}
