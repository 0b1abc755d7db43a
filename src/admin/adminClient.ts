/**
 * Credentials for the tenant admin API (src/admin/routes.ts). An admin client can do one thing:
 * the client credentials grant for the admin API's audience with the `admin` scope, which the
 * tenant's own provider answers with a JWT access token (oidc/resourceServerConfig.ts). It has
 * no redirect URI and no response type, so no user can be signed in through it.
 */
import { randomBytes } from 'node:crypto';
import { appendAudit } from '../audit/log.ts';
import { InputError } from '../errors.ts';
import type { Database } from '../store/db.ts';
import type { DataKey } from '../store/dataKey.ts';
import { insertServiceClient } from '../account/clients.ts';
import { inTenant } from '../account/tenants.ts';

export const ADMIN_SCOPE = 'admin';

/** The admin API's resource indicator and token audience for a tenant's issuer. */
export const adminAudience = (issuer: string): string => `${issuer}/admin`;

export async function createAdminClient(
  { db, dataKey }: { db: Database; dataKey: DataKey },
  tenantId: string,
  name: string,
  actor: string,
): Promise<{ clientId: string; clientSecret: string }> {
  if (!/^[^\p{Cc}]{1,100}$/u.test(name)) throw new InputError('client.invalid_name', 'client name must be 1–100 printable characters');
  const clientId = `admin-${randomBytes(12).toString('base64url')}`;
  return inTenant(db, tenantId, async (sql) => {
    const created = await insertServiceClient(sql, dataKey, tenantId, {
      clientId,
      name,
      grantTypes: ['client_credentials'],
      // Marks the client as an admin client (oidc/resourceServerConfig.ts); `scope` metadata
      // cannot say it, since oidc-provider accepts there only the OpenID scopes it serves.
      extra: { facegate_admin: true },
    });
    await appendAudit(sql, tenantId, { type: 'client.created', actor, subject: clientId, data: { name, kind: 'admin' } });
    return created;
  });
}
