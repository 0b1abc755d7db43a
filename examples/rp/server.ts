/**
 * Example relying party for facegate: what an app does to offer "Login with Face". Authorization
 * code + PKCE with openid-client, acr_values to ask for a level, an RFC 9470-style step-up when
 * a page needs a higher level than the session has, RP-initiated logout, and the provider's
 * OIDC errors shown as they are. Run: ISSUER=… CLIENT_ID=… CLIENT_SECRET=… node examples/rp/server.ts
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import * as oidc from 'openid-client';

const LOA1 = 'urn:facegate:loa:1';
const LOA2 = 'urn:facegate:loa:2';
/** How recent (seconds) the face sign-in behind /protected must be. */
const STEP_UP_MAX_AGE = 300;

export type RpConfig = { issuer: string; clientId: string; clientSecret?: string; port: number; baseUrl: string };
type Pending = { state: string; nonce: string; verifier: string; acr: string; maxAge?: number; returnTo: string };
type Session = { pending?: Pending; idToken?: string; claims?: oidc.IDToken };

export function configFromEnv(env = process.env): RpConfig {
  const port = Number(env.PORT ?? 3000);
  const redirect = new URL(env.REDIRECT_URI ?? `http://localhost:${port}/callback`);
  if (!env.ISSUER || !env.CLIENT_ID) throw new Error('set ISSUER and CLIENT_ID (and CLIENT_SECRET for a confidential client)');
  return { issuer: env.ISSUER, clientId: env.CLIENT_ID, clientSecret: env.CLIENT_SECRET, port, baseUrl: redirect.origin };
}

const level = (acr: unknown) => Number(/^urn:facegate:loa:(\d+)$/.exec(String(acr))?.[1] ?? 0);
const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · Example RP</title>
<style>body{font:16px system-ui;max-width:40em;margin:2em auto}.error{color:#a00;border:1px solid #a00;padding:.5em}
a.button{display:inline-block;padding:.5em 1em;margin:.2em;border:1px solid #333;border-radius:4px;text-decoration:none}</style>
</head><body><h1>${esc(title)}</h1>${body}</body></html>`;
}

function whoami(claims: oidc.IDToken): string {
  const rows = { subject: claims.sub, acr: claims.acr, amr: [claims.amr ?? []].flat().join(' '), auth_time: new Date(Number(claims.auth_time) * 1000).toISOString() };
  return `<dl>${Object.entries(rows).map(([k, v]) => `<dt>${k}</dt><dd id="${k}">${esc(v)}</dd>`).join('')}</dl>`;
}

export async function startRp(config: RpConfig): Promise<{ url: string; close(): Promise<void> }> {
  const issuer = new URL(config.issuer);
  const client = await oidc.discovery(issuer, config.clientId, config.clientSecret, undefined, {
    execute: issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
  });
  const redirectUri = `${config.baseUrl}/callback`;
  const sessions = new Map<string, Session>();
  const app = new Koa();
  app.keys = [randomBytes(32).toString('hex')];
  const router = new Router();

  const session = (ctx: Koa.Context): Session => {
    if (ctx.state.session) return ctx.state.session;
    let sid = ctx.cookies.get('rp.sid', { signed: true });
    if (!sid || !sessions.has(sid)) {
      sid = randomBytes(16).toString('base64url');
      sessions.set(sid, {});
      ctx.cookies.set('rp.sid', sid, { signed: true, httpOnly: true, sameSite: 'lax' });
    }
    return (ctx.state.session = sessions.get(sid)!);
  };

  /** Sends the browser to the provider asking for `acr`; `maxAge` forces a fresh sign-in. */
  async function authorize(ctx: Koa.Context, acr: string, returnTo: string, maxAge?: number) {
    const pending: Pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), acr, maxAge, returnTo };
    session(ctx).pending = pending;
    const params: Record<string, string> = {
      redirect_uri: redirectUri,
      scope: 'openid profile',
      acr_values: acr,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
    };
    if (maxAge !== undefined) params.max_age = String(maxAge);
    ctx.redirect(oidc.buildAuthorizationUrl(client, params).href);
  }

  function failure(ctx: Koa.Context, status: number, error: string, description?: string) {
    ctx.status = status;
    ctx.body = page('Sign-in failed', `<p class="error" role="alert"><strong id="error">${esc(error)}</strong>${description ? `: <span id="error_description">${esc(description)}</span>` : ''}</p><p><a href="/">Back</a></p>`);
  }

  router.get('/', (ctx) => {
    const { claims } = session(ctx);
    ctx.body = claims
      ? page('Signed in', `${whoami(claims)}<a class="button" href="/protected">Protected page (needs face)</a><a class="button" href="/logout">Sign out</a>`)
      : page('Example RP', '<p>Not signed in.</p><a class="button" href="/login?face=1">Login with Face</a><a class="button" href="/login">Sign in</a>');
  });

  router.get('/login', (ctx) => authorize(ctx, ctx.query.face ? LOA2 : LOA1, '/'));

  // RFC 9470: a resource that needs more than the session's acr (or a fresher sign-in) asks
  // for a new authorization with acr_values and max_age; an API client gets the challenge.
  router.get('/protected', async (ctx) => {
    const { claims } = session(ctx);
    const fresh = claims && Date.now() / 1000 - Number(claims.auth_time) <= STEP_UP_MAX_AGE;
    if (claims && level(claims.acr) >= level(LOA2) && fresh) {
      ctx.body = page('Protected', `<p>Only shown after a face sign-in.</p>${whoami(claims)}<a class="button" href="/">Home</a>`);
    } else if (!ctx.accepts('html')) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', `Bearer error="insufficient_user_authentication", acr_values="${LOA2}", max_age=${STEP_UP_MAX_AGE}`);
    } else {
      await authorize(ctx, LOA2, '/protected', STEP_UP_MAX_AGE);
    }
  });

  router.get('/callback', async (ctx) => {
    const current = session(ctx);
    const pending = current.pending;
    delete current.pending;
    if (!pending) return failure(ctx, 400, 'no_sign_in_in_progress', 'start again from the home page');
    try {
      const tokens = await oidc.authorizationCodeGrant(client, new URL(ctx.href), {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        maxAge: pending.maxAge,
        idTokenExpected: true,
      });
      const claims = tokens.claims()!;
      // The provider must not hand back less than was asked for; never trust it silently.
      if (level(claims.acr) < level(pending.acr)) return failure(ctx, 401, 'acr_too_low', `asked for ${pending.acr}, got ${claims.acr}`);
      Object.assign(current, { idToken: tokens.id_token, claims });
      ctx.redirect(pending.returnTo);
    } catch (e) {
      if (e instanceof oidc.AuthorizationResponseError) return failure(ctx, 401, e.error, e.error_description);
      throw e;
    }
  });

  router.get('/logout', (ctx) => {
    const current = session(ctx);
    const idToken = current.idToken;
    delete current.idToken;
    delete current.claims;
    ctx.redirect(idToken ? oidc.buildEndSessionUrl(client, { id_token_hint: idToken, post_logout_redirect_uri: `${config.baseUrl}/` }).href : '/');
  });

  app.use(router.routes());
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(config.port, '127.0.0.1', () => resolve(s));
  });
  return { url: config.baseUrl, close: () => new Promise((r) => server.close(() => r())) };
}

if (import.meta.main) {
  const config = configFromEnv();
  await startRp(config);
  console.log(`example RP on ${config.baseUrl} for ${config.issuer}`);
}
