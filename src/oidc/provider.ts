/**
 * One oidc-provider instance per tenant, with its own issuer (`<publicUrl>/t/<tenant>`),
 * clients, signing keys and storage rows. Interactions are ours (src/interaction/).
 */
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config.ts';
import type { Database } from '../store/db.ts';
import type { DataKey } from '../store/dataKey.ts';
import { adapterFactory } from './adapter.ts';
import { ACR_VALUES, isAcr } from './assurance.ts';
import { loadSigningKeys } from './keys.ts';
import { buildInteractionPolicy } from './policy.ts';
import { findAccount } from './account.ts';
import { resourceServerSettings } from './resourceServerConfig.ts';
import type { Views } from '../interaction/views.ts';

export type ProviderDeps = { config: Config; db: Database; dataKey: DataKey; views: Views };

export function issuerFor(config: Config, tenantId: string): string {
  return `${config.publicUrl}/t/${tenantId}`;
}

export function tenantBasePath(tenantId: string): string {
  return `/t/${tenantId}`;
}

export async function createTenantProvider(deps: ProviderDeps, tenantId: string): Promise<Provider> {
  const { config, db, views } = deps;
  const keys = await loadSigningKeys(db, tenantId);
  const secure = config.publicUrl.startsWith('https:');
  const cookieFlags = { httpOnly: true, sameSite: 'lax' as const, secure, signed: true };
  const resourceServers = resourceServerSettings(db, tenantId);
  const configuration: Configuration = {
    adapter: adapterFactory(db, tenantId),
    jwks: { keys: keys as never },
    findAccount: (ctx, sub) => findAccount(db, tenantId, sub),
    acrValues: ACR_VALUES,
    claims: {
      // acr and amr state what this sign-in verified: part of the openid scope, so every ID
      // token carries them (oidc-provider otherwise adds acr only when it was requested).
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      iss: null,
      sid: null,
      profile: ['preferred_username'],
      email: ['email'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    responseTypes: ['code'],
    pkce: { required: () => true },
    extraTokenClaims: resourceServers.extraTokenClaims,
    features: {
      ...resourceServers.features,
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = await views.render('logout', { form, tenant: tenantId, host: ctx.host });
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = await views.render('logged-out', { clientName: ctx.oidc.client?.clientName ?? null });
        },
      },
    },
    extraClientMetadata: {
      properties: ['facegate_min_acr'],
      validator(_ctx, key, value) {
        if (key === 'facegate_min_acr' && value !== undefined && value !== null && !isAcr(value)) {
          throw new Error('facegate_min_acr must be one of the supported acr values');
        }
      },
    },
    cookies: {
      keys: config.cookieKeys,
      names: { session: `fg_session_${tenantId}`, interaction: `fg_interaction_${tenantId}`, resume: `fg_resume_${tenantId}` },
      long: cookieFlags,
      short: cookieFlags,
    },
    interactions: {
      url: (_ctx, interaction) => `${tenantBasePath(tenantId)}/interaction/${interaction.uid}`,
      policy: buildInteractionPolicy(),
    },
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 900,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
    renderError: async (ctx: KoaContextWithOIDC, out) => {
      ctx.type = 'html';
      ctx.body = await views.render('error', { error: out.error, description: out.error_description ?? '' });
    },
  };
  const provider = new Provider(issuerFor(config, tenantId), configuration);
  return provider;
}
