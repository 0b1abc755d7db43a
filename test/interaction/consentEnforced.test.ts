/**
 * Consent enforced at the API: `POST …/face` (the frames) answers 403 `consent.required` when the
 * user's biometric consent is not in force, before anything is decoded or counted; withdrawing
 * consent between start and upload stops the upload. `POST …/face/start` (issues the nonce, no
 * biometric data) refuses too, but as `face.unavailable`, the answer a name that does not exist
 * gets, so it does not tell who exists (test/faceLogin/attacks.test.ts). (The
 * enrollment endpoints — capture page, `…/enroll/start`, `…/enroll` — are covered the same way
 * in test/faceLogin/http.test.ts.) No models load: the refusals come first.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startTestServer } from '../support/server.ts';
import { faceFlow, faceStep, postJson } from '../support/faceHttp.ts';
import { SoftAuthenticator } from '../support/softAuthenticator.ts';
import type { RunningServer } from '../../src/main.ts';
import { createClient } from '../../src/account/clients.ts';
import { createUser, type User } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';
import { recordBiometricConsent } from '../../src/faceLogin/biometricConsent.ts';
import { CONSENT_TEXT } from '../../src/faceLogin/consentText.ts';
import { beginPasskeyRegistration, finishPasskeyRegistration } from '../../src/faceLogin/passkeyRegistration.ts';
import { captureChallenge } from '../../src/faceLogin/captureChallenge.ts';
import { randomUnit } from '../template/vectors.ts';

const TENANT = 'default';
const PIN = '482913';
let server: RunningServer;
let rp: oidc.Configuration;
let erin: User;
let device: SoftAuthenticator;

before(async () => {
  server = await startTestServer({}, { host: 'localhost' });
  const client = await createClient(server, TENANT, { name: 'Bank App', redirectUris: ['http://127.0.0.1:1/callback'] }, 'test');
  rp = await oidc.discovery(new URL(`${server.url}/t/${TENANT}`), client.clientId, client.clientSecret!, undefined, { execute: [oidc.allowInsecureRequests] });
  erin = await createUser(server.db, TENANT, { username: 'erin' }, 'test');
  await setPin(server.db, TENANT, erin.id, PIN, 'test');
  const face = server.face!;
  device = new SoftAuthenticator({ origin: face.rp.origin, rpID: face.rp.rpID });
  const options = await beginPasskeyRegistration({ db: server.db, kv: server.kv, rp: face.rp, custodian: face.custodian() }, { tenantId: TENANT, userId: erin.id, userName: erin.username });
  await finishPasskeyRegistration({ db: server.db, kv: server.kv, rp: face.rp, custodian: face.custodian() }, { tenantId: TENANT, userId: erin.id, response: device.register(options) });
  await recordBiometricConsent(server.db, TENANT, erin.id, CONSENT_TEXT.version);
  await face.templates().enroll(TENANT, erin.id, randomUnit(512));
});
after(async () => {
  await server?.close();
});

const { authorize, identify } = faceFlow(() => ({ server, rp, tenant: TENANT, pin: PIN }));

/** The face step of a fresh loa 2 sign-in, reached while the consent is in force. */
async function faceStepOf(username: string) {
  const started = await authorize({ acr_values: 'urn:facegate:loa:2' });
  const pinPage = await identify(started, username);
  const link = /href="([^"]+factor=face[^"]*)"/.exec(pinPage.html);
  assert.ok(link, 'face sign-in is offered');
  const page = await started.driver.get(link[1].replace(/&amp;/g, '&'));
  return { driver: started.driver, step: faceStep(page.html) };
}

const setConsent = async (inForce: boolean) => {
  if (inForce) await recordBiometricConsent(server.db, TENANT, erin.id, CONSENT_TEXT.version);
  else await server.db.withTenant(TENANT, (sql) => sql.query('UPDATE biometric_consents SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [erin.id]));
};

test('POST …/face/start refuses (403) when the consent was withdrawn, as for an unknown name, and issues no nonce', async () => {
  const { driver, step } = await faceStepOf('erin');
  await setConsent(false);
  try {
    const keysBefore = await server.kv.keys('capture-nonce:');
    const start = await postJson(driver, step['start-url'], { csrf: step.csrf, username: 'erin' });
    assert.deepEqual([start.status, start.body.error], [403, 'face.unavailable']);
    assert.deepEqual(await server.kv.keys('capture-nonce:'), keysBefore);
    const unknown = await postJson(driver, step['start-url'], { csrf: step.csrf, username: 'nobody-here' });
    assert.deepEqual([unknown.status, unknown.body], [start.status, start.body]);
  } finally {
    await setConsent(true);
  }
});

test('POST …/face answers consent.required (403) when the consent is withdrawn after the capture started; nothing is counted', async () => {
  const { driver, step } = await faceStepOf('erin');
  const started = await postJson(driver, step['start-url'], { csrf: step.csrf, username: 'erin' });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const nonce = started.body.nonce as string;
  const frames = [Buffer.from('not a jpeg 1'), Buffer.from('not a jpeg 2'), Buffer.from('not a jpeg 3')];
  await setConsent(false);
  try {
    const upload = await postJson(driver, step['upload-url'], { csrf: step.csrf, nonce, frames: frames.map((f) => f.toString('base64url')), assertion: device.assert(captureChallenge(nonce, frames)) });
    assert.equal(upload.status, 403);
    assert.equal(upload.body.error, 'consent.required');
    const counter = await server.kv.keys(`lockout:${TENANT}:face:`);
    assert.deepEqual(counter, [], 'no face attempt was counted');
  } finally {
    await setConsent(true);
  }
});
