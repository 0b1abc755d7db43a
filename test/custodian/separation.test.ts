/**
 * Separation in Postgres (migration 0007): the provider's role reads templates and no key, the
 * custodian's reads keys and no template, each checked both through the handle's SET ROLE and
 * through a login role as production connects; a deleted tenant or user leaves no key, passkey
 * or nonce behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createLocalCustodian } from '../../src/custodian/localCustodian.ts';
import { custodianConnectionPowers } from '../../src/custodian/connectionCheck.ts';
import { CUSTODIAN_ROLE, openDatabase } from '../../src/store/db.ts';
import { attemptsFor, TEST_RP } from '../support/liveAttempt.ts';
import { seedTenant, seedUser, testStores, testKekRing } from '../template/fixtures.ts';

const { db, kv } = await testStores();
await seedTenant(db, 'acme');
const cdb = db.forRole(CUSTODIAN_ROLE);
const custodian = createLocalCustodian({ db: cdb, kv, keks: testKekRing(), rp: TEST_RP });
const CUSTODIAN_TABLES = ['custodian_keys', 'custodian_passkeys', 'custodian_nonces'];
const denied = { code: '42501' };

/** Runs `fn` on a connection that logs in as `url`'s role, as production's processes do. */
async function asLogin(url: string, fn: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT set_config('app.tenant_id', 'acme', false)");
    await fn(client);
  } finally {
    await client.end();
  }
}

test('facegate_app cannot read or write any custodian table', async () => {
  for (const table of CUSTODIAN_TABLES) {
    await assert.rejects(db.withTenant('acme', (sql) => sql.query(`SELECT * FROM ${table}`)), denied, table);
    await assert.rejects(db.withTenant('acme', (sql) => sql.query(`DELETE FROM ${table}`)), denied, table);
  }
  await assert.rejects(
    db.withTenant('acme', (sql) =>
      sql.query("INSERT INTO custodian_passkeys (tenant_id, user_id, credential_id, public_key) VALUES ('acme', gen_random_uuid(), 'x', '\\x00')"),
    ),
    denied,
    'the provider cannot plant a passkey for the custodian',
  );
  if (db.appUrl) {
    await asLogin(db.appUrl, async (app) => {
      for (const table of CUSTODIAN_TABLES) await assert.rejects(app.query(`SELECT * FROM ${table}`), denied, `login role: ${table}`);
    });
  }
});

test('facegate_custodian cannot read templates, and can only append to the audit log', async () => {
  await assert.rejects(cdb.withTenant('acme', (sql) => sql.query('SELECT * FROM face_templates')), denied);
  await assert.rejects(cdb.withTenant('acme', (sql) => sql.query('SELECT ciphertext FROM face_templates')), denied);
  await assert.rejects(cdb.withTenant('acme', (sql) => sql.query('SELECT * FROM users')), denied, 'nor the user directory');
  await assert.rejects(cdb.withTenant('acme', (sql) => sql.query('SELECT data FROM audit_events')), denied, 'nor the audit data');
  await assert.rejects(cdb.withTenant('acme', (sql) => sql.query('DELETE FROM audit_events')), denied);
  await assert.rejects(cdb.withTenant('acme', (sql) => sql.query("UPDATE audit_events SET type = 'x'")), denied);
  await cdb.withTenant('acme', (sql) => sql.query('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1'));
  if (db.custodianUrl) {
    await asLogin(db.custodianUrl, async (c) => {
      await assert.rejects(c.query('SELECT * FROM face_templates'), denied, 'login role');
      await c.query('SELECT count(*) FROM custodian_keys');
    });
  }
});

test('deleting a user or a whole tenant leaves no key, passkey or nonce', async () => {
  await seedTenant(db, 'doomed');
  const counts = async (tenant: string) => {
    const { rows } = await db.asOwner((sql) =>
      sql.query<{ n: string }>(
        `SELECT (SELECT count(*) FROM custodian_keys WHERE tenant_id = $1) + (SELECT count(*) FROM custodian_passkeys WHERE tenant_id = $1)
              + (SELECT count(*) FROM custodian_nonces WHERE tenant_id = $1) AS n`,
        [tenant],
      ),
    );
    return Number(rows[0].n);
  };
  const users = [await seedUser(db, 'doomed'), await seedUser(db, 'doomed')];
  for (const u of users) {
    await custodian.createUserKey('doomed', u);
    await (await attemptsFor(custodian, 'doomed', u)).next();
  }
  assert.equal(await counts('doomed'), 6);
  await db.withTenant('doomed', (sql) => sql.query('DELETE FROM users WHERE id = $1', [users[0]]));
  assert.equal(await counts('doomed'), 3, 'the deleted user’s key, passkey and nonce are gone');
  await db.asOwner((sql) => sql.query("DELETE FROM tenants WHERE id = 'doomed'"));
  assert.equal(await counts('doomed'), 0, 'nothing of the tenant is left to unseal');
});

test('the custodian service’s startup check: its login must not read templates (owner and superuser are refused)', async (t) => {
  if (!db.url) return t.skip('Postgres only: PGlite has one user');
  assert.deepEqual((await custodianConnectionPowers(db)).length, 1, 'the owner (a superuser here) is reported');
  const asCustodian = openDatabase({ url: db.custodianUrl, dataKey: db.dataKey });
  const asApp = openDatabase({ url: db.appUrl, dataKey: db.dataKey });
  try {
    assert.deepEqual(await custodianConnectionPowers(asCustodian), []);
    assert.match((await custodianConnectionPowers(asApp)).join(), /may read face_templates/, 'the provider’s login is refused too');
  } finally {
    await Promise.all([asCustodian.close(), asApp.close()]);
  }
});
