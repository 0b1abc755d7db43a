/**
 * One oidc-provider instance per tenant, with its own issuer (`<publicUrl>/t/<tenant>`),
 * clients, signing keys and storage rows. Interactions are ours (src/interaction/).
 */
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Database } from '../store/db.ts';
import type { DataKey } from '../store/dataKey.ts';
import { adapterFactory } from './adapter.ts';
import type { ClientCache } from './clientCache.ts';
import type { KeyValueStore } from '../store/kv.ts';
import { ACR_VALUES, isAcr } from './assurance.ts';
import { loadSigningKeys } from './keys.ts';
import { buildInteractionPolicy } from './policy.ts';
import { findAccount } from './account.ts';
import { resourceServerSettings } from './resourceServerConfig.ts';
import { sendPage, type Views } from '../interaction/views.ts';
import { CLIENT_ASSERTION_ALGS, CLIENT_AUTH_METHODS } from './clientAuth.ts';
import { logServerError, requestIdOf } from '../requestId.ts';
import { loadExistingGrant } from '../accountArea/accountClient.ts';

export type ProviderDeps = { config: Config; db: Database; kv: KeyValueStore; dataKey: DataKey; views: Views; logger: Logger; clients: ClientCache };

/**
 * Caches may keep these for a minute, about as long as a process keeps a tenant's keys
 * (registry.ts), so a rotated key is published everywhere within a couple of minutes.
 */
const CACHEABLE_ROUTES = new Set(['discovery', 'jwks']);
const CACHEABLE = 'public, max-age=60';

export function issuerFor(config: Config, tenantId: string): string {
  return `${config.publicUrl}/t/${tenantId}`;
}

export function tenantBasePath(tenantId: string): string {
  return `/t/${tenantId}`;
}

export async function createTenantProvider(deps: ProviderDeps, tenantId: string): Promise<Provider> {
  const { config, db, views, logger } = deps;
  const keys = await loadSigningKeys(db, deps.dataKey, tenantId);
  const secure = config.publicUrl.startsWith('https:');
  const cookieFlags = { httpOnly: true, sameSite: 'lax' as const, secure, signed: true };
  const resourceServers = resourceServerSettings(db, tenantId, issuerFor(config, tenantId));
  const configuration: Configuration = {
    adapter: adapterFactory(db, deps.dataKey, tenantId, { clients: deps.clients, kv: deps.kv }),
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
    clientAuthMethods: [...CLIENT_AUTH_METHODS],
    enabledJWA: { clientAuthSigningAlgValues: CLIENT_ASSERTION_ALGS as never },
    features: {
      ...resourceServers.features,
      devInteractions: { enabled: false },
      // Only admin clients (admin/adminClient.ts) have this grant type: tokens for the admin API.
      clientCredentials: { enabled: true },
      // No client is registered to push requests; advertise only what works.
      pushedAuthorizationRequests: { enabled: false },
      claimsParameter: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          await sendPage(ctx, views, 'logout', { form, tenant: tenantId, host: new URL(config.publicUrl).host });
        },
        postLogoutSuccessSource: async (ctx) => {
          await sendPage(ctx, views, 'logged-out', { clientName: ctx.oidc.client?.clientName ?? null });
        },
      },
    },
    extraClientMetadata: {
      properties: ['facegate_min_acr', 'facegate_admin'],
      validator(_ctx, key, value) {
        if (key === 'facegate_min_acr' && value !== undefined && value !== null && !isAcr(value)) {
          throw new Error('facegate_min_acr must be one of the supported acr values');
        }
        if (key === 'facegate_admin' && value !== undefined && value !== true) throw new Error('facegate_admin must be true or absent');
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
    // The account area (src/accountArea/) is first-party: its grant needs no consent screen.
    loadExistingGrant,
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
      const requestId = out.error === 'server_error' ? requestIdOf(ctx.req) : undefined;
      await sendPage(ctx, views, 'error', { error: out.error, description: out.error_description ?? '', requestId });
    },
  };
  const provider = new Provider(issuerFor(config, tenantId), configuration);
  // Each tenant's provider is its own Koa app: it must trust X-Forwarded-* exactly when ours does,
  // or behind a TLS proxy it sees http and refuses to set its Secure cookies.
  provider.proxy = config.trustProxy;
  provider.on('server_error', (ctx: KoaContextWithOIDC, err: unknown) => logServerError(logger, ctx, err, tenantId));
  // After each response: cache headers for discovery/JWKS, the request id in a JSON server_error.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.status === 200 && CACHEABLE_ROUTES.has(ctx.oidc?.route) && !ctx.response.get('Cache-Control')) ctx.set('Cache-Control', CACHEABLE);
    const body = ctx.body as { error?: unknown } | undefined;
    if (ctx.status >= 500 && body?.constructor === Object && body.error === 'server_error') ctx.body = { ...body, request_id: requestIdOf(ctx.req) };
  });
  return provider;
}
