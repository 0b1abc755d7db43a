/**
 * Rows written in clear by versions before sealing at rest are upgraded with the data key: a
 * TOTP secret, a client secret, a signing key and OIDC rows (a session, an access token) are
 * sealed or rekeyed by hash, and go on working: the code verifies, the client secret and the
 * private key open, the session and token are found by their original ids.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { generate, generateSecret } from 'otplib';
import { createTenant } from '../../src/account/tenants.ts';
import { createUser } from '../../src/account/users.ts';
import { verifyTotp } from '../../src/account/totp.ts';
import { adapterFactory } from '../../src/oidc/adapter.ts';
import { loadSigningKeys } from '../../src/oidc/keys.ts';
import { ephemeralDataKey } from '../../src/store/dataKey.ts';
import { sealLegacyRows } from '../../src/store/sealLegacyRows.ts';
import type { KeyValueStore } from '../../src/store/kv.ts';
import { freshDatabase, freshKeyValueStore, type TestDatabase } from '../support/services.ts';

const T = 'acme';
let db: TestDatabase;
let kv: KeyValueStore;
const dataKey = ephemeralDataKey();

before(async () => {
  db = await freshDatabase();
  kv = freshKeyValueStore();
  await createTenant(db, { id: T, name: 'Acme' }, 'test');
});
after(async () => {
  await kv.close();
  await db.close();
});

test('clear rows of an earlier version are sealed once and keep working', async () => {
  const user = await createUser(db, T, { username: 'erin' }, 'test');
  const totpSecret = generateSecret({ length: 20 });
  const clientSecret = 'legacy-client-secret-0123456789abcdefghijklmnop';
  const jwk = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'legacy-kid', alg: 'RS256', use: 'sig' };
  const sessionId = 'legacy-session-id-0123456789abcdefghijklmnopq';
  const tokenId = 'legacy-access-token-0123456789abcdefghijklmno';
  const grantId = 'legacy-grant-id-0123456789abcdefghijklmnopqrs';
  await db.withTenant(T, async (sql) => {
    await sql.query('INSERT INTO totp_credentials (tenant_id, user_id, secret, confirmed) VALUES ($1, $2, $3, true)', [T, user.id, totpSecret]);
    await sql.query('INSERT INTO clients (tenant_id, client_id, metadata) VALUES ($1, $2, $3)', [
      T, 'legacy', { client_id: 'legacy', client_secret: clientSecret, redirect_uris: ['https://rp.example/cb'] },
    ]);
    await sql.query('INSERT INTO signing_keys (tenant_id, kid, jwk) VALUES ($1, $2, $3)', [T, jwk.kid, jwk]);
    const insert = 'INSERT INTO oidc_payloads (tenant_id, model, id, payload, grant_id, uid, expires_at) VALUES ($1, $2, $3, $4, $5, $6, now() + interval \'1 hour\')';
    await sql.query(insert, [T, 'Session', sessionId, { jti: sessionId, uid: 'legacy-session-uid', kind: 'Session' }, null, 'legacy-session-uid']);
    await sql.query(insert, [T, 'AccessToken', tokenId, { jti: tokenId, grantId, kind: 'AccessToken' }, grantId, null]);
    await sql.query(insert, [T, 'Grant', grantId, { jti: grantId, accountId: user.id, clientId: 'legacy', kind: 'Grant' }, null, null]);
  });

  assert.equal(await sealLegacyRows(db, dataKey), 5, 'TOTP secret, client secret, signing key, session and token');
  assert.equal(await sealLegacyRows(db, dataKey), 0, 'idempotent');

  const dump = await db.asOwner(async (sql) => {
    const rows: string[] = [];
    for (const table of ['totp_credentials', 'clients', 'signing_keys', 'oidc_payloads']) {
      rows.push(...(await sql.query<{ row: string }>(`SELECT t::text AS row FROM ${table} t`)).rows.map((r) => r.row));
    }
    return rows.join('\n');
  });
  for (const value of [totpSecret, clientSecret, jwk.d!, jwk.p!, sessionId, tokenId, 'legacy-session-uid']) assert.ok(!dump.includes(value), `${value.slice(0, 12)}… is no longer stored in clear`);
  assert.ok(dump.includes(grantId), 'grant ids stay as they are (consents and grant_id refer to them)');

  const deps = { db, kv, dataKey };
  assert.equal(await verifyTotp(deps, T, user.id, await generate({ secret: totpSecret })), true);
  const Adapter = adapterFactory(db, dataKey, T);
  assert.equal((await new Adapter('Client').find('legacy'))?.client_secret, clientSecret);
  assert.equal((await loadSigningKeys(db, dataKey, T))[0].d, jwk.d);
  assert.equal((await new Adapter('Session').find(sessionId))?.jti, sessionId);
  assert.equal((await new Adapter('Session').findByUid('legacy-session-uid'))?.jti, sessionId);
  assert.equal((await new Adapter('AccessToken').find(tokenId))?.grantId, grantId);
  await new Adapter('AccessToken').revokeByGrantId(grantId);
  assert.equal(await new Adapter('AccessToken').find(tokenId), undefined, 'revocation by grant still reaches upgraded tokens');
});
