import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTenant, ensureTenant, listTenants } from '../../src/account/tenants.ts';
import { createUser, findUserByUsername, listUsers } from '../../src/account/users.ts';
import { freshDatabase, type TestDatabase } from '../support/services.ts';

let db: TestDatabase;
before(async () => {
  db = await freshDatabase();
});
after(async () => {
  await db.close();
});

describe('tenants', () => {
  it('creates, refuses duplicates and bad ids, and lists', async () => {
    await createTenant(db, { id: 'acme', name: ' Acme Corp ' }, 'test');
    await assert.rejects(createTenant(db, { id: 'acme', name: 'Again' }, 'test'), { code: 'tenant.exists' });
    await assert.rejects(createTenant(db, { id: 'Acme', name: 'x' }, 'test'), { code: 'tenant.invalid_id' });
    await assert.rejects(createTenant(db, { id: 'ok', name: '' }, 'test'), { code: 'tenant.invalid_name' });
    assert.equal(await ensureTenant(db, { id: 'acme', name: 'Acme' }, 'test'), false);
    assert.equal(await ensureTenant(db, { id: 'default', name: 'Default' }, 'test'), true);
    assert.deepEqual((await listTenants(db)).map((t) => [t.id, t.name]), [['acme', 'Acme Corp'], ['default', 'Default']]);
  });

  it('may be added by the app role, never renamed or deleted (a deletion would cascade to the audit log)', async () => {
    await db.transaction((sql) => sql.query(`INSERT INTO tenants (id, name) VALUES ('x', 'x')`));
    await assert.rejects(db.transaction((sql) => sql.query(`INSERT INTO tenants (id, name, created_at) VALUES ('y', 'y', now())`)), /permission denied/);
    await assert.rejects(db.transaction((sql) => sql.query(`UPDATE tenants SET name = 'y' WHERE id = 'x'`)), /permission denied/);
    await assert.rejects(db.transaction((sql) => sql.query(`DELETE FROM tenants WHERE id = 'x'`)), /permission denied/);
  });
});

describe('users', () => {
  it('creates with a normalised username, finds and lists per tenant', async () => {
    const alice = await createUser(db, 'acme', { username: 'Alice.Smith', email: 'alice@acme.example' }, 'test');
    assert.equal(alice.username, 'alice.smith');
    assert.equal((await findUserByUsername(db, 'acme', 'ALICE.smith'))?.id, alice.id);
    assert.equal(await findUserByUsername(db, 'default', 'alice.smith'), undefined);
    assert.equal(await findUserByUsername(db, 'acme', 'no such user!'), undefined);
    await createUser(db, 'default', { username: 'alice.smith' }, 'test');
    assert.deepEqual((await listUsers(db, 'acme')).map((u) => u.username), ['alice.smith']);
  });

  it('rejects bad usernames, bad emails, duplicates and unknown tenants', async () => {
    await assert.rejects(createUser(db, 'acme', { username: 'a b' }, 'test'), { code: 'user.invalid_username' });
    await assert.rejects(createUser(db, 'acme', { username: 'x'.repeat(129) }, 'test'), { code: 'user.invalid_username' });
    await assert.rejects(createUser(db, 'acme', { username: 'bob', email: 'nope' }, 'test'), { code: 'user.invalid_email' });
    await assert.rejects(createUser(db, 'acme', { username: 'ALICE.SMITH' }, 'test'), { code: 'user.exists' });
    await assert.rejects(createUser(db, 'ghost', { username: 'bob' }, 'test'), { code: 'tenant.not_found' });
  });
});
