/**
 * The provider settings that let a resource server (RFC 9470 step-up) read how the user signed
 * in: a registered resource indicator (RFC 8707) gets an access token for that audience carrying
 * the sign-in's acr, amr and auth_time, and only that resource server's own credential may
 * introspect it (RFC 7662). Requests without `resource` keep the opaque userinfo token.
 */
import { errors, type AccessToken, type Client, type ClientCredentials, type Configuration, type KoaContextWithOIDC, type RefreshToken } from 'oidc-provider';
import { findResourceServer, findResourceServerByClient } from '../account/resourceServers.ts';
import type { Database } from '../store/db.ts';
import { ADMIN_SCOPE, adminAudience } from '../admin/adminClient.ts';

type Features = NonNullable<Configuration['features']>;
type ResourceServerSettings = {
  extraTokenClaims: NonNullable<Configuration['extraTokenClaims']>;
  features: {
    resourceIndicators: NonNullable<Features['resourceIndicators']>;
    introspection: { enabled: true; allowedPolicy: (ctx: KoaContextWithOIDC, client: Client, token: AccessToken | ClientCredentials | RefreshToken) => Promise<boolean> };
  };
};

/**
 * The authentication a token stems from: the authorization code it was exchanged for, or the
 * refresh token it was refreshed with. Never the current session, which may have changed since.
 */
function authenticationOf(ctx: KoaContextWithOIDC) {
  const source = ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken;
  return source && { acr: source.acr, amr: source.amr, auth_time: source.authTime };
}

export function resourceServerSettings(db: Database, tenantId: string, issuer: string): ResourceServerSettings {
  return {
    // Only tokens for a resource server carry them; the userinfo token's holder has the ID token.
    extraTokenClaims: (ctx, token) => ('aud' in token && token.aud ? authenticationOf(ctx) : undefined),
    features: {
      resourceIndicators: {
        enabled: true,
        async getResourceServerInfo(_ctx, indicator, client) {
          // The tenant admin API (src/admin/routes.ts): only for admin clients, which can do
          // nothing but the client credentials grant, so no user-delegated token reaches it.
          if (indicator === adminAudience(issuer)) {
            if (!client.grantTypes?.includes('client_credentials') || client['facegate_admin'] !== true) {
              throw new errors.InvalidTarget('only admin clients may ask for the admin API');
            }
            return { scope: ADMIN_SCOPE, audience: indicator, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
          }
          const rs = await findResourceServer(db, tenantId, indicator);
          if (!rs) throw new errors.InvalidTarget('the resource indicator is not a registered resource server');
          return { scope: rs.scopes.join(' '), audience: rs.audience, accessTokenFormat: rs.tokenFormat };
        },
        // The resource named at authorization is the token's audience without repeating it at the token endpoint.
        useGrantedResource: () => true,
      },
      introspection: {
        enabled: true,
        // RFC 7662 §2.2: a caller not allowed to see a token learns only `active: false`. That is
        // every client that is not a resource server (so an RP cannot read others' tokens) and a
        // resource server asking about a token issued for another audience.
        async allowedPolicy(_ctx, client, token) {
          if (token.kind !== 'AccessToken' || !token.aud) return false;
          const rs = await findResourceServerByClient(db, tenantId, client.clientId);
          return rs !== undefined && token.aud === rs.audience;
        },
      },
    },
  };
}
