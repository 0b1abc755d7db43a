/**
 * The account area is an OIDC client of its tenant's own provider: a public client (PKCE, no
 * secret) registered per tenant on first use, whose only redirect URI is the account area's
 * callback. Being first-party, it gets its `openid` grant without a consent screen
 * (firstPartyGrant); every other client still asks.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { appendAudit } from '../audit/log.ts';
import type { Database } from '../store/db.ts';
import { inTenant } from '../account/tenants.ts';

/** Not a valid id for `facegate client create` to clash with silently: createClient refuses a taken id. */
export const ACCOUNT_CLIENT_ID = 'facegate-account';

export function accountCallbackUrl(publicUrl: string, tenantId: string): string {
  return `${publicUrl}/t/${tenantId}/account/callback`;
}

/**
 * Registers (or, after PUBLIC_URL changed, updates) the tenant's account client. Idempotent
 * and race-free: concurrent first requests insert one row; the creation is audited once. A row
 * under this id that is not the account client (an operator's, whose redirect URI is elsewhere)
 * is never overwritten: signing in to the account area then fails at the provider instead.
 */
export async function ensureAccountClient(db: Database, publicUrl: string, tenantId: string): Promise<void> {
  const metadata = {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Your account',
    redirect_uris: [accountCallbackUrl(publicUrl, tenantId)],
    post_logout_redirect_uris: [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  await inTenant(db, tenantId, async (sql) => {
    const { rows } = await sql.query<{ inserted: boolean }>(
      `INSERT INTO clients (tenant_id, client_id, metadata) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (tenant_id, client_id) DO UPDATE SET metadata = EXCLUDED.metadata
         WHERE clients.metadata <> EXCLUDED.metadata AND clients.metadata->'redirect_uris'->>0 LIKE '%/t/' || $1 || '/account/callback'
       RETURNING (xmax = 0) AS inserted`,
      [tenantId, ACCOUNT_CLIENT_ID, JSON.stringify(metadata)],
    );
    if (rows[0]?.inserted) {
      await appendAudit(sql, tenantId, { type: 'client.created', actor: 'account-area', subject: ACCOUNT_CLIENT_ID, data: { redirect_uris: metadata.redirect_uris, auth_method: 'none' } });
    }
  });
}

/**
 * oidc-provider's `loadExistingGrant`: the default lookup, plus an `openid` grant made on the
 * spot for the account client, so signing in to one's own account asks for no consent.
 */
export async function loadExistingGrant(ctx: KoaContextWithOIDC) {
  const { provider, client, session, result } = ctx.oidc;
  const grantId = (result?.consent as { grantId?: string } | undefined)?.grantId ?? session?.grantIdFor(client!.clientId);
  const existing = grantId ? await provider.Grant.find(grantId) : undefined;
  if (existing) return existing;
  if (client?.clientId !== ACCOUNT_CLIENT_ID || !session?.accountId) return undefined;
  const grant = new provider.Grant({ accountId: session.accountId, clientId: ACCOUNT_CLIENT_ID });
  grant.addOIDCScope('openid');
  await grant.save();
  return grant;
}
