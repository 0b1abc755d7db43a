/**
 * Shreds the custodian's rows that belong to no one. Deleting a user or tenant already deletes
 * their key, passkeys and nonces (0007's cascades); what cascades miss are rows written without
 * the foreign-key triggers — a data-only restore (`pg_restore --disable-triggers`, which sets
 * session_replication_role = replica) of the custodian's tables from a backup taken before users
 * or tenants were deleted — and keys sealed under a destroyed KEK epoch (a restore from before the
 * last rotation), which nothing can open again: their users are as if never enrolled. Runs with
 * the rotation (custodianMaintenance.ts) and as `facegate custodian shred-orphans`. Audited per
 * tenant (counts) and, for a destroyed epoch's key, per user; a vanished tenant has no log left,
 * so its rows are only counted in the report.
 */
import { appendAudit } from '../audit/log.ts';
import type { Database, Sql } from '../store/db.ts';
import type { KekRing } from './kek.ts';
import { tenantIds } from './kekRotation.ts';

export type OrphanReport = { keys: number; passkeys: number; nonces: number; destroyedEpochKeys: number; vanishedTenantRows: number };

const ACTOR = 'custodian';
const TABLES = ['custodian_keys', 'custodian_passkeys', 'custodian_nonces'] as const;

/** Deletes the tenant's rows of `table` whose user does not exist; returns how many. */
async function userless(sql: Sql, table: (typeof TABLES)[number], tenantId: string): Promise<number> {
  const { rowCount } = await sql.query(
    `DELETE FROM ${table} o WHERE tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = o.tenant_id AND u.id = o.user_id)`,
    [tenantId],
  );
  return rowCount;
}

/** `db`: the custodian's handle (facegate_custodian). */
export async function shredOrphans(db: Database, ring: KekRing): Promise<OrphanReport> {
  const destroyedIds = ring.reload().destroyed.map((d) => d.id);
  const report: OrphanReport = { keys: 0, passkeys: 0, nonces: 0, destroyedEpochKeys: 0, vanishedTenantRows: 0 };
  for (const tenantId of await tenantIds(db)) {
    await db.withTenant(tenantId, async (sql) => {
      const keys = await userless(sql, 'custodian_keys', tenantId);
      const passkeys = await userless(sql, 'custodian_passkeys', tenantId);
      const nonces = await userless(sql, 'custodian_nonces', tenantId);
      const { rows } = await sql.query<{ user_id: string; kek_id: string }>('DELETE FROM custodian_keys WHERE tenant_id = $1 AND kek_id = ANY($2::text[]) RETURNING user_id, kek_id', [tenantId, destroyedIds]);
      for (const r of rows) {
        await appendAudit(sql, tenantId, { type: 'custodian.key_shredded', actor: ACTOR, subject: r.user_id, data: { existed: true, reason: 'kek_epoch_destroyed', kekId: r.kek_id } });
      }
      if (keys + passkeys + nonces > 0) {
        await appendAudit(sql, tenantId, { type: 'custodian.orphans_shredded', actor: ACTOR, subject: tenantId, data: { orphanKeyCount: keys, passkeyCount: passkeys, nonceCount: nonces } });
      }
      report.keys += keys;
      report.passkeys += passkeys;
      report.nonces += nonces;
      report.destroyedEpochKeys += rows.length;
    });
  }
  // Without a tenant set, the custodian sees only rows of tenants that no longer exist (0011).
  await db.transaction(async (sql) => {
    for (const table of TABLES) report.vanishedTenantRows += (await sql.query(`DELETE FROM ${table} o WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = o.tenant_id)`)).rowCount;
  });
  return report;
}
