/**
 * The OIDC grants a user gave (oidc-provider Grant rows): which client, which scopes, claims and
 * resource scopes, and when. The account area's own grant is not listed: it is the session
 * being used. Revoking goes through account/consents.ts, which deletes the grant with every
 * token and code issued under it, so the client's refresh token fails with invalid_grant.
 */
import { revokeConsent } from '../account/consents.ts';
import { inTenant } from '../account/tenants.ts';
import { NotFoundError } from '../errors.ts';
import type { Database } from '../store/db.ts';
import { ACCOUNT_CLIENT_ID } from './accountClient.ts';

export type GrantView = { clientId: string; clientName: string; scopes: string[]; claims: string[]; resources: { uri: string; scopes: string[] }[]; grantedAt: Date | null };

type GrantPayload = { clientId: string; iat?: number; openid?: { scope?: string; claims?: string[] }; resources?: Record<string, string> };

const words = (s: string | undefined) => (s ?? '').split(' ').filter(Boolean);

export async function listGrants(db: Database, tenantId: string, userId: string): Promise<GrantView[]> {
  const { rows } = await inTenant(db, tenantId, (sql) =>
    sql.query<{ payload: GrantPayload; client_name: string | null }>(
      `SELECT g.payload, c.metadata->>'client_name' AS client_name
         FROM oidc_payloads g LEFT JOIN clients c ON c.tenant_id = g.tenant_id AND c.client_id = g.payload->>'clientId'
        WHERE g.model = 'Grant' AND g.payload->>'accountId' = $1 AND g.payload->>'clientId' <> $2
          AND (g.expires_at IS NULL OR g.expires_at > now())
        ORDER BY g.payload->>'iat' DESC, g.id`,
      [userId, ACCOUNT_CLIENT_ID],
    ),
  );
  return rows.map(({ payload: p, client_name }) => ({
    clientId: p.clientId,
    clientName: client_name ?? p.clientId,
    scopes: words(p.openid?.scope),
    // The claims every ID token carries are not something the user granted.
    claims: (p.openid?.claims ?? []).filter((c) => !['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss'].includes(c)),
    resources: Object.entries(p.resources ?? {}).map(([uri, scope]) => ({ uri, scopes: words(scope) })),
    grantedAt: typeof p.iat === 'number' ? new Date(p.iat * 1000) : null,
  }));
}

/** Revokes the user's grants to `clientId` (NotFoundError `grant.not_found` when there is none); audited as `consent.revoked`. */
export async function revokeGrant(db: Database, tenantId: string, userId: string, clientId: string): Promise<void> {
  if (clientId === ACCOUNT_CLIENT_ID || (await revokeConsent(db, tenantId, userId, clientId, userId)) === 0) {
    throw new NotFoundError('grant.not_found', 'you have no grant to this application');
  }
}
