import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendAudit } from '../../src/audit/log.ts';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import { freshDatabase, type TestDatabase } from '../support/services.ts';

let db: TestDatabase;
let tenant = '';
let n = 0;

before(async () => {
  db = await freshDatabase();
});
after(async () => {
  await db.close();
});

// Each test gets its own tenant with a five-event chain.
beforeEach(async () => {
  tenant = `t${++n}`;
  await db.asOwner((sql) => sql.query('INSERT INTO tenants (id, name) VALUES ($1, $1)', [tenant]));
  for (let i = 1; i <= 5; i++) {
    await db.withTenant(tenant, (sql) => appendAudit(sql, tenant, { type: 'test.event', actor: 'cli', subject: `s${i}`, data: { i, nested: { b: 2, a: [1, 'x'] } } }));
  }
});

const owner = (text: string, params: unknown[]) => db.asOwner((sql) => sql.query(text, params));

describe('verifyAuditChain', () => {
  it('accepts an untouched chain, linked from the genesis hash', async () => {
    assert.deepEqual(await verifyAuditChain(db, tenant), { ok: true, checked: 5 });
    const { rows } = await db.withTenant(tenant, (sql) => sql.query<{ seq: number; prev_hash: string; hash: string }>('SELECT seq, prev_hash, hash FROM audit_events ORDER BY seq'));
    assert.equal(rows[0].prev_hash, '0'.repeat(64));
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i].prev_hash, rows[i - 1].hash);
  });

  it('detects an edited row at its seq', async () => {
    await owner(`UPDATE audit_events SET data = '{"i": 99}' WHERE tenant_id = $1 AND seq = 3`, [tenant]);
    assert.deepEqual(await verifyAuditChain(db, tenant), { ok: false, checked: 2, problem: { seq: 3, reason: 'hash_mismatch' } });
  });

  it('detects an edited row whose hash was recomputed, at the next link', async () => {
    await owner(`UPDATE audit_events SET type = 'test.forged', hash = repeat('a', 64) WHERE tenant_id = $1 AND seq = 2`, [tenant]);
    const r = await verifyAuditChain(db, tenant);
    assert.equal(r.ok, false);
    assert.equal(r.problem?.seq, 2);
  });

  it('detects a deleted middle row', async () => {
    await owner('DELETE FROM audit_events WHERE tenant_id = $1 AND seq = 3', [tenant]);
    assert.deepEqual(await verifyAuditChain(db, tenant), { ok: false, checked: 2, problem: { seq: 3, reason: 'gap' } });
  });

  it('detects a deleted first row', async () => {
    await owner('DELETE FROM audit_events WHERE tenant_id = $1 AND seq = 1', [tenant]);
    assert.deepEqual((await verifyAuditChain(db, tenant)).problem, { seq: 1, reason: 'gap' });
  });

  it('detects two rows with swapped seq', async () => {
    await owner('UPDATE audit_events SET seq = -1 WHERE tenant_id = $1 AND seq = 2', [tenant]);
    await owner('UPDATE audit_events SET seq = 2 WHERE tenant_id = $1 AND seq = 4', [tenant]);
    await owner('UPDATE audit_events SET seq = 4 WHERE tenant_id = $1 AND seq = -1', [tenant]);
    const r = await verifyAuditChain(db, tenant);
    assert.equal(r.ok, false);
    assert.equal(r.problem?.seq, 2);
  });

  it('checks only its own tenant', async () => {
    const other = `${tenant}-other`;
    await db.asOwner((sql) => sql.query('INSERT INTO tenants (id, name) VALUES ($1, $1)', [other]));
    await db.withTenant(other, (sql) => appendAudit(sql, other, { type: 'test.event' }));
    await owner(`UPDATE audit_events SET data = '{}' WHERE tenant_id = $1 AND seq = 1`, [tenant]);
    assert.deepEqual(await verifyAuditChain(db, other), { ok: true, checked: 1 });
  });
});

describe('audit_events is append-only for the app role', () => {
  it('refuses UPDATE and DELETE', async () => {
    await assert.rejects(db.withTenant(tenant, (sql) => sql.query(`UPDATE audit_events SET type = 'x' WHERE seq = 1`)), /permission denied/);
    await assert.rejects(db.withTenant(tenant, (sql) => sql.query('DELETE FROM audit_events WHERE seq = 1')), /permission denied/);
    assert.equal((await verifyAuditChain(db, tenant)).ok, true);
  });
});
