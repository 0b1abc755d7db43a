import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertBiometricConsent, listBiometricConsents, recordBiometricConsent, revokeBiometricConsent } from '../../src/faceLogin/biometricConsent.ts';
import { CONSENT_TEXT } from '../../src/faceLogin/consentText.ts';
import { createUser } from '../../src/account/users.ts';
import { createFaceTemplates, type FaceTemplates } from '../../src/template/faceTemplates.ts';
import { attemptsFor } from '../support/liveAttempt.ts';
import { randomUnit } from '../template/vectors.ts';
import { auditEvents, openWorld, TENANT, type World } from './world.ts';

let w: World;
let faceData: FaceTemplates;
before(async () => {
  w = await openWorld();
  faceData = createFaceTemplates({ db: w.db, custodian: w.deps.custodian, model: 'test-128' });
});
after(async () => {
  await w.close();
});

describe('biometric consent', () => {
  it('is required before face processing: consent.required (403) until given', async () => {
    await assert.rejects(assertBiometricConsent(w.db, TENANT, w.alice.id), { code: 'consent.required', status: 403 });
    await assert.rejects(assertBiometricConsent(w.db, TENANT, 'not-a-uuid'), { code: 'consent.required' });
  });

  it('records consent to the current text, audited, and then allows it', async () => {
    const consent = await recordBiometricConsent(w.db, TENANT, w.alice.id, CONSENT_TEXT.version);
    assert.equal(consent.textVersion, CONSENT_TEXT.version);
    assert.equal(consent.revokedAt, null);
    await assertBiometricConsent(w.db, TENANT, w.alice.id);
    const [event] = await auditEvents(w.db, 'biometric_consent.given');
    assert.deepEqual(event, { subject: w.alice.id, data: { textVersion: CONSENT_TEXT.version, replacedVersion: null } });
  });

  it('keeps a consent in force as is when given again', async () => {
    const again = await recordBiometricConsent(w.db, TENANT, w.alice.id, CONSENT_TEXT.version);
    assert.deepEqual(await listBiometricConsents(w.db, TENANT, w.alice.id), [again]);
    assert.equal((await auditEvents(w.db, 'biometric_consent.given')).length, 1);
  });

  it('records one consent when five requests give it at once', async () => {
    for (const name of ['dave', 'erin', 'frank']) {
      const user = await createUser(w.db, TENANT, { username: name }, 'test');
      const results = await Promise.all(Array.from({ length: 5 }, () => recordBiometricConsent(w.db, TENANT, user.id, CONSENT_TEXT.version)));
      assert.equal(new Set(results.map((c) => c.givenAt.getTime())).size, 1);
      assert.equal((await listBiometricConsents(w.db, TENANT, user.id)).length, 1);
      assert.equal((await auditEvents(w.db, 'biometric_consent.given')).filter((e) => e.subject === user.id).length, 1);
    }
  });

  it('refuses consent to a text version the user was not shown', async () => {
    await assert.rejects(recordBiometricConsent(w.db, TENANT, w.bob.id, '1999-01'), { code: 'consent.outdated_text', status: 409 });
  });

  it('replaces a consent to an older text with one to the current text', async () => {
    await w.db.withTenant(TENANT, (sql) => sql.query(`INSERT INTO biometric_consents (tenant_id, user_id, text_version) VALUES ($1, $2, 'old')`, [TENANT, w.bob.id]));
    await assert.rejects(assertBiometricConsent(w.db, TENANT, w.bob.id), { code: 'consent.required' });
    await recordBiometricConsent(w.db, TENANT, w.bob.id, CONSENT_TEXT.version);
    await assertBiometricConsent(w.db, TENANT, w.bob.id);
    const [current, old] = await listBiometricConsents(w.db, TENANT, w.bob.id);
    assert.deepEqual([current.textVersion, current.revokedAt, old.textVersion], [CONSENT_TEXT.version, null, 'old']);
    assert.ok(old.revokedAt instanceof Date);
  });

  it('revokes, audited: face processing is refused again, the face data is gone and the record stays', async () => {
    const faceRows = async () =>
      Number((await w.db.asOwner((sql) => sql.query('SELECT (SELECT count(*) FROM face_templates) + (SELECT count(*) FROM custodian_keys) AS n'))).rows[0].n);
    await faceData.enroll(TENANT, w.alice.id, randomUnit(128));
    assert.equal(await faceRows(), 2);
    assert.equal(await revokeBiometricConsent(w.db, faceData, TENANT, w.alice.id), true);
    await assert.rejects(assertBiometricConsent(w.db, TENANT, w.alice.id), { code: 'consent.required' });
    const attempts = await attemptsFor(w.deps.custodian, TENANT, w.alice.id, w.deps.rp);
    await assert.rejects(faceData.match(TENANT, w.alice.id, randomUnit(128), { threshold: 0.33, attempt: await attempts.next() }), { code: 'template.not_enrolled' });
    assert.equal(await faceRows(), 0);
    assert.equal(await revokeBiometricConsent(w.db, faceData, TENANT, w.alice.id), false);
    assert.deepEqual((await auditEvents(w.db, 'biometric_consent.revoked')).map((e) => e.subject), [w.alice.id]);
    const [record] = await listBiometricConsents(w.db, TENANT, w.alice.id);
    assert.ok(record.revokedAt instanceof Date);
    // Given again later: a new record, the old one kept.
    await recordBiometricConsent(w.db, TENANT, w.alice.id, CONSENT_TEXT.version);
    await assertBiometricConsent(w.db, TENANT, w.alice.id);
    assert.equal((await listBiometricConsents(w.db, TENANT, w.alice.id)).length, 2);
  });

  it('cannot be deleted by the app, and goes with the user', async () => {
    await assert.rejects(w.db.withTenant(TENANT, (sql) => sql.query('DELETE FROM biometric_consents')), /permission denied/);
    const carol = await createUser(w.db, TENANT, { username: 'carol' }, 'test');
    await recordBiometricConsent(w.db, TENANT, carol.id, CONSENT_TEXT.version);
    await w.db.asOwner((sql) => sql.query('DELETE FROM users WHERE tenant_id = $1 AND id = $2', [TENANT, carol.id]));
    assert.deepEqual(await listBiometricConsents(w.db, TENANT, carol.id), []);
  });

  it('refuses unknown users and tenants', async () => {
    await assert.rejects(recordBiometricConsent(w.db, TENANT, '00000000-0000-4000-8000-000000000000', CONSENT_TEXT.version), { code: 'user.not_found' });
    await assert.rejects(recordBiometricConsent(w.db, 'ghost', w.alice.id, CONSENT_TEXT.version), { code: 'tenant.not_found' });
  });
});

describe('consent text', () => {
  it('says what is collected, why, how long it is kept and how to delete it, under a version', () => {
    assert.match(CONSENT_TEXT.version, /^\d{4}-\d{2}$/);
    assert.deepEqual(CONSENT_TEXT.sections.map((s) => s.heading), ['What we collect', 'Why', 'How long we keep it', 'How to delete it']);
  });
});
