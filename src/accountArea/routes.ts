/**
 * `/t/<tenant>/account`: the user's own account area. Signing in, the overview page (profile,
 * devices, factors, face data, consents and grants, sign-in history), the export, signing out,
 * and the confirmation page a sensitive action comes back to after signing in again. The
 * actions themselves are in actionRoutes.ts.
 */
import Router from '@koa/router';
import type Provider from 'oidc-provider';
import { pinSetAt } from '../account/pin.ts';
import { totpStatus } from '../account/totp.ts';
import { findUserById } from '../account/users.ts';
import { InputError, NotFoundError } from '../errors.ts';
import { accountCallbackUrl, ensureAccountClient } from './accountClient.ts';
import { actionRoutes, CONFIRMABLE } from './actionRoutes.ts';
import { listDevices } from './devices.ts';
import { exportAccount } from './exportData.ts';
import { faceData } from './faceData.ts';
import { listGrants } from './grants.ts';
import { signInHistory } from './history.ts';
import { accountKit, Redirect, type AccountAreaDeps } from './kit.ts';
import { redeemCode, signInRequest } from './signIn.ts';

export type { AccountAreaDeps } from './kit.ts';

/** What `?done=` may say on the overview: a fixed list, so a link cannot put words on the page. */
const NOTICES: Record<string, string> = {
  'grant-revoked': 'Access revoked: that application must ask you again.',
  'face-deleted': 'Your face data is deleted.',
  'consent-revoked': 'Consent withdrawn; your face data is deleted.',
  'device-renamed': 'Device renamed.',
  'device-removed': 'Device removed.',
  'pin-changed': 'PIN changed.',
  'totp-removed': 'Authenticator app removed.',
  'totp-enrolled': 'Authenticator app set up.',
};

export function accountRouter(provider: Provider, tenantId: string, deps: AccountAreaDeps): Router {
  const router = new Router({ prefix: `/t/${tenantId}/account` });
  const kit = accountKit(tenantId, deps);
  const redirectUri = accountCallbackUrl(deps.publicUrl, tenantId);

  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (e) {
      if (!(e instanceof Redirect)) throw e;
      ctx.status = 303;
      ctx.redirect(e.location);
    }
  });

  /** A path inside the account area to come back to; anything else is the overview. */
  const returnPath = (raw: unknown) =>
    typeof raw === 'string' && raw.length <= 2048 && (raw === kit.prefix || raw.startsWith(`${kit.prefix}/`) || raw.startsWith(`${kit.prefix}?`)) && !/[\\\s]/.test(raw) && !raw.includes('/..')
      ? raw
      : kit.prefix;

  router.get('/login', async (ctx) => {
    await ensureAccountClient(deps.db, deps.publicUrl, tenantId);
    const reauth = ctx.query.reauth === '1';
    const current = kit.cookies.current(ctx);
    const user = current && reauth ? await findUserById(deps.db, tenantId, current.sub) : undefined;
    const request = signInRequest(`${deps.publicUrl}/t/${tenantId}`, redirectUri, { reauth, loginHint: user?.username });
    kit.cookies.beginSignIn(ctx, { state: request.state, nonce: request.nonce, verifier: request.verifier, returnTo: returnPath(ctx.query.return) });
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(request.url);
  });

  router.get('/callback', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const pending = kit.cookies.takeSignIn(ctx);
    const { state, code, error } = ctx.query;
    if (!pending || typeof state !== 'string' || state !== pending.state) {
      throw new InputError('account.signin_expired', 'this sign-in has expired or was started in another browser; sign in again');
    }
    if (typeof error === 'string') {
      // The provider's own answer (access_denied, unmet_authentication_requirements…), shown as is.
      const description = typeof ctx.query.error_description === 'string' ? ctx.query.error_description : error;
      return kit.render(ctx, 'signed-out', undefined, { error: description.slice(0, 300) }, 400);
    }
    if (typeof code !== 'string') throw new InputError('request.missing_field', 'missing "code"');
    const { sub, authTime } = await redeemCode(provider, code, { redirectUri, verifier: pending.verifier, nonce: pending.nonce });
    kit.cookies.start(ctx, sub, authTime);
    ctx.status = 303;
    ctx.redirect(pending.returnTo);
  });

  router.get('/', async (ctx) => {
    const who = await kit.signedIn(ctx);
    const id = who.user.id;
    const [devices, pin, totp, face, grants, history] = await Promise.all([
      listDevices(deps.db, tenantId, id),
      pinSetAt(deps.db, tenantId, id),
      totpStatus(deps.db, tenantId, id),
      faceData(deps.db, tenantId, id),
      listGrants(deps.db, tenantId, id),
      signInHistory(deps.db, tenantId, id),
    ]);
    const done = typeof ctx.query.done === 'string' ? NOTICES[ctx.query.done] ?? '' : '';
    return kit.render(ctx, 'index', who, {
      user: who.user,
      devices,
      pin,
      totp,
      face,
      faceOn: Boolean(deps.face),
      grants,
      history,
      recent: kit.cookies.isRecent(who.session),
      notice: done,
      setUpFaceUrl: kit.signInUrl(kit.prefix, true),
    });
  });

  router.get('/confirm/:action', async (ctx) => {
    const who = await kit.signedIn(ctx);
    const action = CONFIRMABLE[ctx.params.action];
    if (!action) throw new NotFoundError('request.not_found', 'no such action');
    const id = typeof ctx.query.id === 'string' ? ctx.query.id.slice(0, 1400) : '';
    kit.requireRecent(who, ctx.params.action, id || undefined);
    return kit.render(ctx, 'confirm', who, { action, id, url: `${kit.prefix}${action.path}` });
  });

  router.post('/export', async (ctx) => {
    const { user } = await kit.posted(ctx);
    const document = await exportAccount(deps.db, tenantId, user);
    await kit.audit('account.exported', user.id);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Disposition', `attachment; filename="account-${tenantId}.json"`);
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(document, null, 2);
  });

  router.post('/logout', async (ctx) => {
    const { user } = await kit.posted(ctx);
    kit.cookies.end(ctx);
    await kit.audit('account.signed_out', user.id);
    return kit.render(ctx, 'signed-out', undefined, { error: '' });
  });

  actionRoutes(router, kit);
  return router;
}
