/**
 * What every interaction route needs, for one tenant's provider: read the interaction, know the
 * level its request requires, finish it (a redirect for a form, `{redirect}` for the face
 * step's JSON calls), render a page, read a CSRF-checked form or JSON body, and audit.
 */
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { AccountDeps } from '../account/authenticate.ts';
import { appendAudit } from '../audit/log.ts';
import { InputError } from '../errors.ts';
import type { FaceServices } from '../faceLogin/faceServices.ts';
import { acrRequirement } from '../oidc/policy.ts';
import { satisfies, type Acr, type Amr } from '../oidc/assurance.ts';
import { readForm, readJson, JSON_LIMIT_BYTES } from './body.ts';
import { assertCsrf, csrfToken } from './csrf.ts';
import { sendPage, type Views } from './views.ts';

export type InteractionDeps = AccountDeps & { views: Views; cookieKeys: string[]; face?: FaceServices };

export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

export type InteractionKit = ReturnType<typeof interactionKit>;

export function interactionKit(provider: Provider, tenantId: string, deps: InteractionDeps) {
  const prefix = `/t/${tenantId}/interaction`;

  const details = (ctx: Context) => provider.interactionDetails(ctx.req, ctx.res);

  /** The interaction, which must be at the login prompt. */
  async function loginDetails(ctx: Context): Promise<Interaction> {
    const interaction = await details(ctx);
    if (interaction.prompt.name !== 'login') throw new InputError('interaction.wrong_prompt', 'this step is not expected now');
    return interaction;
  }

  /** The requesting client and the level its request requires (acr_values, essential acr, client floor). */
  async function requirement(params: Record<string, unknown>) {
    const client = await provider.Client.find(String(params.client_id));
    let claims;
    try {
      claims = typeof params.claims === 'string' ? JSON.parse(params.claims) : undefined;
    } catch {
      claims = undefined; // oidc-provider has already rejected malformed claims before we get here
    }
    return { clientName: client?.clientName ?? String(params.client_id), required: acrRequirement(params, claims, client) };
  }

  /**
   * The redirect that ends this step. A consent is merged with the login submitted earlier in
   * the same interaction: dropping that login would make prompt=login or max_age ask for it
   * again forever. A login or an error replaces whatever was submitted before.
   */
  const resultRedirect = (ctx: Context, result: Record<string, unknown>) =>
    provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: 'consent' in result });

  async function finish(ctx: Context, result: Record<string, unknown>) {
    const redirectTo = await resultRedirect(ctx, result);
    ctx.status = 303;
    ctx.redirect(redirectTo);
  }

  /** Ends this step from a JSON call: the browser script follows `redirect`. */
  async function finishJson(ctx: Context, result: Record<string, unknown>) {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { redirect: await resultRedirect(ctx, result) };
  }

  /**
   * The standard OIDC error for a requirement this sign-in cannot meet (audited, with the user
   * when known, for their sign-in history): never a weaker token.
   */
  async function unmet(required: string | undefined, clientId: string, accountId?: string) {
    await audit('signin.unmet_acr', { actor: accountId, subject: clientId, data: { required: required ?? null } });
    return { error: 'unmet_authentication_requirements', error_description: `the requested authentication level (${required}) cannot be met` };
  }

  /**
   * The login result of a verified sign-in, or `unmet` when it falls short of what the request
   * requires. `ts` (seconds) is when the factor was verified, when that was not just now: it is
   * the session's auth_time, which max_age and the ID token's auth_time read.
   */
  async function loginResult(login: { accountId: string; acr: Acr; amr: Amr[]; ts?: number }, required: Acr | 'unmet' | undefined, clientId: string) {
    if (required === 'unmet' || !satisfies(login.acr, required)) return unmet(required, clientId, login.accountId);
    // The sign-in history (account area) shows which client, method and level each sign-in had.
    await audit('signin.completed', { actor: login.accountId, subject: login.accountId, data: { clientId, acr: login.acr, amr: login.amr } });
    return { login: { ...login, remember: true } };
  }

  async function render(ctx: Context, view: string, data: Record<string, unknown>, status = 200) {
    ctx.status = status;
    await sendPage(ctx, deps.views, view, data);
  }

  async function postedForm(ctx: Context, uid: string) {
    const form = await readForm(ctx);
    assertCsrf(deps.cookieKeys, uid, form.csrf);
    return form;
  }

  async function postedJson(ctx: Context, uid: string, limit = JSON_LIMIT_BYTES) {
    const body = await readJson(ctx, limit);
    assertCsrf(deps.cookieKeys, uid, typeof body.csrf === 'string' ? body.csrf : undefined);
    return body;
  }

  function base(uid: string) {
    return { action: `${prefix}/${uid}`, csrf: csrfToken(deps.cookieKeys[0], uid) };
  }

  async function audit(type: string, event: { actor?: string; subject?: string; data?: Record<string, unknown> }) {
    await deps.db.withTenant(tenantId, (sql) => appendAudit(sql, tenantId, { type, ...event }));
  }

  return { tenantId, deps, prefix, details, loginDetails, requirement, finish, finishJson, unmet, loginResult, render, postedForm, postedJson, base, audit };
}
