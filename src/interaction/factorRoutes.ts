/**
 * The PIN and TOTP steps of the login prompt. A right PIN or code is a loa 1 sign-in; when the
 * user has no face template yet, the sign-in is held while setting it up is offered
 * (enrollRoutes.ts), otherwise it finishes — as `unmet_authentication_requirements` when the
 * request needs more than loa 1. A user who has a face (even one disabled by failures) is never
 * offered to enroll again on the strength of a PIN.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { AuthError, RateLimitError } from '../errors.ts';
import { authenticatePin, authenticateTotp } from '../account/authenticate.ts';
import { faceReadiness } from '../faceLogin/faceReadiness.ts';
import { holdLogin } from '../faceLogin/pendingLogin.ts';
import { LOA, type Acr, type Amr } from '../oidc/assurance.ts';
import { field } from './body.ts';
import type { InteractionKit } from './kit.ts';

export type Factor = 'pin' | 'otp';
const FACTORS: Record<Factor, { amr: Amr; acr: Acr; path: 'pin' | 'totp'; label: string }> = {
  pin: { amr: 'pin', acr: LOA.pinOrOtp, path: 'pin', label: 'your PIN' },
  otp: { amr: 'otp', acr: LOA.pinOrOtp, path: 'totp', label: 'an authenticator code' },
};

/** Links to the other ways of signing in as `username`, face included where this deployment has it. */
export function factorLinks(kit: InteractionKit, uid: string, username: string, except: Factor | 'face') {
  const href = (f: Factor | 'face') => `${kit.prefix}/${uid}?factor=${f}&username=${encodeURIComponent(username)}`;
  const factors = (Object.keys(FACTORS) as Factor[]).filter((f) => f !== except).map((f) => ({ href: href(f), label: FACTORS[f].label }));
  const face = kit.deps.face && except !== 'face' ? href('face') : null;
  return { others: factors, faceHref: face };
}

export function renderFactor(kit: InteractionKit, ctx: Context, uid: string, factor: Factor, username: string, clientName: string, error: string, status = 200) {
  return kit.render(ctx, 'factor', { ...kit.base(uid), factor: FACTORS[factor].path, username, clientName, error, ...factorLinks(kit, uid, username, factor) }, status);
}

export function factorRoutes(router: Router, kit: InteractionKit): void {
  const { deps, tenantId } = kit;
  for (const factor of Object.keys(FACTORS) as Factor[]) {
    router.post(`/:uid/${FACTORS[factor].path}`, async (ctx) => {
      const interaction = await kit.loginDetails(ctx);
      const form = await kit.postedForm(ctx, interaction.uid);
      const username = field(form, 'username', 128);
      const { clientName, required } = await kit.requirement(interaction.params);
      let userId: string;
      try {
        ({ userId } =
          factor === 'pin'
            ? await authenticatePin(deps, tenantId, username, field(form, 'pin', 64))
            : await authenticateTotp(deps, tenantId, username, field(form, 'code', 16)));
      } catch (e) {
        if (e instanceof RateLimitError) {
          const minutes = Math.ceil(e.retryAfterSeconds / 60);
          ctx.set('Retry-After', String(e.retryAfterSeconds));
          return renderFactor(kit, ctx, interaction.uid, factor, username, clientName, `Too many wrong attempts: this factor is locked for ${minutes} min. You can use another factor.`, 429);
        }
        if (e instanceof AuthError) return renderFactor(kit, ctx, interaction.uid, factor, username, clientName, 'That did not match. Try again.', 401);
        throw e;
      }
      const login = { accountId: userId, acr: FACTORS[factor].acr, amr: [FACTORS[factor].amr] };
      if (deps.face && !(await faceReadiness(deps, tenantId, userId)).template) {
        await holdLogin(deps.kv, tenantId, interaction.uid, { ...login, signedInAt: Date.now() });
        ctx.status = 303;
        return ctx.redirect(`${kit.prefix}/${interaction.uid}/enroll`);
      }
      return kit.finish(ctx, await kit.loginResult(login, required, String(interaction.params.client_id)));
    });
  }
}
