/**
 * Upgrade of rows written before the provider sealed its secrets at rest: TOTP secrets,
 * signing keys and client secrets are sealed, OIDC rows rekeyed by the hash of their bearer
 * ids. SQL migrations cannot do this (they have no data key), so it runs after them wherever
 * the key is at hand: at start and in the admin CLIs. Idempotent; once done it only reads.
 */
import { sealLegacyClientSecrets } from '../account/clients.ts';
import { sealLegacyTotpSecrets } from '../account/totp.ts';
import { sealLegacyPayloads } from '../oidc/adapter.ts';
import { sealLegacySigningKeys } from '../oidc/keys.ts';
import type { DataKey } from './dataKey.ts';
import type { Database } from './db.ts';

/** Seals every tenant's rows still in clear; returns how many rows changed. */
export async function sealLegacyRows(db: Database, dataKey: DataKey): Promise<number> {
  const { rows } = await db.transaction((sql) => sql.query<{ id: string }>('SELECT id FROM tenants ORDER BY id'));
  let changed = 0;
  for (const { id } of rows) {
    changed += await db.withTenant(id, async (sql) =>
      (await sealLegacyTotpSecrets(sql, dataKey, id))
      + (await sealLegacyClientSecrets(sql, dataKey, id))
      + (await sealLegacySigningKeys(sql, dataKey, id))
      + (await sealLegacyPayloads(sql, dataKey, id)),
    );
  }
  return changed;
}
