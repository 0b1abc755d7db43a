/**
 * The account area's deletions over HTTP (the deletion itself is account/deletion.ts, tested
 * there): face data shown (enrolled when, model, never the template) then deleted; the biometric
 * consent withdrawn; the account deleted after typing the username — each behind the recent
 * sign-in gate and CSRF — after which the RP's refresh token fails, the PIN signs nobody in and
 * the account session is gone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../support/server.ts';
import { FormDriver } from '../support/browser-less.ts';
import { accountPath, csrfOf, forgeSession } from '../support/accountArea.ts';
import { authorize, exchangeCode, registerRp, tokenRequest, type Rp } from '../support/oidcFlow.ts';
import type { RunningServer } from '../../src/main.ts';
import { createUser, findUserById, type User } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';
import { authenticatePin } from '../../src/account/authenticate.ts';
import { hasBiometricConsent, recordBiometricConsent } from '../../src/faceLogin/biometricConsent.ts';
import { CONSENT_TEXT } from '../../src/faceLogin/consentText.ts';
import { templateExists } from '../../src/template/templateStore.ts';

const TENANT = 'default';
const ACCOUNT = accountPath(TENANT);
let server: RunningServer;
let rp: Rp;

/** A user with a PIN, a biometric consent and a template row (ciphertext stand-in: no face pipeline here). */
async function enrolledUser(username: string, pin: string): Promise<User> {
  const user = await createUser(server.db, TENANT, { username }, 'test');
  await setPin(server.db, TENANT, user.id, pin, 'test');
  await recordBiometricConsent(server.db, TENANT, user.id, CONSENT_TEXT.version);
  await server.db.withTenant(TENANT, (sql) =>
    sql.query('INSERT INTO face_templates (tenant_id, user_id, model, dim, public_key, ciphertext) VALUES ($1, $2, $3, 512, $4, $5)', [
      TENANT, user.id, 'test-model', Buffer.from('PUBLICKEYBYTES'), Buffer.from('CIPHERTEXTBYTES'),
    ]),
  );
  return user;
}

async function session(user: User, ageSeconds: number) {
  const driver = new FormDriver(server.url);
  forgeSession(driver, server.dataKey, TENANT, user.id, ageSeconds);
  const page = await driver.get(ACCOUNT);
  assert.equal(page.status, 200);
  return { driver, page, csrf: csrfOf(page.html) };
}

const hasTemplate = (user: User) => server.db.withTenant(TENANT, (sql) => templateExists(sql, TENANT, user.id));

before(async () => {
  server = await startTestServer();
  rp = await registerRp(server, TENANT, 'Photo Album');
});

after(async () => {
  await server?.close();
});

test('face data is described (enrolled when, model, encryption) and never exported; deleting it needs a recent sign-in and CSRF', async () => {
  const dora = await enrolledUser('dora', '482913');
  const { driver, page, csrf } = await session(dora, 600);
  const face = page.html.slice(page.html.indexOf('id="face"'), page.html.indexOf('id="consents"'));
  assert.match(face, /Enrolled<\/th><td>\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
  assert.match(face, /model test-model/);
  assert.match(page.html, /to the consent text of version 2025-01/);
  const exported = await driver.post(`${ACCOUNT}/export`, { csrf });
  assert.equal(JSON.parse(exported.html).faceData.enrolled, true);
  assert.doesNotMatch(exported.html, /CIPHERTEXT|PUBLICKEY|Q0lQSEVSVEVYVA|4349504845525445/i);

  assert.equal((await driver.post(`${ACCOUNT}/face/delete`, {})).status, 403);
  const old = await driver.post(`${ACCOUNT}/face/delete`, { csrf });
  assert.equal(old.status, 303);
  assert.match(old.location!, /\/login\?return=.*confirm%2Fface-delete.*reauth=1/);
  assert.equal(await hasTemplate(dora), true, 'nothing deleted without a recent sign-in');

  const fresh = await session(dora, 0);
  const confirm = await fresh.driver.get(`${ACCOUNT}/confirm/face-delete`);
  assert.match(confirm.html, /Delete your face data\?/);
  const deleted = await fresh.driver.post(`${ACCOUNT}/face/delete`, { csrf: csrfOf(confirm.html) });
  assert.equal(deleted.status, 303);
  assert.equal(await hasTemplate(dora), false);
  assert.equal(await hasBiometricConsent(server.db, TENANT, dora.id), true, 'the consent stays; only the data is gone');
  const after = await fresh.driver.get(deleted.location!);
  assert.match(after.html, /<p class="notice" role="status">Your face data is deleted.<\/p>/);
  assert.doesNotMatch(after.html, /id="face"/, 'no face section without face data on a deployment without face sign-in');
  const { rows } = await server.db.withTenant(TENANT, (sql) => sql.query("SELECT actor FROM audit_events WHERE type = 'face.data_deleted' AND subject = $1", [dora.id]));
  assert.deepEqual(rows, [{ actor: dora.id }]);
});

test('withdrawing the biometric consent deletes the face data with it; withdrawing again is a 404', async () => {
  const emil = await enrolledUser('emil', '482913');
  const { driver, csrf } = await session(emil, 0);
  const res = await driver.post(`${ACCOUNT}/consent/revoke`, { csrf });
  assert.equal(res.status, 303);
  assert.match(res.location!, /done=consent-revoked/);
  assert.equal(await hasBiometricConsent(server.db, TENANT, emil.id), false);
  assert.equal(await hasTemplate(emil), false);
  const page = await driver.get(ACCOUNT);
  assert.match(page.html, /Version 2025-01: given .* withdrawn /);
  const again = await driver.post(`${ACCOUNT}/consent/revoke`, { csrf });
  assert.equal(again.status, 404);
  assert.match(again.html, /consent.not_given/);
});

test('deleting the account: the username must be typed; afterwards the RP refresh token fails, the PIN signs nobody in, the session is gone', async () => {
  const finn = await enrolledUser('finn', '482913');
  const tokens = await exchangeCode(rp, await authorize(rp, { username: 'finn', pin: '482913' }));
  const refreshToken = String(tokens.body.refresh_token);
  const { driver, csrf } = await session(finn, 0);
  const noCsrf = await driver.post(`${ACCOUNT}/delete`, { confirm: 'finn' });
  assert.equal(noCsrf.status, 403);
  const mismatch = await driver.post(`${ACCOUNT}/delete`, { confirm: 'fin', csrf });
  assert.equal(mismatch.status, 400);
  assert.match(mismatch.html, /account.confirmation_mismatch/);
  assert.ok(await findUserById(server.db, TENANT, finn.id));

  const stale = await session(finn, 400);
  const gated = await stale.driver.post(`${ACCOUNT}/delete`, { confirm: 'finn', csrf: stale.csrf });
  assert.equal(gated.status, 303);
  assert.match(gated.location!, /confirm%2Fdelete-account/);

  const deleted = await driver.post(`${ACCOUNT}/delete`, { confirm: 'Finn', csrf });
  assert.equal(deleted.status, 200);
  assert.match(deleted.html, /Account deleted/);
  assert.equal(await findUserById(server.db, TENANT, finn.id), undefined);
  const refresh = await tokenRequest(rp, { grant_type: 'refresh_token', refresh_token: refreshToken });
  assert.equal(refresh.status, 400);
  assert.equal(refresh.body.error, 'invalid_grant');
  await assert.rejects(authenticatePin(server, TENANT, 'finn', '482913'));
  assert.ok(!driver.cookies.has(`fg_account_${TENANT}`));
  const back = await driver.get(ACCOUNT);
  assert.equal(back.status, 303);
  // The other browser's session names a user who no longer exists.
  assert.equal((await stale.driver.get(ACCOUNT)).status, 303);
});
