/**
 * An API that asks for step-up with RFC 9470. It accepts facegate access tokens issued for its
 * audience (RP: `resource=<audience>`): a JWT (RFC 9068) checked against the tenant's JWKS, or an
 * opaque token read at the introspection endpoint with its own credential. A route that needs a
 * higher acr or a more recent sign-in than the token shows answers 401 insufficient_user_authentication.
 *   ISSUER=https://id.example.com/t/default AUDIENCE=https://api.example.com node examples/resource-server/server.ts
 */
import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import { createRemoteJWKSet, jwtVerify } from 'jose';

/** facegate's levels, lowest first (DESIGN.md §4). */
const LEVELS = ['urn:facegate:loa:1', 'urn:facegate:loa:2', 'urn:facegate:loa:3'];

export type Options = {
  issuer: string;
  audience: string;
  /** With it, tokens are read at the introspection endpoint (opaque tokens); without, they must be JWTs. */
  introspection?: { clientId: string; clientSecret: string };
  /** How recent a sign-in `POST /transfer` needs, in seconds. */
  transferMaxAge?: number;
};
type Requirement = { acr?: string; maxAge?: number };
type Authentication = { sub: string; scope?: string; acr?: string; amr?: string[]; auth_time?: number };

export async function resourceServer(options: Options): Promise<Koa> {
  const { issuer, audience, introspection } = options;
  const metadata = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string; introspection_endpoint: string };
  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));

  async function authenticationOf(token: string): Promise<Authentication | undefined> {
    if (!introspection) {
      const verified = await jwtVerify<Authentication>(token, jwks, { issuer, audience, typ: 'at+jwt' }).catch(() => undefined);
      return verified?.payload;
    }
    const credentials = `${encodeURIComponent(introspection.clientId)}:${encodeURIComponent(introspection.clientSecret)}`;
    const res = await fetch(metadata.introspection_endpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    const body = (await res.json()) as Authentication & { active?: boolean; aud?: string };
    return res.ok && body.active === true && body.aud === audience ? body : undefined;
  }

  function challenge(ctx: Context, error: string, description: string, extra: Record<string, string> = {}) {
    const params = { error, error_description: description, ...extra };
    ctx.status = 401;
    ctx.set('WWW-Authenticate', `Bearer ${Object.entries(params).map(([k, v]) => `${k}="${v}"`).join(', ')}`);
    ctx.body = params;
  }

  /** Lets the request through only with a token for this audience whose sign-in meets `need`. */
  function requires(need: Requirement) {
    return async (ctx: Context, next: Next) => {
      const token = /^Bearer ([^\s]+)$/.exec(ctx.get('authorization'))?.[1];
      const auth = token ? await authenticationOf(token) : undefined;
      if (!auth) return challenge(ctx, 'invalid_token', 'the access token is missing, invalid or expired');
      const tooLow = need.acr !== undefined && LEVELS.indexOf(auth.acr ?? '') < LEVELS.indexOf(need.acr);
      const tooOld = need.maxAge !== undefined && (auth.auth_time === undefined || Date.now() / 1000 - auth.auth_time > need.maxAge);
      if (tooLow || tooOld) {
        return challenge(ctx, 'insufficient_user_authentication', tooLow ? 'a higher authentication level is required' : 'a more recent sign-in is required', {
          ...(need.acr ? { acr_values: need.acr } : {}),
          ...(need.maxAge !== undefined ? { max_age: String(need.maxAge) } : {}),
        });
      }
      ctx.state.auth = auth;
      return next();
    };
  }

  const router = new Router();
  const you = (ctx: Context) => ({ sub: ctx.state.auth.sub, acr: ctx.state.auth.acr, amr: ctx.state.auth.amr, auth_time: ctx.state.auth.auth_time });
  router.get('/balance', requires({}), (ctx) => void (ctx.body = { ...you(ctx), balance: 1200 }));
  router.post('/transfer', requires({ maxAge: options.transferMaxAge ?? 300 }), (ctx) => void (ctx.body = { ...you(ctx), transferred: true }));
  router.post('/limits', requires({ acr: 'urn:facegate:loa:2' }), (ctx) => void (ctx.body = { ...you(ctx), limit: 'raised' }));
  const app = new Koa();
  app.use(router.routes());
  return app;
}

if (import.meta.main) {
  const env = process.env;
  const introspection = env.CLIENT_ID && env.CLIENT_SECRET ? { clientId: env.CLIENT_ID, clientSecret: env.CLIENT_SECRET } : undefined;
  const app = await resourceServer({ issuer: env.ISSUER ?? 'http://localhost:3000/t/default', audience: env.AUDIENCE ?? 'https://api.example.com', introspection });
  app.listen(Number(env.PORT ?? 4000), () => console.log(`resource server on :${env.PORT ?? 4000}`));
}
