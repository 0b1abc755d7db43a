/**
 * Interaction routes for one tenant's provider: identify the user, ask for consent, or abort;
 * the factor steps are split by prompt step — PIN/TOTP (factorRoutes.ts), the face step
 * (faceRoutes.ts), setting up face sign-in (enrollRoutes.ts). Each route reads the interaction,
 * checks the prompt it expects, does one thing and ends with `interactionFinished(result)` or a
 * rendered page.
 */
import Router from '@koa/router';
import type Provider from 'oidc-provider';
import { InputError } from '../errors.ts';
import { findUserById } from '../account/users.ts';
import { faceReadiness } from '../faceLogin/faceReadiness.ts';
import { achievableAcr, acrRank, LOA } from '../oidc/assurance.ts';
import { field } from './body.ts';
import { enrollRoutes } from './enrollRoutes.ts';
import { faceRoutes, renderFaceStep, sessionUsername } from './faceRoutes.ts';
import { factorRoutes, renderFactor } from './factorRoutes.ts';
import { interactionKit, type InteractionDeps } from './kit.ts';

export type { InteractionDeps } from './kit.ts';

/** What the consent prompt asks for: OpenID scopes and claims, and scopes per resource server (RFC 8707). */
type ConsentDetails = { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
// A list, not the map: resource URIs are data, never keys (the audit log screens keys).
const resourcesOf = (d: ConsentDetails) => Object.entries(d.missingResourceScopes ?? {}).map(([uri, scopes]) => ({ uri, scopes }));

export function interactionRouter(provider: Provider, tenantId: string, deps: InteractionDeps): Router {
  const router = new Router({ prefix: `/t/${tenantId}/interaction` });
  const kit = interactionKit(provider, tenantId, deps);

  router.get('/:uid', async (ctx) => {
    const interaction = await kit.details(ctx);
    const { uid, prompt, params, session } = interaction;
    const { clientName, required } = await kit.requirement(params);
    const clientId = String(params.client_id);
    if (prompt.name === 'login') {
      if (required === 'unmet') return kit.finish(ctx, await kit.unmet(required, clientId));
      const account = session?.accountId;
      if (required && acrRank(required) > acrRank(LOA.pinOrOtp)) {
        // Nothing here reaches above loa 1 without face sign-in; a signed-in user's level is known
        // now (step-up), anyone else identifies first.
        const reachable = !deps.face ? LOA.pinOrOtp : account ? achievableAcr(await faceReadiness(deps, tenantId, account)) : undefined;
        if (reachable && acrRank(required) > acrRank(reachable)) return kit.finish(ctx, await kit.unmet(required, clientId));
        // Step-up: the signed-in user shows their face; the PIN again would add nothing.
        if (account) return renderFaceStep(kit, ctx, uid, { username: await sessionUsername(kit, account), clientName, stepUp: true });
      }
      const factor = ctx.query.factor;
      const username = typeof ctx.query.username === 'string' ? ctx.query.username : '';
      if (username && deps.face && factor === 'face') return renderFaceStep(kit, ctx, uid, { username, clientName, stepUp: false });
      if (username && (factor === 'otp' || factor === 'pin')) return renderFactor(kit, ctx, uid, factor, username, clientName, '');
      return kit.render(ctx, 'login', { ...kit.base(uid), clientName, error: '', username: String(params.login_hint ?? '') });
    }
    if (prompt.name === 'consent') {
      const d = prompt.details as ConsentDetails;
      const user = session?.accountId ? await findUserById(deps.db, tenantId, session.accountId) : undefined;
      return kit.render(ctx, 'consent', {
        ...kit.base(uid),
        clientName,
        username: user?.username ?? '',
        scopes: (d.missingOIDCScope ?? []).filter((s) => s !== 'openid'),
        claims: (d.missingOIDCClaims ?? []).filter((c) => !['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss'].includes(c)),
        resources: resourcesOf(d),
      });
    }
    throw new InputError('interaction.unknown_prompt', `unsupported prompt ${prompt.name}`);
  });

  router.post('/:uid/identify', async (ctx) => {
    const interaction = await kit.loginDetails(ctx);
    const form = await kit.postedForm(ctx, interaction.uid);
    const username = field(form, 'username', 128);
    const { clientName } = await kit.requirement(interaction.params);
    // Whether the user exists is not revealed here: every username gets the PIN form.
    return renderFactor(kit, ctx, interaction.uid, 'pin', username, clientName, '');
  });

  factorRoutes(router, kit);
  faceRoutes(router, kit);
  enrollRoutes(router, kit);

  router.post('/:uid/consent', async (ctx) => {
    const interaction = await kit.details(ctx);
    await kit.postedForm(ctx, interaction.uid);
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
    await kit.audit('consent.given', {
      actor: session.accountId,
      subject: String(params.client_id),
      data: { scopes: d.missingOIDCScope ?? [], resources: resourcesOf(d) },
    });
    return kit.finish(ctx, { consent: grantId ? {} : { grantId: savedId } });
  });

  router.post('/:uid/abort', async (ctx) => {
    const interaction = await kit.details(ctx);
    await kit.postedForm(ctx, interaction.uid);
    return kit.finish(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
  });

  return router;
}
