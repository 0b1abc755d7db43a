/**
 * A user's OIDC consents (oidc-provider Grants) per client: listing, and revocation, which
 * deletes the grant with every token and code issued under it, so the client loses access at
 * once and the next sign-in asks for consent again. Revocations are audited.
 */
import { appendAudit } from '../audit/log.ts';
import type { Database } from '../store/db.ts';
import { inTenant } from './tenants.ts';

export type Consent = { clientId: string; grantId: string; scopes: string[] };

type GrantRow = { id: string; payload: { clientId: string; openid?: { scope?: string } } };

function grantsOf(sql: Parameters<Parameters<Database['withTenant']>[1]>[0], userId: string, clientId?: string) {
  return sql.query<GrantRow>(
    `SELECT id, payload FROM oidc_payloads
     WHERE model = 'Grant' AND payload->>'accountId' = $1 AND ($2::text IS NULL OR payload->>'clientId' = $2)
       AND (expires_at IS NULL OR expires_at > now())
     ORDER BY id`,
    [userId, clientId ?? null],
  );
}

export async function listConsents(db: Database, tenantId: string, userId: string): Promise<Consent[]> {
  const { rows } = await inTenant(db, tenantId, (sql) => grantsOf(sql, userId));
  return rows.map((r) => ({ clientId: r.payload.clientId, grantId: r.id, scopes: (r.payload.openid?.scope ?? '').split(' ').filter(Boolean) }));
}

/** Revokes the user's consent to `clientId`; returns how many grants were removed (0 when none). */
export async function revokeConsent(db: Database, tenantId: string, userId: string, clientId: string, actor: string): Promise<number> {
  return inTenant(db, tenantId, async (sql) => {
    const { rows } = await grantsOf(sql, userId, clientId);
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    // Tokens and codes carry their grant id; the grant rows themselves are keyed by it.
    await sql.query(`DELETE FROM oidc_payloads WHERE grant_id = ANY($1) OR (model = 'Grant' AND id = ANY($1))`, [ids]);
    await appendAudit(sql, tenantId, { type: 'consent.revoked', actor, subject: clientId, data: { user: userId, grants: ids.length } });
    return ids.length;
  });
}
