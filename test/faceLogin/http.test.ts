/**
 * Login with Face over HTTP, end to end on a real provider (real models, Postgres/Redis or
 * PGlite, the software authenticator for WebAuthn): PIN sign-in → "Set up face sign-in?" →
 * biometric consent → passkey → enrollment capture; then an authorization asking for loa 2 is
 * answered by the face step, and openid-client validates an ID token with acr loa:2 and amr
 * face+hwk. Attacks: another person's face, a replayed upload, frames swapped after signing,
 * enrollment without consent, bad input, and the face attempt limit. loa 3: the capture asks for
 * head turns in a random order, and real photos of Obama (frontal, turned to his left and to his
 * right) put in that order give acr loa:3; the wrong order or a still face are counted failures;
 * a loa 2 session steps up with the turns, and a loa 3 session older than 5 minutes is asked again.
 */
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import * as oidc from 'openid-client';
import { FormDriver, formOf, type Page } from '../support/browser-less.ts';
import { startTestServer } from '../support/server.ts';
import { b64u, burstFrom, faceFlow, faceStep, postJson, type Json } from '../support/faceHttp.ts';
import { SoftAuthenticator } from '../support/softAuthenticator.ts';
import type { RunningServer } from '../../src/main.ts';
import { createClient } from '../../src/account/clients.ts';
import { createUser, type User } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';
import { captureChallenge } from '../../src/faceLogin/captureChallenge.ts';
import type { HeadTurn } from '../../src/faceLogin/captureNonce.ts';

const TENANT = 'default';
const REDIRECT = 'http://127.0.0.1:1/callback';
const PIN = '482913';
const LOA2 = 'urn:facegate:loa:2';
const LOA3 = 'urn:facegate:loa:3';

let server: RunningServer;
let rp: oidc.Configuration;
let alice: User;
let carol: User;
let bob: User;
/** Alice's phone, with the passkey she registers during enrollment. */
let aliceDevice: SoftAuthenticator;
const frames: Record<'aliceEnroll' | 'alice' | 'bob' | 'printed' | 'twoFaces', Buffer[]> = { aliceEnroll: [], alice: [], bob: [], printed: [], twoFaces: [] };
/** Alice (Obama) looking straight (six frames), turned to his own left and to his own right (two each), unmirrored. */
const poses: Record<'frontal' | HeadTurn, Buffer[]> = { frontal: [], left: [], right: [] };

/** One 1280×640 JPEG with `left` and `right` next to each other. */
async function sideBySide(left: Buffer, right: Buffer): Promise<Buffer> {
  const half = (b: Buffer) => sharp(b).resize({ width: 640, height: 640, fit: 'contain', background: '#808080' }).toBuffer();
  return sharp({ create: { width: 1280, height: 640, channels: 3, background: '#808080' } })
    .composite([{ input: await half(left), left: 0, top: 0 }, { input: await half(right), left: 640, top: 0 }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

before(async () => {
  server = await startTestServer({}, { host: 'localhost' });
  const client = await createClient(server, TENANT, { name: 'Bank App', redirectUris: [REDIRECT] }, 'test');
  rp = await oidc.discovery(new URL(`${server.url}/t/${TENANT}`), client.clientId, client.clientSecret!, undefined, { execute: [oidc.allowInsecureRequests] });
  alice = await createUser(server.db, TENANT, { username: 'alice' }, 'test');
  bob = await createUser(server.db, TENANT, { username: 'bob' }, 'test');
  carol = await createUser(server.db, TENANT, { username: 'carol' }, 'test');
  for (const u of [alice, bob, carol]) await setPin(server.db, TENANT, u.id, PIN, 'test');
  // Alice is Barack Obama (enrolled from one photo, signs in with another); Bob is Joe Biden;
  // `printed` is a print attack (a photo held up to the camera), which fails liveness;
  // `twoFaces` shows Alice twice, side by side: a second face as large as the first.
  [frames.aliceEnroll, frames.alice, frames.bob, frames.printed] = await Promise.all(
    ['face_recognition/barack_obama_1.jpg', 'face_recognition/barack_obama_2.jpg', 'face_recognition/joe_biden_1.jpg', 'pad/silentface/image_F1.jpg'].map((photo) => burstFrom(photo)),
  );
  frames.twoFaces = await Promise.all(frames.alice.map((a) => sideBySide(a, a)));
  // The photos headTurn.test.ts measures: obama_1 frontal (|yaw| ≤ 7° in these crops), obama_3
  // turned to his own left (≈ +27°), obama_2 to his own right (≈ −21°).
  [poses.frontal, poses.left, poses.right] = await Promise.all([
    burstFrom('face_recognition/barack_obama_1.jpg', [[6, 3], [8, 0], [3, -3], [0, 6], [-8, 0], [0, 0]]),
    burstFrom('face_recognition/barack_obama_3.jpg', [[0, 0], [6, 3]]),
    burstFrom('face_recognition/barack_obama_2.jpg', [[0, 0], [6, 3]]),
  ]);
  aliceDevice = new SoftAuthenticator({ origin: new URL(server.url).origin, rpID: 'localhost' });
});

after(async () => {
  await server?.close();
});

const { authorize, identify, signInWithPin, toRedirect, exchange, redirectOf, auditRows } = faceFlow(() => ({ server, rp, tenant: TENANT, pin: PIN }));

/** Starts a capture and signs `shown` with the device: the upload the browser script would send. */
async function signedCapture(driver: FormDriver, step: Record<string, string>, shown: Buffer[], device: SoftAuthenticator, start: Record<string, unknown> = {}) {
  const started = await postJson(driver, step['start-url'], { csrf: step.csrf, ...start });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const { nonce, frames: count, rpId, allowCredentials } = started.body as { nonce: string; frames: number; rpId: string; allowCredentials: { id: string }[] };
  assert.equal(count, 3);
  assert.equal(started.body.headTurns, undefined, 'no head turns below loa 3');
  assert.equal(rpId, 'localhost');
  assert.deepEqual(allowCredentials.map((c) => c.id), [device.id]);
  const assertion = device.assert(captureChallenge(nonce, shown));
  return { csrf: step.csrf, nonce, frames: shown.map(b64u), assertion };
}

/** The frames of a user who follows `turns`: frontal, each turn, frontal again — two frames each. */
function following(turns: HeadTurn[]): Buffer[] {
  const frontal = [...poses.frontal];
  return [...frontal.splice(0, 2), ...turns.flatMap((t) => [...poses[t], ...frontal.splice(0, 2)])];
}

/**
 * Starts a loa 3 capture, checks it asks for two head turns (both ways) with a prompt per frame
 * in the order headTurn.ts checks, and signs the frames `arrange` makes of the asked turns.
 */
async function signedActiveCapture(driver: FormDriver, step: Record<string, string>, arrange: (turns: HeadTurn[]) => Buffer[], start: Record<string, unknown> = {}) {
  const started = await postJson(driver, step['start-url'], { csrf: step.csrf, ...start });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const { nonce, frames: count, intervalMs, prompts, headTurns } = started.body as { nonce: string; frames: number; intervalMs: number; prompts: string[]; headTurns: HeadTurn[] };
  assert.equal(count, 10);
  assert.ok(intervalMs >= 300);
  assert.deepEqual([...headTurns].sort(), ['left', 'right']);
  assert.equal(prompts.length, count);
  // Runs of one prompt: straight, the first turn, straight, the second turn, straight.
  const runs = prompts.filter((p, i) => i === 0 || p !== prompts[i - 1]).map((p) => (/left/.test(p) ? 'left' : /right/.test(p) ? 'right' : /straight/.test(p) ? 'frontal' : p));
  assert.deepEqual(runs, ['frontal', headTurns[0], 'frontal', headTurns[1], 'frontal']);
  const shown = arrange(headTurns);
  return { csrf: step.csrf, nonce, frames: shown.map(b64u), assertion: aliceDevice.assert(captureChallenge(nonce, shown)) };
}

/** Alice's face attempt streak, as the attempt limit keeps it (src/account/lockout.ts). */
async function faceStreak(): Promise<{ failures: number; livenessFailures: number }> {
  const raw = await server.kv.get(`lockout:${TENANT}:face:${server.dataKey.mac('lockout', `${TENANT}\n${alice.id}`)}`);
  return raw === null ? { failures: 0, livenessFailures: 0 } : (JSON.parse(raw) as { failures: number; livenessFailures: number });
}

/** A fresh sign-in at loa 2 for `username` up to the face page. */
async function facePage(username: string, extra: Record<string, string> = { acr_values: LOA2 }) {
  const started = await authorize(extra);
  const pinPage = await identify(started, username);
  const faceLink = /href="([^"]+factor=face[^"]*)"[^>]*>Sign in with your face/.exec(pinPage.html);
  assert.ok(faceLink, 'the PIN page offers "Sign in with your face"');
  const page = await started.driver.get(faceLink[1].replace(/&amp;/g, '&'));
  assert.equal(page.headers.get('cache-control'), 'no-store');
  return { started, step: faceStep(page.html), html: page.html };
}

describe('Login with Face over HTTP', () => {
  test('enrollment: PIN sign-in → offer → consent → passkey → capture, finishing the held loa 1 sign-in', async () => {
    const started = await authorize();
    const afterPin = await signInWithPin(started, 'alice');
    assert.equal(afterPin.status, 303);
    const offer = await started.driver.get(afterPin.location!);
    assert.match(offer.html, /Set up face sign-in\?/);
    assert.match(offer.html, />Not now</);

    const consentPage = await started.driver.get(`${afterPin.location!}/consent`);
    assert.match(consentPage.html, /What we collect/);
    assert.match(consentPage.html, /How to delete it/);
    const consent = formOf(consentPage.html, '/enroll/consent');
    const refused = await started.driver.post(consent.action, consent.fields);
    assert.equal(refused.status, 400, 'no consent without the box ticked');
    const agreed = await started.driver.post(consent.action, { ...consent.fields, agree: 'yes' });
    assert.equal(agreed.status, 303);
    assert.equal((await auditRows('biometric_consent.given')).filter((r) => r.subject === alice.id).length, 1);

    const capturePage = await started.driver.get(agreed.location!);
    assert.match(capturePage.html, /<script src="\/static\/faceCapture.js"/);
    const step = faceStep(capturePage.html);
    assert.equal(step.purpose, 'enroll');
    assert.equal(step['needs-passkey'], 'true');

    const options = await postJson(started.driver, step['passkey-options-url'], { csrf: step.csrf });
    assert.equal(options.status, 200, JSON.stringify(options.body));
    const registered = await postJson(started.driver, step['passkey-verify-url'], {
      csrf: step.csrf,
      credential: aliceDevice.register(options.body.options as never),
    });
    assert.equal(registered.status, 200, JSON.stringify(registered.body));

    const upload = await signedCapture(started.driver, step, frames.aliceEnroll, aliceDevice);
    const enrolled = await postJson(started.driver, step['upload-url'], upload);
    assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
    assert.equal((await auditRows('face.enrolled')).length, 1);

    const claims = await exchange(started, await toRedirect(started, { status: 303, url: '', location: new URL(enrolled.body.redirect as string, server.url).toString(), html: '', headers: new Headers() }));
    assert.equal(claims.acr, 'urn:facegate:loa:1', 'enrolling is not verifying: the held PIN sign-in');
    assert.deepEqual(claims.amr, ['pin']);
  });

  test('a loa 2 authorization is answered by the face step: ID token with acr loa:2 and amr face, hwk', async () => {
    const { started, step } = await facePage('alice');
    assert.equal(step.purpose, 'verify');
    assert.equal(step.username, 'alice');
    const upload = await signedCapture(started.driver, step, frames.alice, aliceDevice, { username: 'alice' });
    const answer = await postJson(started.driver, step['upload-url'], upload);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const claims = await exchange(started, await toRedirect(started, { status: 303, url: '', location: new URL(answer.body.redirect as string, server.url).toString(), html: '', headers: new Headers() }));
    assert.equal(claims.sub, alice.id);
    assert.equal(claims.acr, LOA2);
    for (const m of ['face', 'hwk', 'user', 'mfa']) assert.ok((claims.amr as string[]).includes(m), m);
    const decisions = await auditRows('signin.success');
    assert.deepEqual(decisions.at(-1), { subject: alice.id, data: { factor: 'face', decision: 'accept', acr: LOA2 } });
  });

  test("Bob's face on Alice's account is rejected with what failed (no score) and the fallback; no code", async () => {
    const { started, step } = await facePage('alice');
    const upload = await signedCapture(started.driver, step, frames.bob, aliceDevice, { username: 'alice' });
    const answer = await postJson(started.driver, step['upload-url'], upload);
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error, 'face.rejected');
    assert.equal(answer.body.fallback, true);
    assert.deepEqual(answer.body.failed, ['no_match']);
    assert.doesNotMatch(JSON.stringify(answer.body), /score|0\.\d/);
    assert.match(answer.body.error_description as string, /PIN/);
    const failure = (await auditRows('signin.failure')).at(-1)!;
    assert.deepEqual(failure.data, { factor: 'face', reason: 'rejected', decision: 'reject', failed: ['no_match'] });
    assert.doesNotMatch(JSON.stringify(await auditRows('signin.failure')), /score|match":\s*\d/);
    // The interaction is still open: no redirect to the RP happened.
    const again = await started.driver.get(started.page.url);
    assert.ok(!again.location?.startsWith(REDIRECT));
  });

  test('the same upload replayed is capture.replayed (audited), and frames swapped after signing are webauthn.challenge_mismatch (audited)', async () => {
    const { started, step } = await facePage('alice');
    const upload = await signedCapture(started.driver, step, frames.bob, aliceDevice, { username: 'alice' });
    // Sent twice at once: the nonce is taken atomically, so exactly one is evaluated.
    const both = await Promise.all([postJson(started.driver, step['upload-url'], upload), postJson(started.driver, step['upload-url'], upload)]);
    assert.deepEqual(both.map((r) => r.status).sort(), [401, 409]);
    const replay = await postJson(started.driver, step['upload-url'], upload);
    assert.equal(replay.status, 409);
    assert.equal(replay.body.error, 'capture.replayed');
    assert.equal((await auditRows('signin.failure')).at(-1)!.data.reason, 'capture.replayed');

    // Signed over Bob's frames, then Alice's photos put in their place.
    const signed = await signedCapture(started.driver, step, frames.bob, aliceDevice, { username: 'alice' });
    const swapped = await postJson(started.driver, step['upload-url'], { ...signed, frames: frames.alice.map(b64u) });
    assert.equal(swapped.status, 401);
    assert.equal(swapped.body.error, 'webauthn.challenge_mismatch');
    assert.equal((await auditRows('signin.failure')).at(-1)!.data.reason, 'webauthn.challenge_mismatch');
  });

  test('bad input gets a typed 4xx before anything is verified or counted', async () => {
    const { started, step } = await facePage('alice');
    const url = step['upload-url'];
    // A frame that is not an image, correctly signed: a real attempt, refused with a typed 4xx.
    const garbage = [Buffer.from('definitely not a jpeg'), ...frames.alice.slice(1)];
    const signedGarbage = await signedCapture(started.driver, step, garbage, aliceDevice, { username: 'alice' });
    const refused = await postJson(started.driver, url, signedGarbage);
    assert.ok(refused.status >= 400 && refused.status < 500, JSON.stringify(refused.body));
    assert.match(refused.body.error as string, /^image\./);
    const second = await postJson(started.driver, url, await signedCapture(started.driver, step, frames.twoFaces, aliceDevice, { username: 'alice' }));
    assert.equal(second.body.error, 'face.multiple', JSON.stringify(second.body));
    assert.ok(second.status >= 400 && second.status < 500);
    const upload = await signedCapture(started.driver, step, frames.alice, aliceDevice, { username: 'alice' });
    const cases: [string, Json, number, string][] = [
      ['form content type', await postJson(started.driver, url, new URLSearchParams({ csrf: step.csrf }).toString(), 'application/x-www-form-urlencoded'), 415, 'request.unsupported_media_type'],
      ['malformed JSON', await postJson(started.driver, url, '{"csrf":', 'application/json'), 400, 'request.malformed'],
      ['no CSRF token', await postJson(started.driver, url, { ...upload, csrf: 'forged' }), 403, 'request.csrf'],
      ['frame not base64url', await postJson(started.driver, url, { ...upload, frames: ['not base64!', ...upload.frames.slice(1)] }), 400, 'capture.malformed'],
      ['frame not a string', await postJson(started.driver, url, { ...upload, frames: [123] }), 400, 'capture.malformed'],
      ['13 frames', await postJson(started.driver, url, { ...upload, frames: Array(13).fill(upload.frames[0]) }), 413, 'capture.too_many_frames'],
      ['assertion missing', await postJson(started.driver, url, { ...upload, assertion: 'x' }), 400, 'webauthn.malformed'],
      ['body over the limit', await postJson(started.driver, url, { ...upload, frames: [Buffer.alloc(3 * 1024 * 1024).toString('base64url')] }), 413, 'request.too_large'],
    ];
    for (const [what, res, status, code] of cases) {
      assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error, code, what);
    }
    // The capture signed before all this still works: none of the malformed uploads spent its nonce.
    const answer = await postJson(started.driver, url, upload);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    // An interaction that is gone.
    const gone = await postJson(new FormDriver(server.url), url, upload);
    assert.equal(gone.status, 400);
    assert.equal(gone.body.error, 'interaction.expired');
  });

  test('enrollment without consent is refused at the API with consent.required (403), and nothing is stored', async () => {
    const started = await authorize();
    const afterPin = await signInWithPin(started, 'carol');
    assert.match(afterPin.location ?? '', /\/enroll$/);
    const offer = await started.driver.get(afterPin.location!);
    const skip = formOf(offer.html, '/enroll/skip');
    const base = afterPin.location!;
    const capturePage = await started.driver.get(`${base}/capture`);
    assert.equal(capturePage.status, 403, 'the capture page needs the consent');
    // The API, called directly: a passkey can be made, but no capture starts or is stored.
    const carolDevice = new SoftAuthenticator({ origin: new URL(server.url).origin, rpID: 'localhost' });
    const options = await postJson(started.driver, `${base}/passkey/options`, { csrf: skip.fields.csrf });
    assert.equal((await postJson(started.driver, `${base}/passkey`, { csrf: skip.fields.csrf, credential: carolDevice.register(options.body.options as never) })).status, 200);
    const start = await postJson(started.driver, `${base}/start`, { csrf: skip.fields.csrf });
    assert.equal(start.status, 403);
    assert.equal(start.body.error, 'consent.required');
    const upload = await postJson(started.driver, base, { csrf: skip.fields.csrf, nonce: 'A'.repeat(43), frames: frames.alice.map(b64u), assertion: carolDevice.assert('x') });
    assert.equal(upload.status, 403);
    assert.equal(upload.body.error, 'consent.required');
    const { rows } = await server.db.withTenant(TENANT, (sql) => sql.query('SELECT 1 FROM face_templates WHERE user_id = $1', [carol.id]));
    assert.equal(rows.length, 0);
    // "Not now" finishes the held PIN sign-in at loa 1.
    const claims = await exchange(started, await toRedirect(started, await started.driver.post(skip.action, skip.fields)));
    assert.equal(claims.acr, 'urn:facegate:loa:1');
  });

  test('a user without face signed in at loa 1 is answered unmet_authentication_requirements at once for loa 2', async () => {
    const started = await authorize();
    const afterPin = await signInWithPin(started, 'bob');
    const skip = formOf((await started.driver.get(afterPin.location!)).html, '/enroll/skip');
    await exchange(started, await toRedirect(started, await started.driver.post(skip.action, skip.fields)));
    const stepUp = await authorize({ acr_values: LOA2 }, started.driver);
    assert.equal(new URL(stepUp.page.location!).searchParams.get('error'), 'unmet_authentication_requirements');
  });

  test('step-up from a loa 1 session asks only for the face, and gives loa 2', async () => {
    const started = await authorize();
    const signedIn = await signInWithPin(started, 'alice');
    const first = await exchange(started, await toRedirect(started, signedIn));
    assert.equal(first.acr, 'urn:facegate:loa:1', 'alice has face sign-in: no offer, straight back');
    const stepUp = await authorize({ acr_values: LOA2 }, started.driver);
    const step = faceStep(stepUp.page.html);
    assert.equal(step.username, '', 'the session account, no username asked');
    assert.doesNotMatch(stepUp.page.html, /name="pin"/, 'no PIN asked');
    assert.doesNotMatch(stepUp.page.html, /\/identify"/, 'no username asked');
    const upload = await signedCapture(stepUp.driver, step, frames.alice, aliceDevice);
    const answer = await postJson(stepUp.driver, step['upload-url'], upload);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const claims = await exchange(stepUp, await toRedirect(stepUp, { status: 303, url: '', location: new URL(answer.body.redirect as string, server.url).toString(), html: '', headers: new Headers() }));
    assert.equal(claims.sub, alice.id);
    assert.equal(claims.acr, LOA2);
  });

  test('loa 3: face/start asks for head turns in a random order; real frames making them in that order give an ID token with acr loa:3', async () => {
    const { started, step } = await facePage('alice', { acr_values: LOA3 });
    const upload = await signedActiveCapture(started.driver, step, following, { username: 'alice' });
    const answer = await postJson(started.driver, step['upload-url'], upload);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const claims = await exchange(started, await toRedirect(started, redirectOf(answer)));
    assert.equal(claims.sub, alice.id);
    assert.equal(claims.acr, LOA3);
    for (const m of ['face', 'hwk', 'user', 'mfa']) assert.ok((claims.amr as string[]).includes(m), m);
    assert.ok(Math.abs(Date.now() / 1000 - Number(claims.auth_time)) < 60, 'a fresh sign-in');
    assert.deepEqual((await auditRows('signin.success')).at(-1), { subject: alice.id, data: { factor: 'face', decision: 'accept', acr: LOA3 } });
  });

  test('loa 3: the turns in the wrong order, or a face that never turns, are counted failures with what to do next; no code', async () => {
    const { started, step } = await facePage('alice', { acr_values: LOA3 });
    const cases: [string, (turns: HeadTurn[]) => Buffer[]][] = [
      ['the other order', (turns) => following([...turns].reverse())],
      ['only frontal frames', () => [...poses.frontal, ...poses.frontal.slice(0, 4)]],
    ];
    for (const [what, arrange] of cases) {
      const before = await faceStreak();
      const answer = await postJson(started.driver, step['upload-url'], await signedActiveCapture(started.driver, step, arrange, { username: 'alice' }));
      assert.equal(answer.status, 401, `${what}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error, 'face.rejected');
      assert.deepEqual(answer.body.failed, ['wrong_turns'], what);
      assert.match(answer.body.error_description as string, /turn your head/i);
      assert.equal(answer.body.fallback, true);
      assert.doesNotMatch(JSON.stringify(answer.body), /score|\d\.\d/);
      assert.deepEqual((await auditRows('signin.failure')).at(-1)!.data, { factor: 'face', reason: 'rejected', decision: 'reject', failed: ['wrong_turns'] });
      // A failed active challenge is failed liveness: it weighs a full failure.
      const after = await faceStreak();
      assert.equal(after.failures + after.livenessFailures, before.failures + before.livenessFailures + 1, `${what}: counted`);
      assert.equal(after.livenessFailures, before.livenessFailures, `${what}: not as a failure with liveness`);
    }
    const again = await started.driver.get(started.page.url);
    assert.ok(!again.location?.startsWith(REDIRECT), 'no code was issued');
  });

  test('loa 3 step-up from a loa 2 session asks for the face with head turns, and gives loa 3', async () => {
    const { started, step } = await facePage('alice');
    const loa2 = await postJson(started.driver, step['upload-url'], await signedCapture(started.driver, step, frames.alice, aliceDevice, { username: 'alice' }));
    assert.equal((await exchange(started, await toRedirect(started, redirectOf(loa2)))).acr, LOA2);
    const stepUp = await authorize({ acr_values: LOA3 }, started.driver);
    const upStep = faceStep(stepUp.page.html);
    assert.equal(upStep.username, '', 'the session account');
    const answer = await postJson(stepUp.driver, upStep['upload-url'], await signedActiveCapture(stepUp.driver, upStep, following));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const claims = await exchange(stepUp, await toRedirect(stepUp, redirectOf(answer)));
    assert.equal(claims.acr, LOA3);
    assert.equal(claims.sub, alice.id);

    // Within 5 minutes the loa 3 session answers a loa 3 request at once.
    const within = await authorize({ acr_values: LOA3 }, started.driver);
    assert.ok(within.page.location?.startsWith(REDIRECT), `no prompt: ${within.page.status} ${within.page.html.slice(0, 200)}`);
    assert.equal((await exchange(within, new URL(within.page.location!))).acr, LOA3);
  });

  test('a loa 3 session older than 5 minutes is asked for the face again for loa 3 (loa 2 still answers at once)', async () => {
    const { started, step } = await facePage('alice', { acr_values: LOA3 });
    const first = await postJson(started.driver, step['upload-url'], await signedActiveCapture(started.driver, step, following, { username: 'alice' }));
    assert.equal((await exchange(started, await toRedirect(started, redirectOf(first)))).acr, LOA3);
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 301_000 });
    try {
      const loa2 = await authorize({ acr_values: LOA2 }, started.driver);
      assert.ok(loa2.page.location?.startsWith(REDIRECT), 'a stale loa 3 still stands for loa 2');
      const stale = await authorize({ acr_values: LOA3 }, started.driver);
      const again = faceStep(stale.page.html);
      assert.equal(again.username, '', 'a step-up of the session account');
      const answer = await postJson(stale.driver, again['upload-url'], await signedActiveCapture(stale.driver, again, following));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const claims = await exchange(stale, await toRedirect(stale, redirectOf(answer)));
      assert.equal(claims.acr, LOA3);
      assert.ok(Math.abs(Date.now() / 1000 - Number(claims.auth_time)) < 60, 'auth_time of the new face step');
    } finally {
      mock.timers.reset();
    }
  });

  test('after 5 failures the face step answers 429 with Retry-After; the PIN still gives loa 1, and essential loa 2 is unmet', async () => {
    // The streak starts clean: the step-up's success reset it. Print attacks fail liveness, so
    // each weighs a full failure (NIST: 5 without liveness, 10 with).
    const { started, step } = await facePage('alice');
    for (let i = 1; i <= 5; i++) {
      const failed = await postJson(started.driver, step['upload-url'], await signedCapture(started.driver, step, frames.printed, aliceDevice, { username: 'alice' }));
      assert.equal(failed.status, 401, `failure ${i}: ${JSON.stringify(failed.body)}`);
      assert.ok((failed.body.failed as string[]).includes('not_live'));
    }
    const sixth = await signedCapture(started.driver, step, frames.alice, aliceDevice, { username: 'alice' });
    const throttled = await postJson(started.driver, step['upload-url'], sixth);
    assert.equal(throttled.status, 429, JSON.stringify(throttled.body));
    assert.equal(throttled.body.error, 'factor.throttled');
    assert.ok(Number(throttled.headers.get('retry-after')) >= 25, 'about 30 s');

    const pinOnly = await authorize();
    const claims = await exchange(pinOnly, await toRedirect(pinOnly, await signInWithPin(pinOnly, 'alice')));
    assert.equal(claims.acr, 'urn:facegate:loa:1');

    const essential = await authorize({ claims: JSON.stringify({ id_token: { acr: { essential: true, values: [LOA2] } } }) });
    // alice has face sign-in already: no enrollment offer, the PIN's loa 1 cannot meet loa 2.
    const refused = await toRedirect(essential, await signInWithPin(essential, 'alice'));
    assert.equal(refused.searchParams.get('error'), 'unmet_authentication_requirements');
    assert.equal(refused.searchParams.get('code'), null);
  });
});
