/**
 * Attacks on Login with Face over HTTP (DESIGN.md §3–4), each against the real provider, real
 * models and the software authenticator: a capture started for one user, interaction or purpose
 * and submitted for another; enrollment steps posted into another interaction, for another user,
 * after "Not now" or more than 5 minutes after the PIN; acr escalation through enrollment, a
 * passive capture or the PIN; CSRF and content-type confusion on the JSON routes, deep nesting
 * and 2 MB of garbage; forged uploads that must not count as face failures nor reach the face
 * pipeline; whether face/start tells existing users from unknown names; a passkey added after
 * the enrollment (which the custodian refuses) answered with a clear 4xx, never counted; and no
 * score in any answer or audit row. Each test states the property it holds; it must fail if the guard is removed.
 */
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { FormDriver, formOf } from '../support/browser-less.ts';
import { startTestServer } from '../support/server.ts';
import { b64u, burstFrom, faceFlow, faceStep, postJson, type Json, type Started } from '../support/faceHttp.ts';
import { SoftAuthenticator } from '../support/softAuthenticator.ts';
import type { RunningServer } from '../../src/main.ts';
import { createClient } from '../../src/account/clients.ts';
import { createUser, type User } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';
import { captureChallenge } from '../../src/faceLogin/captureChallenge.ts';
import type { HeadTurn } from '../../src/faceLogin/captureNonce.ts';
import { REDIRECT } from '../support/oidcFlow.ts';
import { faceData } from '../../src/accountArea/faceData.ts';
import { removeDevice } from '../../src/accountArea/devices.ts';
import { beginPasskeyRegistration, finishPasskeyRegistration } from '../../src/faceLogin/passkeyRegistration.ts';

const TENANT = 'default';
const PIN = '482913';
const LOA1 = 'urn:facegate:loa:1';
const LOA2 = 'urn:facegate:loa:2';
const LOA3 = 'urn:facegate:loa:3';

let server: RunningServer;
let rp: oidc.Configuration;
const users: Record<string, User> = {};
const devices: Record<string, SoftAuthenticator> = {};
/** Obama (alice, dave), Biden (bob), and Obama making head turns (frontal, his left, his right). */
const frames: Record<'obamaEnroll' | 'obama' | 'biden', Buffer[]> = { obamaEnroll: [], obama: [], biden: [] };
const poses: Record<'frontal' | HeadTurn, Buffer[]> = { frontal: [], left: [], right: [] };
/** Bursts the face pipeline was asked to process (the real pipeline, counted). */
let bursts = 0;

const { authorize, identify, signInWithPin, toRedirect, exchange, redirectOf, auditRows } = faceFlow(() => ({ server, rp, tenant: TENANT, pin: PIN }));

const device = () => new SoftAuthenticator({ origin: new URL(server.url).origin, rpID: 'localhost' });

/** A PIN sign-in held for enrollment: the enroll URL and the interaction's CSRF token. */
async function heldSignIn(username: string, extra: Record<string, string> = {}) {
  const started = await authorize(extra);
  const afterPin = await signInWithPin(started, username);
  assert.match(afterPin.location ?? '', /\/enroll$/, `${username}: the PIN sign-in is held for enrollment`);
  const offer = await started.driver.get(afterPin.location!);
  const skip = formOf(offer.html, '/enroll/skip');
  return { started, base: afterPin.location!, csrf: skip.fields.csrf, skip };
}
type Held = Awaited<ReturnType<typeof heldSignIn>>;

async function consent(held: Held) {
  const page = await held.started.driver.get(`${held.base}/consent`);
  const form = formOf(page.html, '/enroll/consent');
  assert.equal((await held.started.driver.post(form.action, { ...form.fields, agree: 'yes' })).status, 303);
}

async function registerPasskey(held: Held, authenticator: SoftAuthenticator): Promise<Json> {
  const options = await postJson(held.started.driver, `${held.base}/passkey/options`, { csrf: held.csrf });
  assert.equal(options.status, 200, JSON.stringify(options.body));
  return postJson(held.started.driver, `${held.base}/passkey`, { csrf: held.csrf, credential: authenticator.register(options.body.options as never) });
}

/** Starts a capture at `startUrl` and signs `shown` with `authenticator`: the upload the page would send. */
async function signed(driver: FormDriver, startUrl: string, csrf: string, shown: Buffer[], authenticator: SoftAuthenticator, start: Record<string, unknown> = {}) {
  const started = await postJson(driver, startUrl, { csrf, ...start });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const nonce = started.body.nonce as string;
  return { csrf, nonce, frames: shown.map(b64u), assertion: authenticator.assert(captureChallenge(nonce, shown)), headTurns: started.body.headTurns as HeadTurn[] | undefined };
}

/** Enrolls `username` from scratch over HTTP: PIN, consent, passkey, enrollment capture; the held loa 1 sign-in finishes. */
async function enroll(username: string, shown: Buffer[]) {
  const held = await heldSignIn(username);
  await consent(held);
  devices[username] = device();
  assert.equal((await registerPasskey(held, devices[username])).status, 200);
  const upload = await signed(held.started.driver, `${held.base}/start`, held.csrf, shown, devices[username]);
  const enrolled = await postJson(held.started.driver, held.base, upload);
  assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
  await exchange(held.started, await toRedirect(held.started, redirectOf(enrolled)));
}

/** A fresh sign-in at `extra`'s level, up to the face page for `username`. */
async function facePage(username: string, extra: Record<string, string> = { acr_values: LOA2 }) {
  const started = await authorize(extra);
  const pinPage = await identify(started, username);
  const faceLink = /href="([^"]+factor=face[^"]*)"[^>]*>Sign in with your face/.exec(pinPage.html);
  assert.ok(faceLink, 'the PIN page offers "Sign in with your face"');
  const step = faceStep((await started.driver.get(faceLink[1].replace(/&amp;/g, '&'))).html);
  return { started, step, start: step['start-url'], upload: step['upload-url'], csrf: step.csrf };
}

/** A user's face attempt streak as the attempt limit keeps it (src/account/lockout.ts). */
async function faceStreak(username: string): Promise<{ failures: number; livenessFailures: number }> {
  const raw = await server.kv.get(`lockout:${TENANT}:face:${server.dataKey.mac('lockout', `${TENANT}\n${users[username].id}`)}`);
  return raw === null ? { failures: 0, livenessFailures: 0 } : (JSON.parse(raw) as { failures: number; livenessFailures: number });
}

async function enrolledCount(username: string): Promise<number> {
  return (await auditRows('face.enrolled')).filter((r) => r.subject === users[username].id).length;
}

/** The frames of a user who follows `turns`: frontal, each turn, frontal again — two frames each. */
function following(turns: HeadTurn[]): Buffer[] {
  const frontal = [...poses.frontal];
  return [...frontal.splice(0, 2), ...turns.flatMap((t) => [...poses[t], ...frontal.splice(0, 2)])];
}

/** The interaction is still open: no code went to the client. */
async function noCode(started: Started) {
  const again = await started.driver.get(started.page.url);
  assert.ok(!again.location?.startsWith(REDIRECT), `no redirect to the client: ${again.location}`);
}

before(async () => {
  server = await startTestServer({}, { host: 'localhost' });
  const face = server.face!;
  const pipeline = face.pipeline;
  face.pipeline = () => {
    const real = pipeline();
    return { processBurst: (f, p) => (bursts++, real.processBurst(f, p)), close: () => real.close() };
  };
  const client = await createClient(server, TENANT, { name: 'Bank App', redirectUris: [REDIRECT] }, 'test');
  rp = await oidc.discovery(new URL(`${server.url}/t/${TENANT}`), client.clientId, client.clientSecret!, undefined, { execute: [oidc.allowInsecureRequests] });
  for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hank', 'hana', 'ivy']) {
    users[name] = await createUser(server.db, TENANT, { username: name }, 'test');
    await setPin(server.db, TENANT, users[name].id, PIN, 'test');
  }
  [frames.obamaEnroll, frames.obama, frames.biden] = await Promise.all(
    ['face_recognition/barack_obama_1.jpg', 'face_recognition/barack_obama_2.jpg', 'face_recognition/joe_biden_1.jpg'].map((photo) => burstFrom(photo)),
  );
  [poses.frontal, poses.left, poses.right] = await Promise.all([
    burstFrom('face_recognition/barack_obama_1.jpg', [[6, 3], [8, 0], [3, -3], [0, 6], [-8, 0], [0, 0]]),
    burstFrom('face_recognition/barack_obama_3.jpg', [[0, 0], [6, 3]]),
    burstFrom('face_recognition/barack_obama_2.jpg', [[0, 0], [6, 3]]),
  ]);
  // alice (Obama) and bob (Biden) have face sign-in; the others start without it.
  await enroll('alice', frames.obamaEnroll);
  await enroll('bob', frames.biden);
});

after(async () => {
  await server?.close();
});

describe('attacks on Login with Face over HTTP', () => {
  test("username switching: Bob's face and passkey over a nonce started for Alice are refused, whatever the upload names, and count for nobody", async () => {
    const { started, start, upload, csrf } = await facePage('alice');
    const [aliceBefore, bobBefore, burstsBefore] = [await faceStreak('alice'), await faceStreak('bob'), bursts];
    // The nonce is Alice's; Bob signs his own frames over it with his own passkey and names himself.
    const bobs = await signed(started.driver, start, csrf, frames.biden, devices.bob, { username: 'alice' });
    const asBob = await postJson(started.driver, upload, { ...bobs, username: 'bob' });
    assert.equal(asBob.status, 401, JSON.stringify(asBob.body));
    assert.equal(asBob.body.error, 'webauthn.unknown_credential');
    // Alice's own upload, after Bob restarted the step for himself: the interaction's capture is Bob's now.
    const alices = await signed(started.driver, start, csrf, frames.obama, devices.alice, { username: 'alice' });
    await signed(started.driver, start, csrf, frames.biden, devices.bob, { username: 'bob' });
    const switched = await postJson(started.driver, upload, { ...alices, username: 'alice' });
    assert.equal(switched.status, 403, JSON.stringify(switched.body));
    assert.equal(switched.body.error, 'capture.nonce_mismatch');
    assert.deepEqual([await faceStreak('alice'), await faceStreak('bob'), bursts], [aliceBefore, bobBefore, burstsBefore], 'not counted, not processed');
    await noCode(started);
  });

  test('a nonce issued in one interaction is refused in another and is spent', async () => {
    const x = await facePage('alice');
    const y = await facePage('alice');
    const fromX = await signed(x.started.driver, x.start, x.csrf, frames.obama, devices.alice, { username: 'alice' });
    const fromY = await signed(y.started.driver, y.start, y.csrf, frames.obama, devices.alice, { username: 'alice' });
    const crossed = await postJson(y.started.driver, y.upload, { ...fromX, csrf: y.csrf });
    assert.equal(crossed.status, 403, JSON.stringify(crossed.body));
    assert.equal(crossed.body.error, 'capture.nonce_mismatch');
    assert.equal((await postJson(x.started.driver, x.upload, fromX)).body.error, 'capture.replayed', 'the crossed nonce is spent');
    // Y's own capture still signs in Y.
    const own = await postJson(y.started.driver, y.upload, fromY);
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.equal((await exchange(y.started, await toRedirect(y.started, redirectOf(own)))).acr, LOA2);
  });

  test('a capture started to enroll cannot sign in, and one started to sign in cannot enroll (same user, same interaction)', async () => {
    // Two held PIN sign-ins for dave; he enrolls in the first, then the second has both kinds of nonce.
    const first = await heldSignIn('dave');
    const second = await heldSignIn('dave');
    await consent(first);
    devices.dave = device();
    assert.equal((await registerPasskey(first, devices.dave)).status, 200);
    const enrollNonce = await signed(second.started.driver, `${second.base}/start`, second.csrf, frames.obama, devices.dave);
    const enrolled = await postJson(first.started.driver, first.base, await signed(first.started.driver, `${first.base}/start`, first.csrf, frames.obamaEnroll, devices.dave));
    assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
    const faceStart = `${second.base.replace(/\/enroll$/, '')}/face/start`;
    const faceUpload = `${second.base.replace(/\/enroll$/, '')}/face`;
    const burstsBefore = bursts;

    // The enroll nonce at the sign-in upload (after a sign-in start for dave, so the user matches).
    await signed(second.started.driver, faceStart, second.csrf, frames.obama, devices.dave, { username: 'dave' });
    const enrollAsSignIn = await postJson(second.started.driver, faceUpload, enrollNonce);
    assert.equal(enrollAsSignIn.status, 403, JSON.stringify(enrollAsSignIn.body));
    assert.equal(enrollAsSignIn.body.error, 'capture.nonce_mismatch');
    // A sign-in nonce at the enrollment upload: dave is enrolled now, so the upload is refused
    // before its nonce is looked at (a PIN sign-in never replaces a face; see the test below).
    const signInAsEnroll = await postJson(second.started.driver, second.base, await signed(second.started.driver, faceStart, second.csrf, frames.obama, devices.dave, { username: 'dave' }));
    assert.equal(signInAsEnroll.status, 409, JSON.stringify(signInAsEnroll.body));
    assert.equal(signInAsEnroll.body.error, 'enroll.already_enrolled');
    assert.equal(bursts, burstsBefore, 'neither reached the face pipeline');
    assert.equal(await enrolledCount('dave'), 1);
    await noCode(second.started);
  });

  test("enrollment steps act only on the interaction's own held sign-in: another interaction's token, no held sign-in, another user's passkey challenge", async () => {
    const carol = await heldSignIn('carol');
    const frank = await heldSignIn('frank');
    await consent(carol);
    // Carol's CSRF token with Frank's browser (his interaction cookie): refused.
    const foreignToken = await postJson(frank.started.driver, `${carol.base}/passkey/options`, { csrf: carol.csrf });
    assert.equal(foreignToken.status, 403);
    assert.equal(foreignToken.body.error, 'request.csrf');
    // An interaction without a held sign-in gets no enrollment step.
    const fresh = await authorize();
    const freshCsrf = formOf(fresh.page.html, '/identify').fields.csrf;
    const freshBase = `${new URL(fresh.page.url).pathname}/enroll`;
    for (const path of ['/passkey/options', '/start', '']) {
      const res = await postJson(fresh.driver, `${freshBase}${path}`, { csrf: freshCsrf });
      assert.equal(res.status, 403, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error, 'enroll.signin_required', path);
    }
    // A registration begun for Carol, finished in Frank's interaction: refused, nothing registered.
    const options = await postJson(carol.started.driver, `${carol.base}/passkey/options`, { csrf: carol.csrf });
    const carolDevice = device();
    const intoFrank = await postJson(frank.started.driver, `${frank.base}/passkey`, { csrf: frank.csrf, credential: carolDevice.register(options.body.options as never) });
    assert.equal(intoFrank.status, 400, JSON.stringify(intoFrank.body));
    assert.equal(intoFrank.body.error, 'webauthn.registration_expired');
    const { rows } = await server.db.withTenant(TENANT, (sql) => sql.query('SELECT user_id FROM webauthn_credentials WHERE user_id = ANY($1)', [[users.carol.id, users.frank.id]]));
    assert.equal(rows.length, 0);
  });

  test('a PIN sign-in cannot replace an enrolled face: a second held sign-in from before the enrollment is refused at every step, and a later PIN sign-in is not offered enrollment', async () => {
    // Whoever knows only the PIN must not put their own face on the account (then loa 2 in its name).
    const first = await heldSignIn('hana');
    const second = await heldSignIn('hana');
    await consent(first);
    const hanaDevice = device();
    assert.equal((await registerPasskey(first, hanaDevice)).status, 200);
    const enrolled = await postJson(first.started.driver, first.base, await signed(first.started.driver, `${first.base}/start`, first.csrf, frames.obamaEnroll, hanaDevice));
    assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
    assert.equal((await second.started.driver.get(`${second.base}/consent`)).status, 409, 'no consent page');
    const consentPost = await second.started.driver.post(`${second.base}/consent`, { csrf: second.csrf, textVersion: 'any', agree: 'yes' });
    assert.equal(consentPost.status, 409, consentPost.html.slice(0, 300));
    for (const path of ['/passkey/options', '/passkey', '/start', '']) {
      const res = await postJson(second.started.driver, `${second.base}${path}`, { csrf: second.csrf });
      assert.equal(res.status, 409, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error, 'enroll.already_enrolled', path);
    }
    const { rows } = await server.db.withTenant(TENANT, (sql) => sql.query('SELECT 1 FROM webauthn_credentials WHERE user_id = $1', [users.hana.id]));
    assert.equal(rows.length, 1, 'only the first passkey');
    assert.equal(await enrolledCount('hana'), 1);
    // "Not now" still finishes the held sign-in at loa 1; a new PIN sign-in goes straight to the client.
    const skipped = await second.started.driver.follow(await second.started.driver.post(second.skip.action, second.skip.fields));
    assert.ok(skipped.location?.startsWith(REDIRECT) || skipped.html.includes('/consent"'), `finished: ${skipped.status} ${skipped.location}`);
    const later = await authorize();
    const afterPin = await signInWithPin(later, 'hana');
    assert.doesNotMatch(afterPin.location ?? '', /\/enroll$/, 'no enrollment offer for an enrolled user');
  });

  test('after "Not now" the interaction has no held sign-in left to enroll with', async () => {
    const held = await heldSignIn('erin');
    await consent(held);
    assert.equal((await registerPasskey(held, device())).status, 200);
    const skipped = await held.started.driver.post(held.skip.action, held.skip.fields);
    assert.equal(skipped.status, 303);
    for (const path of ['/passkey/options', '/start']) {
      const res = await postJson(held.started.driver, `${held.base}${path}`, { csrf: held.csrf });
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
      assert.match(res.body.error as string, /^(enroll\.signin_required|interaction\.)/, path);
    }
    assert.equal(await enrolledCount('erin'), 0);
  });

  test('more than 5 minutes after the PIN, no enrollment step runs; "Not now" still finishes at loa 1 with the PIN\'s auth_time', async () => {
    const held = await heldSignIn('gina');
    const pinAt = Math.floor(Date.now() / 1000);
    await consent(held);
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 301_000 });
    try {
      for (const path of ['/passkey/options', '/start', '']) {
        const res = await postJson(held.started.driver, `${held.base}${path}`, { csrf: held.csrf });
        assert.equal(res.status, 403, `${path}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error, 'enroll.signin_required', path);
      }
      assert.equal((await held.started.driver.get(`${held.base}/capture`)).status, 403);
      const claims = await exchange(held.started, await toRedirect(held.started, await held.started.driver.post(held.skip.action, held.skip.fields)));
      assert.equal(claims.acr, LOA1);
      // The client learns when the PIN was entered, not when "Not now" was pressed.
      assert.ok(Math.abs(Number(claims.auth_time) - pinAt) <= 2, `auth_time ${claims.auth_time} is the PIN's (${pinAt})`);
    } finally {
      mock.timers.reset();
    }
  });

  test('a held PIN sign-in older than the request\'s max_age reaches the client with its true auth_time, which the client\'s max_age check refuses', async () => {
    const held = await heldSignIn('gina', { max_age: '120' });
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 200_000 });
    try {
      const back = await toRedirect(held.started, await held.started.driver.post(held.skip.action, held.skip.fields));
      const { verifier, nonce, state } = held.started;
      await assert.rejects(
        oidc.authorizationCodeGrant(rp, back, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, maxAge: 120, idTokenExpected: true }),
        (e: Error) => /too much time has elapsed/.test(String((e.cause as Error | undefined)?.message)),
      );
    } finally {
      mock.timers.reset();
    }
  });

  test('enrolling inside a loa 2 request ends in unmet_authentication_requirements, never a code', async () => {
    const held = await heldSignIn('hank', { acr_values: LOA2 });
    await consent(held);
    devices.hank = device();
    assert.equal((await registerPasskey(held, devices.hank)).status, 200);
    const enrolled = await postJson(held.started.driver, held.base, await signed(held.started.driver, `${held.base}/start`, held.csrf, frames.obamaEnroll, devices.hank));
    assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
    const back = await held.started.driver.follow(redirectOf(enrolled));
    const url = new URL(back.location!);
    assert.equal(url.searchParams.get('error'), 'unmet_authentication_requirements');
    assert.equal(url.searchParams.get('code'), null);
  });

  test('a PIN inside a loa 2 or loa 3 request of a face-ready user gives no code', async () => {
    for (const acr of [LOA2, LOA3]) {
      const started = await authorize({ acr_values: acr });
      const back = await toRedirect(started, await signInWithPin(started, 'alice'));
      assert.equal(back.searchParams.get('error'), 'unmet_authentication_requirements', acr);
      assert.equal(back.searchParams.get('code'), null, acr);
    }
  });

  test('a passive capture (loa 2 nonce) showing head turns in 10 frames never gives loa 3', async () => {
    const { started, start, upload, csrf } = await facePage('alice');
    const turns: HeadTurn[] = ['left', 'right'];
    const capture = await signed(started.driver, start, csrf, following(turns), devices.alice, { username: 'alice' });
    assert.equal(capture.headTurns, undefined, 'a loa 2 request gets no head turns');
    const answer = await postJson(started.driver, upload, capture);
    // Passive liveness and the match run on these frames as on any burst: it signs in, at loa 2.
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal((await exchange(started, await toRedirect(started, redirectOf(answer)))).acr, LOA2);
  });
});

describe('attacks on the face step JSON routes: CSRF, content types, big and deep bodies, counting, existence, scores', () => {
  test('every JSON route refuses a missing or another interaction\'s CSRF token, and a text/plain body (a CORS simple request)', async () => {
    const face = await facePage('alice');
    const other = await facePage('alice');
    const held = await heldSignIn('carol');
    const routes: [string, FormDriver, string][] = [
      ['face/start', face.started.driver, face.start],
      ['face', face.started.driver, face.upload],
      ...['/passkey/options', '/passkey', '/start', ''].map((p): [string, FormDriver, string] => [`enroll${p}`, held.started.driver, `${held.base}${p}`]),
    ];
    for (const [name, driver, url] of routes) {
      const own = url.startsWith(held.base) ? held.csrf : face.csrf;
      const missing = await postJson(driver, url, { username: 'alice' });
      assert.deepEqual([missing.status, missing.body.error], [403, 'request.csrf'], `${name}: no token`);
      const foreign = await postJson(driver, url, { csrf: other.csrf, username: 'alice' });
      assert.deepEqual([foreign.status, foreign.body.error], [403, 'request.csrf'], `${name}: another interaction's token`);
      const plain = await postJson(driver, url, JSON.stringify({ csrf: own, username: 'alice' }), 'text/plain');
      assert.deepEqual([plain.status, plain.body.error], [415, 'request.unsupported_media_type'], `${name}: text/plain`);
      assert.equal(plain.headers.get('access-control-allow-origin'), null, `${name}: no CORS`);
    }
  });

  test('deeply nested JSON (a million levels in 2 MB) is a typed 400 and the server keeps answering', async () => {
    const { started, start, upload, csrf } = await facePage('alice');
    const depth = 1_000_000;
    const deepFrames = `{"csrf":"${csrf}","nonce":"${'A'.repeat(43)}","frames":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const deepAssertion = `{"csrf":"${csrf}","nonce":"${'A'.repeat(43)}","frames":["${b64u(frames.obama[0])}"],"assertion":${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}}`;
    const deepStart = `{"csrf":"${csrf}","username":${'['.repeat(40_000)}${']'.repeat(40_000)}}`;
    for (const [what, url, body] of [['frames', upload, deepFrames], ['assertion', upload, deepAssertion], ['face/start', start, deepStart]]) {
      const res = await postJson(started.driver, url, body);
      assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    assert.equal((await postJson(started.driver, start, { csrf, username: 'alice' })).status, 200, 'still answering');
  });

  test('2 MB of garbage frames with a forged assertion is refused before the face pipeline and is not counted', async () => {
    const { started, start, upload, csrf } = await facePage('alice');
    const garbage = [Buffer.alloc(700 * 1024, 0x5a), Buffer.alloc(700 * 1024, 0xa5), Buffer.alloc(600 * 1024, 0x33)];
    const [streakBefore, burstsBefore] = [await faceStreak('alice'), bursts];
    const forgeries: [string, (c: string) => unknown][] = [
      ["Bob's passkey", (c) => devices.bob.assert(c)],
      ['no user verification', (c) => devices.alice.assert(c, { userVerified: false })],
      ['another origin', (c) => devices.alice.assert(c, { origin: 'https://evil.example' })],
      ['signed over other frames', () => devices.alice.assert(captureChallenge('B'.repeat(43), frames.obama))],
    ];
    for (const [what, forge] of forgeries) {
      const nonce = (await postJson(started.driver, start, { csrf, username: 'alice' })).body.nonce as string;
      const res = await postJson(started.driver, upload, { csrf, nonce, frames: garbage.map(b64u), assertion: forge(captureChallenge(nonce, garbage)) });
      assert.equal(res.status, 401, `${what}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error as string, /^webauthn\./, what);
    }
    // Ten forged uploads at once: none counts either.
    const nonces = await Promise.all(Array.from({ length: 10 }, async () => (await postJson(started.driver, start, { csrf, username: 'alice' })).body.nonce as string));
    const parallel = await Promise.all(nonces.map((nonce) => postJson(started.driver, upload, { csrf, nonce, frames: garbage.map(b64u), assertion: devices.bob.assert(captureChallenge(nonce, garbage)) })));
    assert.ok(parallel.every((r) => r.status === 401 || r.status === 409 || r.status === 429), parallel.map((r) => r.status).join());
    assert.deepEqual(await faceStreak('alice'), streakBefore, 'forged uploads are not face failures');
    assert.equal(bursts, burstsBefore, 'no forged frame reached the face pipeline');
    // Alice herself is not throttled by any of it.
    const own = await postJson(started.driver, upload, await signed(started.driver, start, csrf, frames.obama, devices.alice, { username: 'alice' }));
    assert.equal(own.status, 200, JSON.stringify(own.body));
  });

  test('a passkey added after the enrollment: its capture is a 403 face.passkey_not_enrolled, not counted; with only such passkeys face is not started and the face data page says why', async () => {
    await enroll('ivy', frames.obamaEnroll);
    const ivy = users.ivy.id;
    // A second device registered after the enrollment, with the custodian too (as the enrollment pages would, were they open to an enrolled user).
    const face = server.face!;
    const deps = { db: server.db, kv: server.kv, rp: face.rp, custodian: face.custodian() };
    const laptop = device();
    const options = await beginPasskeyRegistration(deps, { tenantId: TENANT, userId: ivy, userName: 'ivy' });
    await finishPasskeyRegistration(deps, { tenantId: TENANT, userId: ivy, response: laptop.register(options), name: 'Laptop' });
    const { started, start, upload, csrf } = await facePage('ivy');
    const [streakBefore, enrolledBefore] = [await faceStreak('ivy'), await enrolledCount('ivy')];
    const refused = await postJson(started.driver, upload, await signed(started.driver, start, csrf, frames.obama, laptop, { username: 'ivy' }));
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'face.passkey_not_enrolled');
    assert.match(refused.body.error_description as string, /set it up again/);
    assert.deepEqual(await faceStreak('ivy'), streakBefore, 'no face was judged: not a face failure');
    assert.equal((await auditRows('signin.failure')).filter((r) => r.subject === ivy).at(-1)!.data.reason, 'face.passkey_not_enrolled');
    const custodianRefusals = await server.db.asOwner((sql) =>
      sql.query<{ reason: string }>("SELECT data->>'reason' AS reason FROM audit_events WHERE subject = $1 AND type = 'custodian.decrypt_refused'", [ivy]),
    );
    assert.deepEqual(custodianRefusals.rows.map((r) => r.reason), ['passkey_not_eligible']);
    // The enrolled device still signs in.
    const own = await postJson(started.driver, upload, await signed(started.driver, start, csrf, frames.obama, devices.ivy, { username: 'ivy' }));
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.deepEqual((await faceData(server.db, TENANT, ivy)).devicesAfterEnrollment, ['Laptop']);
    // Without the enrolled device no capture starts (answered as for any user without face sign-in,
    // so face/start still tells no names apart); the account area says why and what to do.
    await removeDevice(server.db, TENANT, ivy, devices.ivy.id);
    const noStart = await postJson(started.driver, start, { csrf, username: 'ivy' });
    const unknown = await postJson(started.driver, start, { csrf, username: 'nobody-at-all' });
    assert.deepEqual([noStart.status, noStart.body], [unknown.status, unknown.body]);
    assert.equal(noStart.status, 403);
    assert.equal(enrolledBefore, await enrolledCount('ivy'));
  });

  test('face/start answers a user without face sign-in exactly as a name that does not exist', async () => {
    const { started, start, csrf } = await facePage('alice');
    const withoutFace = await postJson(started.driver, start, { csrf, username: 'carol' });
    const unknown = await postJson(started.driver, start, { csrf, username: 'nobody-at-all' });
    assert.equal(withoutFace.status, 403);
    assert.deepEqual([unknown.status, unknown.body], [withoutFace.status, withoutFace.body]);
    const same = (h: Headers) => [...h].filter(([k]) => !['date', 'x-request-id'].includes(k));
    assert.deepEqual(same(unknown.headers), same(withoutFace.headers));
  });

  test('no score or other fraction in any face answer (accept, reject) nor in any sign-in, face or passkey audit row', async () => {
    const { started, start, upload, csrf } = await facePage('alice');
    const answers: Json[] = [];
    for (const shown of [frames.biden, frames.obama]) answers.push(await postJson(started.driver, upload, await signed(started.driver, start, csrf, shown, devices.alice, { username: 'alice' })));
    assert.deepEqual(answers.map((a) => a.status), [401, 200]);
    for (const a of answers) assert.deepEqual(fractionsIn(a.body), [], JSON.stringify(a.body));
    const { rows } = await server.db.withTenant(TENANT, (sql) =>
      sql.query<{ type: string; data: unknown }>("SELECT type, data FROM audit_events WHERE type LIKE 'signin.%' OR type LIKE 'face.%' OR type LIKE 'webauthn.%' OR type LIKE 'factor.%'"),
    );
    assert.ok(rows.some((r) => r.type === 'signin.failure') && rows.some((r) => r.type === 'signin.success'));
    for (const r of rows) assert.deepEqual(fractionsIn(r.data), [], r.type);
  });
});

/**
 * Every place in a JSON value that could carry a score: a key naming one, a non-integer number, or a
 * string that is a decimal number. Walks the value instead of matching its JSON text, so a random id
 * such as a credential id "…9E9…" is not mistaken for 9e9.
 */
function fractionsIn(value: unknown, path = '$'): string[] {
  if (typeof value === 'number') return Number.isInteger(value) ? [] : [path];
  if (typeof value === 'string') return /^\s*-?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)\s*$/.test(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => fractionsIn(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [
      ...(/score|similarity|distance|liveness/i.test(k) ? [`${path}.${k}`] : []),
      ...fractionsIn(v, `${path}.${k}`),
    ]);
  }
  return [];
}
