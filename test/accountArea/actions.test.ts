/**
 * The account area's pages and actions over HTTP against a real server: grants listed and
 * revoked (the RP's refresh token then fails with invalid_grant), devices renamed and removed
 * (another user's device is a 404), CSRF on every POST, the recent-sign-in gate with its
 * re-authentication round trip, PIN change, authenticator app set up again and removed, the
 * sign-in history and typed 4xx on bad input.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestServer } from '../support/server.ts';
import { FormDriver } from '../support/browser-less.ts';
import { accountPath, completeAccountSignIn, csrfOf, forgeSession, signInToAccount } from '../support/accountArea.ts';
import { authorize, exchangeCode, registerRp, tokenRequest, type Rp } from '../support/oidcFlow.ts';
import { generate as totpGenerate } from '../support/totp.ts';
import type { RunningServer } from '../../src/main.ts';
import { createUser, type User } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';
import { authenticatePin } from '../../src/account/authenticate.ts';
import { beginTotpEnrollment, confirmTotpEnrollment, totpStatus } from '../../src/account/totp.ts';
import { insertCredential, listUserCredentials } from '../../src/faceLogin/credentialStore.ts';

const TENANT = 'default';
const ACCOUNT = accountPath(TENANT);
let server: RunningServer;
let rp: Rp;
let alice: User;
let bob: User;

async function addPasskey(user: User, name: string): Promise<string> {
  const credentialId = randomBytes(16).toString('base64url');
  await server.db.withTenant(TENANT, (sql) =>
    insertCredential(sql, TENANT, {
      credentialId, userId: user.id, publicKey: new Uint8Array(77), signCount: 0, transports: ['internal'], aaguid: '00000000-0000-0000-0000-000000000000',
      backupEligible: false, backupState: false, attestationFormat: 'none', deviceType: 'singleDevice', name,
    }),
  );
  return credentialId;
}

/** Alice's browser with an account session signed in `ageSeconds` ago, and the overview's CSRF token. */
async function aliceSession(ageSeconds: number) {
  const driver = new FormDriver(server.url);
  forgeSession(driver, server.dataKey, TENANT, alice.id, ageSeconds);
  const page = await driver.get(ACCOUNT);
  assert.equal(page.status, 200);
  return { driver, page, csrf: csrfOf(page.html) };
}

before(async () => {
  server = await startTestServer();
  alice = await createUser(server.db, TENANT, { username: 'alice' }, 'test');
  await setPin(server.db, TENANT, alice.id, '482913', 'test');
  bob = await createUser(server.db, TENANT, { username: 'bob' }, 'test');
  await setPin(server.db, TENANT, bob.id, '271828', 'test');
  rp = await registerRp(server, TENANT, 'Photo Album');
});

after(async () => {
  await server?.close();
});

describe('grants', () => {
  test('the RP grant is listed with its client name and scopes, and revoking it makes the RP refresh token fail with invalid_grant', async () => {
    const authorized = await authorize(rp, { username: 'alice', pin: '482913' }, { scope: 'openid offline_access profile' });
    const tokens = await exchangeCode(rp, authorized);
    assert.equal(tokens.status, 200);
    const refreshToken = String(tokens.body.refresh_token);

    const { driver, page } = await signInToAccount(server.url, TENANT, 'alice', '482913');
    assert.match(page.html, /<td>Photo Album<\/td>/);
    assert.match(page.html, /openid, offline_access, profile/);
    const consents = page.html.slice(page.html.indexOf('id="consents"'), page.html.indexOf('id="history"'));
    assert.doesNotMatch(consents, /Your account/, 'the account area\'s own grant is not listed');

    const csrf = csrfOf(page.html);
    // No token: refused, and the grant still works.
    const forged = await driver.post(`${ACCOUNT}/grants/revoke`, { client_id: rp.clientId });
    assert.equal(forged.status, 403);
    assert.match(forged.html, /request.csrf/);
    const wrong = await driver.post(`${ACCOUNT}/grants/revoke`, { client_id: rp.clientId, csrf: csrf.slice(1) + 'A' });
    assert.equal(wrong.status, 403);
    const stillGood = await tokenRequest(rp, { grant_type: 'refresh_token', refresh_token: refreshToken });
    assert.equal(stillGood.status, 200);

    const revoked = await driver.post(`${ACCOUNT}/grants/revoke`, { client_id: rp.clientId, csrf });
    assert.equal(revoked.status, 303);
    assert.match(revoked.location!, /done=grant-revoked/);
    const refresh = await tokenRequest(rp, { grant_type: 'refresh_token', refresh_token: refreshToken });
    assert.equal(refresh.status, 400);
    assert.equal(refresh.body.error, 'invalid_grant');
    const after = (await driver.get(ACCOUNT)).html;
    assert.match(after.slice(after.indexOf('id="consents"'), after.indexOf('id="history"')), /No application has access/);

    // Revoking again, or another client, or the account area itself: 404, typed.
    for (const clientId of [rp.clientId, 'no-such-client', 'facegate-account']) {
      const again = await driver.post(`${ACCOUNT}/grants/revoke`, { client_id: clientId, csrf });
      assert.equal(again.status, 404, clientId);
      assert.match(again.html, /grant.not_found/);
    }
  });

  test('a user cannot revoke another user\'s grant: bob\'s grant outlives alice\'s revoke', async () => {
    const authorized = await authorize(rp, { username: 'bob', pin: '271828' });
    const tokens = await exchangeCode(rp, authorized);
    const { csrf, driver } = await aliceSession(0);
    const res = await driver.post(`${ACCOUNT}/grants/revoke`, { client_id: rp.clientId, csrf });
    assert.equal(res.status, 404);
    const refresh = await tokenRequest(rp, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) });
    assert.equal(refresh.status, 200);
  });
});

describe('devices', () => {
  test('a device is listed, renamed and removed; another user\'s device id is a 404 and stays as it was', async () => {
    const mine = await addPasskey(alice, 'Laptop');
    const bobs = await addPasskey(bob, 'Bob phone');
    const { driver, page, csrf } = await aliceSession(0);
    assert.match(page.html, /value="Laptop"/);
    assert.doesNotMatch(page.html, /Bob phone/);

    const renamed = await driver.post(`${ACCOUNT}/devices/rename`, { id: mine, name: 'Work laptop', csrf });
    assert.equal(renamed.status, 303);
    assert.match((await driver.get(ACCOUNT)).html, /value="Work laptop"/);

    for (const [path, fields] of [['rename', { name: 'mine now' }], ['remove', {}]] as const) {
      const res = await driver.post(`${ACCOUNT}/devices/${path}`, { id: bobs, csrf, ...fields });
      assert.equal(res.status, 404, path);
      assert.match(res.html, /device.not_found/);
    }
    const bobCreds = await server.db.withTenant(TENANT, (sql) => listUserCredentials(sql, TENANT, bob.id));
    assert.deepEqual(bobCreds.map((c) => c.name), ['Bob phone']);

    const removed = await driver.post(`${ACCOUNT}/devices/remove`, { id: mine, csrf });
    assert.equal(removed.status, 303);
    assert.match(removed.location!, /done=device-removed/);
    assert.equal((await server.db.withTenant(TENANT, (sql) => listUserCredentials(sql, TENANT, alice.id))).length, 0);
  });

  test('bad input is a typed 4xx: empty, overlong or control-character names, malformed ids, missing fields', async () => {
    const id = await addPasskey(alice, 'Tablet');
    const { driver, csrf } = await aliceSession(0);
    const cases: [Record<string, string>, number, string][] = [
      [{ id, name: '' }, 400, 'request.missing_field'],
      [{ id, name: 'x'.repeat(101) }, 400, 'request.field_too_long'],
      [{ id, name: 'a\u0007b' }, 400, 'device.invalid_name'],
      [{ id: 'not/base64url', name: 'ok' }, 404, 'device.not_found'],
      [{ name: 'ok' }, 400, 'request.missing_field'],
    ];
    for (const [fields, status, code] of cases) {
      const res = await driver.post(`${ACCOUNT}/devices/rename`, { ...fields, csrf });
      assert.equal(res.status, status, JSON.stringify(fields));
      assert.match(res.html, new RegExp(code.replace('.', '\\.')));
    }
    const json = await driver.request(`${ACCOUNT}/devices/rename`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(json.status, 415);
  });
});

describe('sensitive actions need a sign-in within 5 minutes', () => {
  test('removing a device with a 6-minute-old sign-in goes through signing in again (prompt=login, max_age=0) to its confirmation page', async () => {
    const id = await addPasskey(alice, 'Old phone');
    const { driver, csrf } = await aliceSession(6 * 60);
    const res = await driver.post(`${ACCOUNT}/devices/remove`, { id, csrf });
    assert.equal(res.status, 303);
    const login = new URL(res.location!);
    assert.equal(login.pathname, `${ACCOUNT}/login`);
    assert.equal(login.searchParams.get('reauth'), '1');
    assert.equal(login.searchParams.get('return'), `${ACCOUNT}/confirm/device-remove?id=${id}`);
    const names = async () => (await server.db.withTenant(TENANT, (sql) => listUserCredentials(sql, TENANT, alice.id))).map((c) => c.name);
    assert.ok((await names()).includes('Old phone'), 'nothing removed yet');

    const toProvider = await driver.get(res.location!);
    const auth = new URL(toProvider.location!);
    assert.equal(auth.searchParams.get('prompt'), 'login');
    assert.equal(auth.searchParams.get('max_age'), '0');
    assert.equal(auth.searchParams.get('login_hint'), 'alice');

    // The provider asks for the PIN again even though its own session is fresh.
    const confirm = await completeAccountSignIn(driver, toProvider, 'alice', '482913');
    assert.match(confirm.html, /Remove this device\?/);
    assert.match(confirm.html, new RegExp(`name="id" value="${id}"`));
    const done = await driver.post(`${ACCOUNT}/devices/remove`, { id, csrf: csrfOf(confirm.html) });
    assert.equal(done.status, 303);
    assert.match(done.location!, /done=device-removed/);
    assert.ok(!(await names()).includes('Old phone'));
  });

  test('every sensitive action redirects to re-authentication when the sign-in is old; CSRF is checked first', async () => {
    const { driver, csrf } = await aliceSession(301);
    for (const path of ['/pin', '/totp/start', '/totp/remove', '/devices/remove']) {
      const noCsrf = await driver.post(`${ACCOUNT}${path}`, { id: 'x', pin: '913482', pin2: '913482' });
      assert.equal(noCsrf.status, 403, path);
      const res = await driver.post(`${ACCOUNT}${path}`, { id: 'x', pin: '913482', pin2: '913482', csrf });
      assert.equal(res.status, 303, path);
      assert.match(res.location!, /\/account\/login\?return=.*reauth=1/, path);
    }
    assert.ok(await authenticatePin(server, TENANT, 'alice', '482913'), 'the PIN did not change');
    const confirm = await driver.get(`${ACCOUNT}/confirm/pin`);
    assert.equal(confirm.status, 303, 'the confirmation page itself needs the recent sign-in');
    const unknown = await (await aliceSession(0)).driver.get(`${ACCOUNT}/confirm/nothing`);
    assert.equal(unknown.status, 404);
  });
});

describe('factors', () => {
  test('changing the PIN: the two entries must match and the PIN policy holds; the new PIN signs in', async () => {
    const { driver, csrf } = await aliceSession(0);
    const mismatch = await driver.post(`${ACCOUNT}/pin`, { pin: '913482', pin2: '913483', csrf });
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.html, /pin.mismatch/);
    const weak = await driver.post(`${ACCOUNT}/pin`, { pin: '123456', pin2: '123456', csrf });
    assert.equal(weak.status, 400);
    assert.match(weak.html, /pin.too_weak/);
    const changed = await driver.post(`${ACCOUNT}/pin`, { pin: '913482', pin2: '913482', csrf });
    assert.equal(changed.status, 303);
    await assert.rejects(authenticatePin(server, TENANT, 'alice', '482913'));
    await authenticatePin(server, TENANT, 'alice', '913482');
    await setPin(server.db, TENANT, alice.id, '482913', 'test');
  });

  test('the authenticator app is set up again (QR, confirm with a code) and removed', async () => {
    const deps = { db: server.db, kv: server.kv, dataKey: server.dataKey };
    const first = await beginTotpEnrollment(deps, TENANT, alice.id);
    await confirmTotpEnrollment(deps, TENANT, alice.id, await totpGenerate(first.secret, -1));
    const { driver, csrf } = await aliceSession(0);
    const start = await driver.post(`${ACCOUNT}/totp/start`, { csrf });
    assert.equal(start.status, 200);
    assert.equal(start.headers.get('cache-control'), 'no-store');
    assert.match(start.html, /<svg/);
    const secret = /<code>([A-Z2-7]+)<\/code>/.exec(start.html)![1];
    assert.notEqual(secret, first.secret);
    const wrong = await driver.post(`${ACCOUNT}/totp/confirm`, { code: '000000', csrf });
    assert.equal(wrong.status, 400);
    const ok = await driver.post(`${ACCOUNT}/totp/confirm`, { code: await totpGenerate(secret), csrf });
    assert.equal(ok.status, 303);
    assert.equal((await totpStatus(server.db, TENANT, alice.id))?.confirmed, true);
    const removed = await driver.post(`${ACCOUNT}/totp/remove`, { csrf });
    assert.equal(removed.status, 303);
    assert.equal(await totpStatus(server.db, TENANT, alice.id), null);
    const again = await driver.post(`${ACCOUNT}/totp/remove`, { csrf });
    assert.equal(again.status, 404);
  });
});

describe('history and export', () => {
  test('the sign-in history shows client, method, level and pass/fail, and never a score', async () => {
    await assert.rejects(authenticatePin(server, TENANT, 'alice', '111222'));
    await authorize(rp, { username: 'alice', pin: '482913' });
    const { page } = await aliceSession(0);
    const history = page.html.slice(page.html.indexOf('id="history"'));
    assert.match(history, /<td>Photo Album<\/td><td>pin<\/td><td>urn:facegate:loa:1<\/td>/);
    assert.match(history, /failed \(invalid credentials\)/);
    assert.doesNotMatch(history, /score|similarity|liveness/i);
  });

  test('the export is one JSON download of profile, devices, factors, face data described, consents, grants and history; audited', async () => {
    await authorize(rp, { username: 'alice', pin: '482913' });
    await addPasskey(alice, 'Export phone');
    const { driver, csrf } = await aliceSession(0);
    const noCsrf = await driver.post(`${ACCOUNT}/export`, {});
    assert.equal(noCsrf.status, 403);
    const res = await driver.post(`${ACCOUNT}/export`, { csrf });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /application\/json/);
    assert.match(res.headers.get('content-disposition')!, /attachment; filename="account-default.json"/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const doc = JSON.parse(res.html);
    assert.equal(doc.profile.username, 'alice');
    assert.ok(doc.devices.some((d: { name: string }) => d.name === 'Export phone'));
    assert.ok(doc.factors.pin.setAt);
    assert.equal(doc.faceData.enrolled, false);
    assert.ok(doc.grants.some((g: { clientName: string }) => g.clientName === 'Photo Album'));
    assert.ok(doc.signInHistory.length >= 1);
    assert.doesNotMatch(res.html, /ciphertext|publicKey|public_key|secret|hash/i);
    const { rows } = await server.db.withTenant(TENANT, (sql) => sql.query("SELECT 1 FROM audit_events WHERE type = 'account.exported' AND actor = $1", [alice.id]));
    assert.equal(rows.length, 1);
  });
});

test('every action above left its audit row, by alice about alice, and no audit row of hers carries a secret or a score', async () => {
  const { rows } = await server.db.withTenant(TENANT, (sql) =>
    sql.query<{ type: string; subject: string | null; data: Record<string, unknown> }>('SELECT type, subject, data FROM audit_events WHERE actor = $1', [alice.id]),
  );
  const types = new Set(rows.map((r) => r.type));
  for (const type of ['consent.revoked', 'device.renamed', 'device.removed', 'pin.set', 'totp.enrollment_started', 'totp.enrolled', 'totp.removed', 'account.exported', 'signin.completed']) {
    assert.ok(types.has(type), `${type} in ${[...types]}`);
  }
  assert.doesNotMatch(JSON.stringify(rows), /913482|482913|score/);
});
