/**
 * The HTTP application: security headers, one error boundary, static assets, and per tenant
 * (`/t/<tenant>/…`) our interaction routes, the user's account area (`/account`) and the tenant
 * admin API in front of that tenant's oidc-provider.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Koa, { type Context, type Next } from 'koa';
import helmet from 'koa-helmet';
import type { Logger } from 'pino';
import { errors as oidcErrors, type Provider } from 'oidc-provider';
import type { Config } from './config.ts';
import { BusyError, FacegateError, RateLimitError } from './errors.ts';
import type { Database } from './store/db.ts';
import type { KeyValueStore } from './store/kv.ts';
import type { DataKey } from './store/dataKey.ts';
import type { FaceServices } from './faceLogin/faceServices.ts';
import type { ClientCache } from './oidc/clientCache.ts';
import { providerRegistry } from './oidc/registry.ts';
import { interactionRouter } from './interaction/routes.ts';
import { adminRouter } from './admin/routes.ts';
import { issuerFor } from './oidc/provider.ts';
import { accountRouter } from './accountArea/routes.ts';
import { createViews, sendPage, VIEWS_DIR, type Views } from './interaction/views.ts';
import { TENANT_ID_PATTERN } from './ids.ts';
import { assignRequestId, logServerError } from './requestId.ts';
import { publicOriginOnly } from './publicOrigin.ts';

/** `face`: absent when PUBLIC_URL cannot carry passkeys; then only PIN/TOTP is offered. */
export type AppDeps = { config: Config; db: Database; kv: KeyValueStore; dataKey: DataKey; logger: Logger; clients: ClientCache; face?: FaceServices };

const TENANT_PATH = new RegExp(`^/t/(${TENANT_ID_PATTERN})(/.*|$)`);
const STATIC = new Map([
  ['/static/facegate.css', { type: 'text/css', body: readFileSync(path.join(VIEWS_DIR, 'static', 'facegate.css')) }],
  // The face step's browser script: a file, so the CSP can keep script-src 'self' (no inline script).
  ['/static/faceCapture.js', { type: 'text/javascript', body: readFileSync(path.join(VIEWS_DIR, 'static', 'faceCapture.js')) }],
]);

function wantsHtml(ctx: Context): boolean {
  return ctx.accepts('json', 'html') === 'html';
}

/** A 500 names its request id (also in the X-Request-Id header and the log line). */
async function renderError(ctx: Context, views: Views, status: number, code: string, message: string, requestId?: string) {
  ctx.status = status;
  if (wantsHtml(ctx)) {
    await sendPage(ctx, views, 'error', { error: code, description: message, requestId });
  } else {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: code, error_description: message, ...(requestId ? { request_id: requestId } : {}) };
  }
}

export function createApp(deps: AppDeps): Koa {
  const { config, db, kv, dataKey, logger, clients, face } = deps;
  const views = createViews({ cache: config.production });
  const providers = providerRegistry({ config, db, kv, dataKey, views, logger, clients });
  const routers = new WeakMap<Provider, ReturnType<ReturnType<typeof interactionRouter>['routes']>>();
  const adminRouters = new Map<string, ReturnType<ReturnType<typeof adminRouter>['routes']>>();
  const accountRouters = new WeakMap<Provider, ReturnType<ReturnType<typeof accountRouter>['routes']>>();
  // Koa's callback() composes the middleware anew on each call: once per provider instance instead.
  const handlers = new WeakMap<Provider, ReturnType<Provider['callback']>>();
  const app = new Koa();
  app.keys = config.cookieKeys;
  app.proxy = config.trustProxy;
  // Errors thrown past the boundary below (e.g. while rendering the error page itself); like
  // Koa's default, client errors (exposed, < 500) are not server errors.
  app.on('error', (err: { status?: number; expose?: boolean }, ctx: Context) => {
    if (!err.expose && !(err.status && err.status < 500)) logServerError(logger, ctx, err);
  });

  app.use(async (ctx: Context, next: Next) => {
    const requestId = assignRequestId(ctx.req);
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } catch (e) {
      if (e instanceof FacegateError) {
        if (e instanceof RateLimitError || e instanceof BusyError) ctx.set('Retry-After', String(e.retryAfterSeconds));
        return renderError(ctx, views, e.status, e.code, e.message);
      }
      if (e instanceof oidcErrors.SessionNotFound) {
        return renderError(ctx, views, 400, 'interaction.expired', 'This sign-in has expired or was opened in another browser; start again from the app.');
      }
      if (e instanceof oidcErrors.OIDCProviderError) {
        return renderError(ctx, views, e.statusCode, e.error, e.error_description ?? e.message);
      }
      logServerError(logger, ctx, e);
      return renderError(ctx, views, 500, 'server.error', 'unexpected error', requestId);
    }
  });

  app.use(
    helmet({
      // form-action is left out on purpose: after a form POST the browser follows redirects to
      // the client's redirect_uri, which form-action would block.
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          objectSrc: ["'none'"],
        },
      },
      hsts: config.publicUrl.startsWith('https:'),
    }),
  );
  app.use(publicOriginOnly(config.publicUrl, new Set(['/healthz'])));

  app.use(async (ctx, next) => {
    const asset = STATIC.get(ctx.path);
    if (asset) {
      ctx.type = asset.type;
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = asset.body;
      return;
    }
    if (ctx.path === '/healthz') {
      ctx.body = { ok: true };
      return;
    }
    if (ctx.path === '/') {
      ctx.body = { issuer: `${config.publicUrl}/t/${config.defaultTenant}`, discovery: `${config.publicUrl}/t/${config.defaultTenant}/.well-known/openid-configuration` };
      return;
    }
    const m = TENANT_PATH.exec(ctx.path);
    if (!m) return next();
    const tenantId = m[1];
    // An unknown tenant ends here (tenant.not_found), before any route of it is built.
    const provider = await providers.get(tenantId);
    if (m[2] === '/admin' || m[2].startsWith('/admin/')) {
      let admin = adminRouters.get(tenantId);
      if (!admin) adminRouters.set(tenantId, (admin = adminRouter({ db, kv, dataKey, face }, tenantId, issuerFor(config, tenantId)).routes()));
      return admin(ctx as never, next);
    }
    if (m[2].startsWith('/interaction/')) {
      // One router per provider instance: a rebuilt provider (key reload) gets a fresh one.
      let routes = routers.get(provider);
      if (!routes) {
        routes = interactionRouter(provider, tenantId, { db, kv, dataKey, views, cookieKeys: config.cookieKeys, face }).routes();
        routers.set(provider, routes);
      }
      return routes(ctx as never, next);
    }
    if (m[2] === '/account' || m[2].startsWith('/account/')) {
      let routes = accountRouters.get(provider);
      if (!routes) {
        routes = accountRouter(provider, tenantId, { db, kv, dataKey, views, cookieKeys: config.cookieKeys, publicUrl: config.publicUrl, face }).routes();
        accountRouters.set(provider, routes);
      }
      return routes(ctx as never, next);
    }
    // Hand the raw request to the tenant's provider, mounted at /t/<tenant>.
    const original = ctx.req.url!;
    ctx.req.url = ctx.req.url!.slice(`/t/${tenantId}`.length) || '/';
    (ctx.req as { originalUrl?: string }).originalUrl = original;
    ctx.respond = false;
    let handler = handlers.get(provider);
    if (!handler) {
      handler = provider.callback();
      handlers.set(provider, handler);
    }
    await handler(ctx.req, ctx.res);
  });

  app.use(async (ctx) => {
    await renderError(ctx, views, 404, 'request.not_found', 'no such page');
  });
  return app;
}
