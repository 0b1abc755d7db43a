/**
 * oidc-provider storage adapter on Postgres/PGlite, one instance per model and tenant.
 * Rows live in `oidc_payloads` (RLS by tenant); clients come from the `clients` table that the
 * admin CLI writes, so they are read-only here. Expired rows are invisible and swept.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Database } from '../store/db.ts';

type PayloadRow = { payload: AdapterPayload; consumed_at: Date | null };

const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

export function adapterFactory(db: Database, tenantId: string) {
  return class TenantAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are managed by the admin CLI');
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      await db.statement(
          tenantId,
          `INSERT INTO oidc_payloads (tenant_id, model, id, payload, grant_id, user_code, uid, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (tenant_id, model, id) DO UPDATE
             SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, user_code = EXCLUDED.user_code,
                 uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at`,
          [tenantId, this.model, id, payload, payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null, expiresAt],
      );
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') {
        const { rows } = await db.statement<{ metadata: AdapterPayload; min_acr: string | null }>(
          tenantId,
          'SELECT metadata, min_acr FROM clients WHERE client_id = $1',
          [id],
        );
        const row = rows[0];
        // The operator's floor lives in its own column so the CLI can change it alone.
        return row && { ...row.metadata, ...(row.min_acr ? { facegate_min_acr: row.min_acr } : {}) };
      }
      return this.findBy('id', id);
    }

    findByUid(uid: string) {
      return this.findBy('uid', uid);
    }

    findByUserCode(userCode: string) {
      return this.findBy('user_code', userCode);
    }

    private async findBy(column: 'id' | 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
      const { rows } = await db.statement<PayloadRow>(
        tenantId,
        `SELECT payload, consumed_at FROM oidc_payloads
         WHERE model = $1 AND ${column} = $2 AND (expires_at IS NULL OR expires_at > now())`,
        [this.model, value],
      );
      const row = rows[0];
      if (!row) return undefined;
      return row.consumed_at ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : row.payload;
    }

    async consume(id: string): Promise<void> {
      await db.statement(tenantId, 'UPDATE oidc_payloads SET consumed_at = now() WHERE model = $1 AND id = $2', [this.model, id]);
    }

    async destroy(id: string): Promise<void> {
      await db.statement(tenantId, 'DELETE FROM oidc_payloads WHERE model = $1 AND id = $2', [this.model, id]);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.statement(tenantId, 'DELETE FROM oidc_payloads WHERE grant_id = $1 AND model = ANY($2)', [grantId, [...GRANTABLE]]);
    }
  };
}

/** Deletes expired OIDC rows of every tenant; returns how many. Run periodically. */
export async function sweepExpiredPayloads(db: Database): Promise<number> {
  // Tenant by tenant, as the app role: the server's connection cannot see past row-level security.
  const { rows } = await db.transaction((sql) => sql.query<{ id: string }>('SELECT id FROM tenants'));
  let swept = 0;
  for (const { id } of rows) swept += (await db.statement(id, 'DELETE FROM oidc_payloads WHERE expires_at <= now()')).rowCount;
  return swept;
}
