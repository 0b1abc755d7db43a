/**
 * Per-tenant signing keys. Generated on first use and kept in `signing_keys`; rotation adds a
 * new signing key and retires the old one, which stays in the JWKS so tokens it signed still
 * verify until it is pruned.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Database, Sql } from '../store/db.ts';

export type SigningJwk = Record<string, unknown> & { kid: string; alg: string; use: 'sig' };

function newKey(): SigningJwk {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(12).toString('base64url'), alg: 'RS256', use: 'sig' };
}

async function insertKey(sql: Sql, tenantId: string): Promise<SigningJwk> {
  const jwk = newKey();
  await sql.query('INSERT INTO signing_keys (tenant_id, kid, jwk) VALUES ($1, $2, $3)', [tenantId, jwk.kid, jwk]);
  return jwk;
}

/** Keys for the provider: the current signing key first, then retired ones (verify only). */
export async function loadSigningKeys(db: Database, tenantId: string): Promise<SigningJwk[]> {
  return db.withTenant(tenantId, async (sql) => {
    const { rows } = await sql.query<{ jwk: SigningJwk }>(
      'SELECT jwk FROM signing_keys ORDER BY retired_at IS NOT NULL, created_at DESC',
    );
    if (rows.length > 0 && rows.some((r) => r.jwk)) return rows.map((r) => r.jwk);
    // Two processes starting at once may both get here; the advisory lock lets one generate.
    await sql.query(`SELECT pg_advisory_xact_lock(hashtext('signing_keys:' || $1))`, [tenantId]);
    const again = await sql.query<{ jwk: SigningJwk }>('SELECT jwk FROM signing_keys ORDER BY created_at DESC');
    if (again.rows.length > 0) return again.rows.map((r) => r.jwk);
    return [await insertKey(sql, tenantId)];
  });
}

/** Makes a new key the signing key and retires the previous ones; returns the new kid. */
export async function rotateSigningKey(db: Database, tenantId: string): Promise<string> {
  return db.withTenant(tenantId, async (sql) => {
    await sql.query('UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL');
    return (await insertKey(sql, tenantId)).kid;
  });
}

/** Removes keys retired longer ago than `olderThanSeconds` (after tokens they signed expired). */
export async function pruneRetiredKeys(db: Database, tenantId: string, olderThanSeconds: number): Promise<number> {
  const { rowCount } = await db.withTenant(tenantId, (sql) =>
    sql.query(`DELETE FROM signing_keys WHERE retired_at < now() - make_interval(secs => $1)`, [olderThanSeconds]),
  );
  return rowCount;
}
