/**
 * Interaction policy: oidc-provider's default prompts plus one login check that makes the
 * requested `acr_values`, the essential `acr` claim and the client's operator-set minimum
 * binding. A session whose level is below the requirement must authenticate again; a loa 3
 * sign-in older than 5 minutes stands for loa 2 here (assurance.ts sessionAcr).
 */
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { requiredAcr, satisfies, sessionAcr, type AcrRequest } from './assurance.ts';

type ClaimsRequest = { id_token?: { acr?: AcrRequest['essentialAcr'] } };

/** The level an authorization request requires: its `acr_values`, essential `acr` claim and the client's floor. */
export function acrRequirement(params: Record<string, unknown>, claims: ClaimsRequest | undefined, client: { [key: string]: unknown } | undefined) {
  return requiredAcr({
    acrValues: typeof params.acr_values === 'string' ? params.acr_values : undefined,
    essentialAcr: claims?.id_token?.acr,
    clientMinAcr: (client?.['facegate_min_acr'] as string | undefined) ?? null,
  });
}

function acrRequirementOf(ctx: KoaContextWithOIDC) {
  return acrRequirement(ctx.oidc.params ?? {}, ctx.oidc.claims as ClaimsRequest | undefined, ctx.oidc.client);
}

export function buildInteractionPolicy() {
  const policy = interactionPolicy.base();
  const login = policy.get('login')!;
  login.checks.add(
    new interactionPolicy.Check(
      'acr_required',
      'the requested authentication level has not been reached in this session',
      (ctx) => {
        const required = acrRequirementOf(ctx);
        if (required === undefined) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        const session = ctx.oidc.session;
        const standsFor = sessionAcr(session?.acr, session?.authTime(), Math.floor(Date.now() / 1000));
        if (required === 'unmet' || !satisfies(standsFor, required)) return interactionPolicy.Check.REQUEST_PROMPT;
        return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      },
      (ctx) => ({ required_acr: acrRequirementOf(ctx) }),
    ),
  );
  return policy;
}
