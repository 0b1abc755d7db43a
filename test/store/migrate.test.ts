import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../../src/store/db.ts';
import { ephemeralDataKey } from '../../src/store/dataKey.ts';
import { migrate, splitStatements } from '../../src/store/migrate.ts';
import { freshDatabase } from '../support/services.ts';

test('splitStatements keeps dollar-quoted bodies and strings whole', () => {
  const parts = splitStatements("CREATE X AS $$ a; b $$; -- c; d\nINSERT INTO t VALUES ('x;y');");
  assert.deepEqual(parts, ['CREATE X AS $$ a; b $$', "INSERT INTO t VALUES ('x;y')"]);
});

test('migrations apply once on PGlite and on the configured database', async () => {
  const lite = openDatabase({ dataKey: ephemeralDataKey() });
  try {
    const first = await migrate(lite);
    assert.ok(first.includes('0001_core.sql'));
    assert.deepEqual(await migrate(lite), [], 'second run applies nothing');
  } finally {
    await lite.close();
  }
  const db = await freshDatabase();
  try {
    assert.deepEqual(await migrate(db), [], 'freshDatabase already migrated');
    const { rows } = await db.asOwner((sql) => sql.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name'));
    assert.equal(rows[0].name, '0001_core.sql');
  } finally {
    await db.close();
  }
});

test('row-level security hides other tenants rows even without a WHERE clause', async () => {
  const db = await freshDatabase();
  try {
    await db.asOwner((sql) => sql.query("INSERT INTO tenants (id, name) VALUES ('acme','Acme'), ('globex','Globex')"));
    await db.withTenant('acme', (sql) => sql.query("INSERT INTO users (tenant_id, id, username) VALUES ('acme', gen_random_uuid(), 'alice')"));
    await db.withTenant('globex', (sql) => sql.query("INSERT INTO users (tenant_id, id, username) VALUES ('globex', gen_random_uuid(), 'bob')"));
    const seenByAcme = await db.withTenant('acme', (sql) => sql.query<{ username: string }>('SELECT username FROM users'));
    assert.deepEqual(seenByAcme.rows.map((r) => r.username), ['alice']);
    await assert.rejects(
      db.withTenant('acme', (sql) => sql.query("INSERT INTO users (tenant_id, id, username) VALUES ('globex', gen_random_uuid(), 'mallory')")),
      /row-level security/,
    );
    const updated = await db.withTenant('acme', (sql) => sql.query("UPDATE users SET email = 'x@y' WHERE username = 'bob'"));
    assert.equal(updated.rowCount, 0, 'cannot touch another tenant row');
    const none = await db.transaction((sql) => sql.query('SELECT * FROM users'));
    assert.equal(none.rowCount, 0, 'no tenant set: nothing visible');
  } finally {
    await db.close();
  }
});
