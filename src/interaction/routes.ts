/**
 * Interaction routes for one tenant's provider: identify the user, verify a factor (PIN or
 * TOTP), ask for consent, or abort. Each route reads the interaction, checks the prompt it
 * expects, does one thing and ends with `interactionFinished(result)` or a rendered form.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { AuthError, InputError, RateLimitError } from '../errors.ts';
import { authenticatePin, authenticateTotp, type AccountDeps } from '../account/authenticate.ts';
import { appendAudit } from '../audit/log.ts';
import { acrRank, LOA, type Acr, type Amr } from '../oidc/assurance.ts';
import { acrRequirement } from '../oidc/policy.ts';
import { readForm, field } from './body.ts';
import { assertCsrf, csrfToken } from './csrf.ts';
import { sendPage, type Views } from './views.ts';

export type InteractionDeps = AccountDeps & { views: Views; cookieKeys: string[] };

/** What the consent prompt asks for: OpenID scopes and claims, and scopes per resource server (RFC 8707). */
type ConsentDetails = { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
// A list, not the map: resource URIs are data, never keys (the audit log screens keys).
const resourcesOf = (d: ConsentDetails) => Object.entries(d.missingResourceScopes ?? {}).map(([uri, scopes]) => ({ uri, scopes }));

type Factor = 'pin' | 'otp';
const FACTORS: Record<Factor, { amr: Amr; acr: Acr; path: 'pin' | 'totp' }> = {
  pin: { amr: 'pin', acr: LOA.pinOrOtp, path: 'pin' },
  otp: { amr: 'otp', acr: LOA.pinOrOtp, path: 'totp' },
};

/** The highest level this deployment can prove today; the face step will raise it. */
export function achievableAcr(): Acr {
  return LOA.pinOrOtp;
}

async function requiredFor(provider: Provider, params: Record<string, unknown>) {
  const client = await provider.Client.find(String(params.client_id));
  let claims;
  try {
    claims = typeof params.claims === 'string' ? JSON.parse(params.claims) : undefined;
  } catch {
    claims = undefined; // oidc-provider has already rejected malformed claims before we get here
  }
  return { client, required: acrRequirement(params, claims, client) };
}

export function interactionRouter(provider: Provider, tenantId: string, deps: InteractionDeps): Router {
  const router = new Router({ prefix: `/t/${tenantId}/interaction` });
  const { views } = deps;

  async function details(ctx: Context) {
    return provider.interactionDetails(ctx.req, ctx.res);
  }

  /**
   * Ends this step. A consent is merged with the login submitted earlier in the same
   * interaction: dropping that login would make prompt=login or max_age ask for it again forever.
   * A login or an error replaces whatever was submitted before.
   */
  async function finish(ctx: Context, result: Record<string, unknown>) {
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: 'consent' in result });
    ctx.status = 303;
    ctx.redirect(redirectTo);
  }

  async function render(ctx: Context, view: string, data: Record<string, unknown>, status = 200) {
    ctx.status = status;
    await sendPage(ctx, views, view, data);
  }

  async function postedForm(ctx: Context, uid: string) {
    const form = await readForm(ctx);
    assertCsrf(deps.cookieKeys, uid, form.csrf);
    return form;
  }

  function base(uid: string) {
    return { action: `/t/${tenantId}/interaction/${uid}`, csrf: csrfToken(deps.cookieKeys[0], uid) };
  }

  router.get('/:uid', async (ctx) => {
    const interaction = await details(ctx);
    const { uid, prompt, params, session } = interaction;
    const { client, required } = await requiredFor(provider, params);
    const clientName = client?.clientName ?? String(params.client_id);
    if (prompt.name === 'login') {
      if (required === 'unmet' || (required && acrRank(required) > acrRank(achievableAcr()))) {
        await appendAuditFor(tenantId, deps, 'signin.unmet_acr', { subject: String(params.client_id), data: { required: required ?? null } });
        return finish(ctx, {
          error: 'unmet_authentication_requirements',
          error_description: `the requested authentication level (${required}) cannot be met`,
        });
      }
      const factor = ctx.query.factor === 'otp' ? 'otp' : ctx.query.factor === 'pin' ? 'pin' : undefined;
      const username = typeof ctx.query.username === 'string' ? ctx.query.username : '';
      if (factor && username) return renderFactor(ctx, uid, factor, username, clientName, '');
      return render(ctx, 'login', { ...base(uid), clientName, error: '', username: String(params.login_hint ?? '') });
    }
    if (prompt.name === 'consent') {
      const d = prompt.details as ConsentDetails;
      const { rows } = await deps.db.withTenant(tenantId, (sql) =>
        sql.query<{ username: string }>('SELECT username FROM users WHERE id = $1', [session?.accountId]),
      );
      return render(ctx, 'consent', {
        ...base(uid),
        clientName,
        username: rows[0]?.username ?? '',
        scopes: (d.missingOIDCScope ?? []).filter((s) => s !== 'openid'),
        claims: (d.missingOIDCClaims ?? []).filter((c) => !['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss'].includes(c)),
        resources: resourcesOf(d),
      });
    }
    throw new InputError('interaction.unknown_prompt', `unsupported prompt ${prompt.name}`);
  });

  function renderFactor(ctx: Context, uid: string, factor: Factor, username: string, clientName: string, error: string, status = 200) {
    const others = (Object.keys(FACTORS) as Factor[])
      .filter((f) => f !== factor)
      .map((f) => ({
        href: `/t/${tenantId}/interaction/${uid}?factor=${f}&username=${encodeURIComponent(username)}`,
        label: f === 'pin' ? 'your PIN' : 'an authenticator code',
      }));
    return render(ctx, 'factor', { ...base(uid), factor: FACTORS[factor].path, username, clientName, error, others }, status);
  }

  router.post('/:uid/identify', async (ctx) => {
    const interaction = await details(ctx);
    const form = await postedForm(ctx, interaction.uid);
    if (interaction.prompt.name !== 'login') throw new InputError('interaction.wrong_prompt', 'this step is not expected now');
    const username = field(form, 'username', 128);
    const client = await provider.Client.find(String(interaction.params.client_id));
    // Whether the user exists is not revealed here: every username gets the PIN form.
    return renderFactor(ctx, interaction.uid, 'pin', username, client?.clientName ?? String(interaction.params.client_id), '');
  });

  for (const factor of Object.keys(FACTORS) as Factor[]) {
    router.post(`/:uid/${FACTORS[factor].path}`, async (ctx) => {
      const interaction = await details(ctx);
      const form = await postedForm(ctx, interaction.uid);
      if (interaction.prompt.name !== 'login') throw new InputError('interaction.wrong_prompt', 'this step is not expected now');
      const username = field(form, 'username', 128);
      const client = await provider.Client.find(String(interaction.params.client_id));
      const clientName = client?.clientName ?? String(interaction.params.client_id);
      try {
        const { userId } =
          factor === 'pin'
            ? await authenticatePin(deps, tenantId, username, field(form, 'pin', 64))
            : await authenticateTotp(deps, tenantId, username, field(form, 'code', 16));
        return finish(ctx, { login: { accountId: userId, acr: FACTORS[factor].acr, amr: [FACTORS[factor].amr], remember: true } });
      } catch (e) {
        if (e instanceof RateLimitError) {
          const minutes = Math.ceil(e.retryAfterSeconds / 60);
          ctx.set('Retry-After', String(e.retryAfterSeconds));
          return renderFactor(ctx, interaction.uid, factor, username, clientName, `Too many wrong attempts: this factor is locked for ${minutes} min. You can use another factor.`, 429);
        }
        if (e instanceof AuthError) return renderFactor(ctx, interaction.uid, factor, username, clientName, 'That did not match. Try again.', 401);
        throw e;
      }
    });
  }

  router.post('/:uid/consent', async (ctx) => {
    const interaction = await details(ctx);
    await postedForm(ctx, interaction.uid);
    const { prompt, params, session, grantId } = interaction;
    if (prompt.name !== 'consent' || !session?.accountId) throw new InputError('interaction.wrong_prompt', 'this step is not expected now');
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: String(params.client_id) });
    if (!grant) throw new InputError('interaction.grant_missing', 'the grant to extend no longer exists');
    const d = prompt.details as ConsentDetails;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const savedId = await grant.save();
    await appendAuditFor(tenantId, deps, 'consent.given', {
      actor: session.accountId,
      subject: String(params.client_id),
      data: { scopes: d.missingOIDCScope ?? [], resources: resourcesOf(d) },
    });
    return finish(ctx, { consent: grantId ? {} : { grantId: savedId } });
  });

  router.post('/:uid/abort', async (ctx) => {
    const interaction = await details(ctx);
    await postedForm(ctx, interaction.uid);
    return finish(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
  });

  return router;
}

async function appendAuditFor(tenantId: string, deps: AccountDeps, type: string, event: { actor?: string; subject?: string; data?: Record<string, unknown> }) {
  await deps.db.withTenant(tenantId, (sql) => appendAudit(sql, tenantId, { type, ...event }));
}
