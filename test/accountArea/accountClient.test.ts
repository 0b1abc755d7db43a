/**
 * The per-tenant account client: registered once under concurrent first requests (audited once),
 * updated when PUBLIC_URL changes, and never written over an operator's client that holds the id.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase, type TestDatabase } from '../support/services.ts';
import { ensureTenant } from '../../src/account/tenants.ts';
import { createClient } from '../../src/account/clients.ts';
import { ACCOUNT_CLIENT_ID, ensureAccountClient } from '../../src/accountArea/accountClient.ts';

let db: TestDatabase;

before(async () => {
  db = await freshDatabase();
  await ensureTenant(db, { id: 'one', name: 'One' }, 'test');
  await ensureTenant(db, { id: 'two', name: 'Two' }, 'test');
});

after(async () => {
  await db?.close();
});

const metadataOf = async (tenant: string) =>
  (await db.withTenant(tenant, (sql) => sql.query<{ metadata: { redirect_uris: string[]; token_endpoint_auth_method: string } }>('SELECT metadata FROM clients WHERE client_id = $1', [ACCOUNT_CLIENT_ID]))).rows;

test('8 concurrent first requests register one public client, audited once; a new PUBLIC_URL updates its redirect URI', async () => {
  await Promise.all(Array.from({ length: 8 }, () => ensureAccountClient(db, 'http://localhost:3000', 'one')));
  const rows = await metadataOf('one');
  assert.equal(rows.length, 1);
  assert.deepEqual(rows[0].metadata.redirect_uris, ['http://localhost:3000/t/one/account/callback']);
  assert.equal(rows[0].metadata.token_endpoint_auth_method, 'none');
  const audited = await db.withTenant('one', (sql) => sql.query("SELECT 1 FROM audit_events WHERE type = 'client.created' AND subject = $1", [ACCOUNT_CLIENT_ID]));
  assert.equal(audited.rows.length, 1);
  await ensureAccountClient(db, 'https://id.example.com', 'one');
  assert.deepEqual((await metadataOf('one'))[0].metadata.redirect_uris, ['https://id.example.com/t/one/account/callback']);
});

test('an operator\'s client registered under the id first is left as it is', async () => {
  await createClient({ db, dataKey: db.dataKey }, 'two', { clientId: ACCOUNT_CLIENT_ID, redirectUris: ['https://app.example.com/cb'] }, 'test');
  await ensureAccountClient(db, 'http://localhost:3000', 'two');
  assert.deepEqual((await metadataOf('two'))[0].metadata.redirect_uris, ['https://app.example.com/cb']);
});
