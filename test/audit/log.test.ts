import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendAudit, assertAuditable } from '../../src/audit/log.ts';
import { canonicalJson } from '../../src/audit/hash.ts';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import { freshDatabase, type TestDatabase } from '../support/services.ts';

let db: TestDatabase;
before(async () => {
  db = await freshDatabase();
  await db.asOwner((sql) => sql.query(`INSERT INTO tenants (id, name) VALUES ('a', 'A'), ('b', 'B')`));
});
after(async () => {
  await db.close();
});

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined members', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: null }], c: undefined } }), '{"a":{"d":[2,{"y":null,"z":1}]},"b":1}');
  });
});

describe('assertAuditable', () => {
  for (const key of ['pin', 'userPin', 'code', 'otp_code', 'clientSecret', 'password', 'embedding', 'template', 'image', 'frames', 'accessToken']) {
    it(`refuses the data key "${key}"`, () => {
      assert.throws(() => assertAuditable({ [key]: 'x' }), { code: 'audit.sensitive_data' });
    });
  }
  it('refuses sensitive keys nested in objects and arrays', () => {
    assert.throws(() => assertAuditable({ attempt: [{ ok: false, pin: '1234' }] }), { code: 'audit.sensitive_data' });
  });
  it('refuses long numeric arrays and oversized data', () => {
    assert.throws(() => assertAuditable({ vector: Array.from({ length: 128 }, () => 0.1) }), { code: 'audit.sensitive_data' });
    assert.throws(() => assertAuditable({ note: 'x'.repeat(5000) }), { code: 'audit.sensitive_data' });
  });
  it('accepts metadata about sensitive things', () => {
    assert.deepEqual(assertAuditable({ factor: 'pin', pinLength: 6, templateVersion: 2, frame_count: 3, reason: 'replay' }), {
      factor: 'pin',
      pinLength: 6,
      templateVersion: 2,
      frame_count: 3,
      reason: 'replay',
    });
  });
});

describe('appendAudit', () => {
  it('writes nothing when the data is refused', async () => {
    await assert.rejects(db.withTenant('a', (sql) => appendAudit(sql, 'a', { type: 'signin.failure', data: { pin: '123456' } })), { code: 'audit.sensitive_data' });
    const { rows } = await db.withTenant('a', (sql) => sql.query('SELECT 1 FROM audit_events'));
    assert.equal(rows.length, 0);
  });

  it('rejects a malformed event type', async () => {
    await assert.rejects(db.withTenant('a', (sql) => appendAudit(sql, 'a', { type: 'Bad Type' })), { code: 'audit.invalid_type' });
  });

  it('keeps one gap-free chain per tenant under concurrent appends', async () => {
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => {
        const t = i % 2 ? 'a' : 'b';
        return db.withTenant(t, (sql) => appendAudit(sql, t, { type: 'test.concurrent', data: { i } }));
      }),
    );
    assert.partialDeepStrictEqual(await verifyAuditChain(db, 'a'), { ok: true, checked: 6 });
    assert.partialDeepStrictEqual(await verifyAuditChain(db, 'b'), { ok: true, checked: 6 });
  });

  it('rolls back with the caller transaction', async () => {
    await assert.rejects(
      db.withTenant('b', async (sql) => {
        await appendAudit(sql, 'b', { type: 'test.rolled_back' });
        throw new Error('caller failed');
      }),
      /caller failed/,
    );
    assert.partialDeepStrictEqual(await verifyAuditChain(db, 'b'), { ok: true, checked: 6 });
  });
});
