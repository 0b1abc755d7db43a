/**
 * Per-tenant signing keys. Generated on first use and kept in `signing_keys`; rotation adds a
 * new signing key and retires the old one, which stays in the JWKS so tokens it signed still
 * verify until it is pruned. The private members of each JWK are sealed with the data key to
 * their tenant and kid: a database reader sees the public key only.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Database, Sql } from '../store/db.ts';
import type { DataKey } from '../store/dataKey.ts';

export type SigningJwk = Record<string, unknown> & { kid: string; alg: string; use: 'sig' };

/** A JWK as stored: public members in clear, the private ones in `sealed`. */
type StoredJwk = Record<string, unknown> & { kid: string; sealed?: string };

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function context(tenantId: string, kid: string): string {
  return `signing-key:${tenantId}:${kid}`;
}

function newKey(): SigningJwk {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(12).toString('base64url'), alg: 'RS256', use: 'sig' };
}

function sealJwk(dataKey: DataKey, tenantId: string, jwk: Record<string, unknown> & { kid: string }): StoredJwk {
  const publicPart: StoredJwk = { kid: jwk.kid };
  const privatePart: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(jwk)) {
    if (PRIVATE_MEMBERS.includes(name)) privatePart[name] = value;
    else publicPart[name] = value;
  }
  return { ...publicPart, sealed: dataKey.seal(JSON.stringify(privatePart), context(tenantId, jwk.kid)) };
}

function openJwk(dataKey: DataKey, tenantId: string, stored: StoredJwk): SigningJwk {
  const { sealed, ...publicPart } = stored;
  // A row without `sealed` was written before sealing and not yet upgraded (sealLegacySigningKeys).
  const privatePart = sealed === undefined ? {} : JSON.parse(dataKey.open(sealed, context(tenantId, stored.kid)).toString('utf8'));
  return { ...publicPart, ...privatePart } as SigningJwk;
}

async function insertKey(sql: Sql, dataKey: DataKey, tenantId: string): Promise<SigningJwk> {
  const jwk = newKey();
  await sql.query('INSERT INTO signing_keys (tenant_id, kid, jwk) VALUES ($1, $2, $3)', [tenantId, jwk.kid, sealJwk(dataKey, tenantId, jwk)]);
  return jwk;
}

/** Keys for the provider: the current signing key first, then retired ones (verify only). */
export async function loadSigningKeys(db: Database, dataKey: DataKey, tenantId: string): Promise<SigningJwk[]> {
  return db.withTenant(tenantId, async (sql) => {
    const { rows } = await sql.query<{ jwk: StoredJwk }>(
      'SELECT jwk FROM signing_keys ORDER BY retired_at IS NOT NULL, created_at DESC',
    );
    if (rows.length > 0) return rows.map((r) => openJwk(dataKey, tenantId, r.jwk));
    // Two processes starting at once may both get here; the advisory lock lets one generate.
    await sql.query(`SELECT pg_advisory_xact_lock(hashtext('signing_keys:' || $1))`, [tenantId]);
    const again = await sql.query<{ jwk: StoredJwk }>('SELECT jwk FROM signing_keys ORDER BY created_at DESC');
    if (again.rows.length > 0) return again.rows.map((r) => openJwk(dataKey, tenantId, r.jwk));
    return [await insertKey(sql, dataKey, tenantId)];
  });
}

/** Makes a new key the signing key and retires the previous ones; returns the new kid. */
export async function rotateSigningKey(db: Database, dataKey: DataKey, tenantId: string): Promise<string> {
  return db.withTenant(tenantId, async (sql) => {
    await sql.query('UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL');
    return (await insertKey(sql, dataKey, tenantId)).kid;
  });
}

/** Seals the private members of keys stored in clear before sealing; returns how many. */
export async function sealLegacySigningKeys(sql: Sql, dataKey: DataKey, tenantId: string): Promise<number> {
  const { rows: clear } = await sql.query<{ jwk: StoredJwk }>("SELECT jwk FROM signing_keys WHERE NOT jwk ? 'sealed'");
  for (const { jwk } of clear) {
    await sql.query('UPDATE signing_keys SET jwk = $2 WHERE kid = $1', [jwk.kid, sealJwk(dataKey, tenantId, jwk)]);
  }
  return clear.length;
}

/** Removes keys retired longer ago than `olderThanSeconds` (after tokens they signed expired). */
export async function pruneRetiredKeys(db: Database, tenantId: string, olderThanSeconds: number): Promise<number> {
  const { rowCount } = await db.withTenant(tenantId, (sql) =>
    sql.query(`DELETE FROM signing_keys WHERE retired_at < now() - make_interval(secs => $1)`, [olderThanSeconds]),
  );
  return rowCount;
}
