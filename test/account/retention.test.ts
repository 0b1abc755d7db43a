/**
 * Retention with a controlled clock: face templates unused for the policy's days are deleted
 * (key shredded, a backup no longer matches, audited), expired OIDC rows purged, audit rows older
 * than the policy pruned as a prefix whose head is recorded, so the rest still verifies and an
 * edited or further deleted row is still caught. Old audit rows are written with Date mocked to
 * the past (their time is part of their MAC), templates' times are set in SQL.
 */
import { after, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createTenant } from '../../src/account/tenants.ts';
import { createUser, type User } from '../../src/account/users.ts';
import type { DeletionDeps } from '../../src/account/deletion.ts';
import { DEFAULT_RETENTION, retentionPolicy, runRetention, scheduleRetention, setRetentionPolicy } from '../../src/account/retention.ts';
import { appendAudit } from '../../src/audit/log.ts';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import { createLocalCustodian } from '../../src/custodian/localCustodian.ts';
import type { Custodian } from '../../src/custodian/custodian.ts';
import { relyingPartyFrom } from '../../src/faceLogin/relyingParty.ts';
import { CUSTODIAN_ROLE } from '../../src/store/db.ts';
import { deviceBeforeEnrollment, matchLive } from '../support/liveAttempt.ts';
import { createFaceTemplates } from '../../src/template/faceTemplates.ts';
import { adapterFactory } from '../../src/oidc/adapter.ts';
import { freshDatabase, freshKeyValueStore, type TestDatabase } from '../support/services.ts';
import { randomUnit } from '../template/vectors.ts';
import type { KeyValueStore } from '../../src/store/kv.ts';
import { testKekRing } from '../template/fixtures.ts';

const DAY = 86_400_000;
let db: TestDatabase;
let kv: KeyValueStore;
let deps: DeletionDeps;
const templates = () => deps.face!.templates();
const rp = relyingPartyFrom('https://id.acme.example');
let custodian: Custodian;
const matchFace = (tenantId: string, userId: string, probe: Float32Array) => matchLive(templates(), tenantId, userId, probe, 0.9);

before(async () => {
  db = await freshDatabase();
  kv = freshKeyValueStore();
  custodian = createLocalCustodian({ db: db.forRole(CUSTODIAN_ROLE), kv, keks: testKekRing(), rp });
  const t = createFaceTemplates({ db, custodian, model: 'test-128' });
  deps = { db, kv, dataKey: db.dataKey, face: { templates: () => t } };
});
after(async () => {
  await kv.close();
  await db.close();
});

/** Runs `fn` with Date (only) at `at`. */
async function at<T>(when: number, fn: () => Promise<T>): Promise<T> {
  mock.timers.enable({ apis: ['Date'], now: when });
  try {
    return await fn();
  } finally {
    mock.timers.reset();
  }
}

async function enrolled(tenant: string, name: string, createdDaysAgo: number, usedDaysAgo: number | null): Promise<User & { face: Float32Array }> {
  const user = await createUser(db, tenant, { username: name }, 'test');
  const face = randomUnit(128);
  await deviceBeforeEnrollment(custodian, tenant, user.id, rp);
  await templates().enroll(tenant, user.id, face.slice());
  await db.asOwner((sql) =>
    sql.query(`UPDATE face_templates SET created_at = now() - make_interval(days => $2), last_used_at = CASE WHEN $3::int IS NULL THEN NULL ELSE now() - make_interval(days => $3::int) END WHERE user_id = $1`, [user.id, createdDaysAgo, usedDaysAgo]),
  );
  return { ...user, face };
}

const hasTemplate = async (tenant: string, userId: string) =>
  (await db.withTenant(tenant, (sql) => sql.query('SELECT 1 FROM face_templates WHERE user_id = $1', [userId]))).rows.length === 1;

describe('retention of face data', () => {
  it('deletes templates unused for faceUnusedDays (last match, else enrollment), audited; a backup no longer matches', async () => {
    await createTenant(db, { id: 'faces', name: 'Faces' }, 'test');
    const stale = await enrolled('faces', 'stale', 1200, 1100);
    const neverUsed = await enrolled('faces', 'never-used', 1100, null);
    const recent = await enrolled('faces', 'recent', 1200, 10);
    const backup = (await db.asOwner((sql) => sql.query('SELECT * FROM face_templates WHERE user_id = $1', [stale.id]))).rows[0];

    const [report] = await runRetention(deps, { tenants: ['faces'] });
    assert.equal(report.facesDeleted, 2);
    assert.deepEqual([await hasTemplate('faces', stale.id), await hasTemplate('faces', neverUsed.id), await hasTemplate('faces', recent.id)], [false, false, true]);
    const deleted = (await db.withTenant('faces', (sql) => sql.query<{ actor: string; subject: string }>("SELECT actor, subject FROM audit_events WHERE type = 'face.data_deleted' ORDER BY seq"))).rows;
    assert.deepEqual(deleted.map((r) => r.actor), ['retention', 'retention']);
    assert.deepEqual(new Set(deleted.map((r) => r.subject)), new Set([stale.id, neverUsed.id]));
    await db.asOwner((sql) => sql.query('INSERT INTO face_templates (tenant_id, user_id, model, dim, public_key, ciphertext) VALUES ($1, $2, $3, $4, $5, $6)', ['faces', stale.id, backup.model, backup.dim, backup.public_key, backup.ciphertext]));
    await assert.rejects(matchFace('faces', stale.id, stale.face.slice()), { code: 'template.not_enrolled' });
    assert.equal(await hasTemplate('faces', stale.id), false, 'the restored row, useless without its key, is dropped by that match');

    // A match is a use: it moves last_used_at to now, so the recent template outlives a clock 1000 days on…
    assert.ok((await matchFace('faces', recent.id, recent.face.slice())).accepted);
    assert.equal((await runRetention(deps, { tenants: ['faces'], now: new Date(Date.now() + 1000 * DAY) }))[0].facesDeleted, 0);
    assert.equal(await hasTemplate('faces', recent.id), true);
    // …but not one 1096 days on.
    assert.equal((await runRetention(deps, { tenants: ['faces'], now: new Date(Date.now() + 1096 * DAY) }))[0].facesDeleted, 1);
    assert.equal(await hasTemplate('faces', recent.id), false);
  });

  it('follows a per-tenant policy, validated', async () => {
    await createTenant(db, { id: 'strict', name: 'Strict' }, 'test');
    assert.deepEqual(await retentionPolicy(deps, 'strict'), DEFAULT_RETENTION);
    assert.deepEqual(await setRetentionPolicy(deps, 'strict', { faceUnusedDays: 30 }, 'test'), { faceUnusedDays: 30, auditDays: 1095 });
    const user = await enrolled('strict', 'month-old', 40, 31);
    assert.equal((await runRetention(deps, { tenants: ['strict'] }))[0].facesDeleted, 1);
    assert.equal(await hasTemplate('strict', user.id), false);
    await assert.rejects(setRetentionPolicy(deps, 'strict', { auditDays: 10 }, 'test'), { code: 'retention.invalid_days', status: 400 });
    await assert.rejects(setRetentionPolicy(deps, 'strict', { faceUnusedDays: 1.5 }, 'test'), { code: 'retention.invalid_days' });
    await assert.rejects(setRetentionPolicy(deps, 'no-such', { faceUnusedDays: 5 }, 'test'), { code: 'tenant.not_found' });
  });
});

describe('retention of OIDC rows', () => {
  it('purges expired rows (stale interactions, tokens) as of the clock and keeps live ones', async () => {
    await createTenant(db, { id: 'tokens', name: 'Tokens' }, 'test');
    const Adapter = adapterFactory(db, db.dataKey, 'tokens');
    await new Adapter('Interaction').upsert('stale-interaction', { uid: 'u1' }, 60);
    await new Adapter('AccessToken').upsert('long-token', { accountId: 'x' }, 7200);
    const [report] = await runRetention(deps, { tenants: ['tokens'], now: new Date(Date.now() + 3600_000) });
    assert.equal(report.oidcRows, 1);
    assert.equal(await new Adapter('Interaction').find('stale-interaction'), undefined);
    assert.ok(await new Adapter('AccessToken').find('long-token'));
  });
});

describe('retention of the audit log', () => {
  it('prunes rows older than auditDays, records the pruned head, and what is left still verifies and detects edits', async () => {
    const fourYearsAgo = Date.now() - 4 * 365 * DAY;
    await at(fourYearsAgo, async () => {
      await createTenant(db, { id: 'old', name: 'Old' }, 'test');
      for (let i = 0; i < 5; i++) await db.withTenant('old', (sql) => appendAudit(sql, 'old', { type: 'test.old_event', actor: 'test', data: { i } }));
    });
    for (let i = 0; i < 3; i++) await db.withTenant('old', (sql) => appendAudit(sql, 'old', { type: 'test.recent_event', actor: 'test', data: { i } }));
    const before = await verifyAuditChain(db, 'old');
    assert.equal(before.ok, true);

    const [report] = await runRetention(deps, { tenants: ['old'] });
    assert.equal(report.auditPruned, 6, 'tenant.created and the five old events');
    const rows = (await db.withTenant('old', (sql) => sql.query<{ seq: string; type: string; data: Record<string, unknown> }>('SELECT seq, type, data FROM audit_events ORDER BY seq'))).rows;
    assert.deepEqual(rows.map((r) => r.type), ['test.recent_event', 'test.recent_event', 'test.recent_event', 'audit.pruned', 'retention.run']);
    assert.equal(rows[3].data.throughSeq, 6);
    const after = await verifyAuditChain(db, 'old', [before.head!]);
    assert.equal(after.ok, true, JSON.stringify(after.problem));
    assert.equal(after.checked, 5);
    // A second run has nothing left to prune.
    assert.equal((await runRetention(deps, { tenants: ['old'] }))[0].auditPruned, 0);

    // An edited row is detected…
    await db.asOwner((sql) => sql.query(`UPDATE audit_events SET data = '{"i":9}' WHERE tenant_id = 'old' AND seq = 7`));
    assert.deepEqual((await verifyAuditChain(db, 'old')).problem, { seq: 7, reason: 'hash_mismatch' });
    await db.asOwner((sql) => sql.query(`UPDATE audit_events SET data = '{"i":0}' WHERE tenant_id = 'old' AND seq = 7`));
    assert.equal((await verifyAuditChain(db, 'old')).ok, true);
    // …and so is deleting the next row, or forging the checkpoint to cover it.
    await db.asOwner((sql) => sql.query(`DELETE FROM audit_events WHERE tenant_id = 'old' AND seq = 7`));
    assert.deepEqual((await verifyAuditChain(db, 'old')).problem, { seq: 1, reason: 'gap' });
    await db.asOwner((sql) => sql.query(`UPDATE audit_events SET data = jsonb_set(data, '{throughSeq}', '7') WHERE tenant_id = 'old' AND type = 'audit.pruned'`));
    assert.equal((await verifyAuditChain(db, 'old')).ok, false);
  });

  it('the database refuses to prune rows younger than 30 days, or another tenant\'s, even when asked directly by the app role', async () => {
    await createTenant(db, { id: 'fresh', name: 'Fresh' }, 'test');
    await assert.rejects(db.withTenant('fresh', (sql) => sql.query("SELECT prune_audit_events('fresh', 1)")), /younger than 30 days/);
    await assert.rejects(db.withTenant('fresh', (sql) => sql.query("SELECT prune_audit_events('old', 100)")), /not the current tenant/);
    await assert.rejects(db.withTenant('fresh', (sql) => sql.query("DELETE FROM audit_events WHERE seq = 1")), /permission denied/);
  });
});

describe('the retention timer', () => {
  it('runs on its interval, does not hold the process, and stops when cancelled', async () => {
    await createTenant(db, { id: 'timer', name: 'Timer' }, 'test');
    await enrolled('timer', 'stale', 2000, 2000);
    const errors: unknown[] = [];
    const stop = scheduleRetention(deps, (e) => errors.push(e), 50);
    for (let i = 0; i < 100 && (await db.withTenant('timer', (sql) => sql.query('SELECT 1 FROM face_templates'))).rows.length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    await stop();
    assert.deepEqual(errors, []);
    assert.equal((await db.withTenant('timer', (sql) => sql.query('SELECT 1 FROM face_templates'))).rows.length, 0);
  });
});
