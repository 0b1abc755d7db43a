import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inlineParams } from '../../src/store/db.ts';
import { freshDatabase } from '../support/services.ts';

const tricky = [
  "O'Brien",
  "'); DROP TABLE users; --",
  'back\\slash \\x41 \\\\',
  'ünïcödé ✓ 𝄞',
  '$1 $2 literal dollars',
  '',
];

test('inlineParams leaves quoted text alone and rejects missing parameters', () => {
  assert.equal(inlineParams("SELECT '$1', $1", ['x']), "SELECT '$1', 'x'");
  assert.throws(() => inlineParams('SELECT $2', ['x']), /no parameter \$2/);
  assert.throws(() => inlineParams('SELECT $1', ['a\0b']), /NUL/);
});

test('one-round-trip statements store and return exactly what parameterised queries do, under RLS', async () => {
  const db = await freshDatabase();
  try {
    await db.asOwner((sql) => sql.query("INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('globex', 'Globex')"));
    for (const [i, text] of tricky.entries()) {
      const payload = { text, nested: { list: [text, 1, null, true] } };
      const expires = new Date(Date.UTC(2030, 0, 1, 12, 0, 0, 123));
      await db.statement(
        'acme',
        'INSERT INTO oidc_payloads (tenant_id, model, id, payload, grant_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
        ['acme', 'Probe', `id-${i}`, payload, text, expires],
      );
      const viaStatement = await db.statement<{ payload: unknown; grant_id: string; expires_at: Date }>(
        'acme',
        'SELECT payload, grant_id, expires_at FROM oidc_payloads WHERE model = $1 AND id = ANY($2)',
        ['Probe', [`id-${i}`]],
      );
      const viaParams = await db.withTenant('acme', (sql) =>
        sql.query<{ payload: unknown; grant_id: string; expires_at: Date }>('SELECT payload, grant_id, expires_at FROM oidc_payloads WHERE id = $1', [`id-${i}`]),
      );
      assert.deepEqual(viaStatement.rows, viaParams.rows);
      assert.deepEqual(viaStatement.rows[0].payload, payload);
      assert.equal(viaStatement.rows[0].grant_id, text);
      assert.equal(viaStatement.rows[0].expires_at.getTime(), expires.getTime());
    }
    const users = await db.withTenant('acme', (sql) => sql.query('SELECT count(*)::int AS n FROM users'));
    assert.equal(users.rows[0].n, 0, 'the injection attempt was stored as text, not run');
    const other = await db.statement('globex', 'SELECT * FROM oidc_payloads');
    assert.equal(other.rowCount, 0, 'RLS applies to statements too');
    await assert.rejects(db.statement('acme', 'INSERT INTO oidc_payloads (tenant_id, model, id, payload) VALUES ($1, $2, $3, $4)', ['globex', 'P', 'x', {}]), /row-level security/);
    const after = await db.withTenant('acme', (sql) => sql.query('SELECT 1'));
    assert.equal(after.rowCount, 1, 'a failed statement leaves the connection usable');
  } finally {
    await db.close();
  }
});
