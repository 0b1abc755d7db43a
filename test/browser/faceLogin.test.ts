/**
 * "Login with Face" end to end (issue 9): the example RP against a real provider (Postgres/Redis
 * or PGlite/in-process, served as http://localhost because WebAuthn refuses an IP as RP ID),
 * driven in real Chromium whose fake camera films a real photo and whose virtual authenticator is
 * the phone's passkey. Each case starts at the RP: enrollment with consent then a face sign-in
 * that the RP's openid-client validates at loa 2; another person's face, a replayed upload and
 * frames altered after the assertion are rejected; a refused camera falls back to the PIN; five
 * failures make the face step wait and the PIN cannot reach loa 2; a step-up asks only for the
 * face; enrolling without consent is refused at the API. Afterwards nothing of the frames (a
 * canary planted in every JPEG) and no embedding-like vector is found in the database, Redis,
 * the key-value writes or the logs. Screenshots land in test/artifacts/face-*.png.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page, Request, Response } from 'playwright-core';
import sharp from 'sharp';
import { startRp } from '../../examples/rp/server.ts';
import { createClient } from '../../src/account/clients.ts';
import { setPin } from '../../src/account/pin.ts';
import { createUser, type User } from '../../src/account/users.ts';
import { createLogger } from '../../src/logger.ts';
import type { RunningServer } from '../../src/main.ts';
import { openKeyValueStore } from '../../src/store/kv.ts';
import { addVirtualAuthenticator, chromiumMissing, launchBrowser, type BrowserSession, type Camera, type PasskeyCopy, type VirtualAuthenticator } from '../support/browser.ts';
import { carriesCanary, findCanary, newCanary, plantCanaryScript } from '../support/canary.ts';
import { EMBEDDING_LENGTH, findFloatVectors } from '../support/floatVectors.ts';
import { startTestServer, freePort } from '../support/server.ts';
import { FACES_DIR } from '../support/shared.ts';
import { captureLogs, dumpPostgres, dumpRedis, recordingStore } from '../support/storeDump.ts';

const TENANT = 'default';
const LOA1 = 'urn:facegate:loa:1';
const LOA2 = 'urn:facegate:loa:2';
const PIN = { alice: '482913', bob: '730216' };
/** A is the account holder; B is someone else in front of A's phone. Both pass detection and liveness when filmed. */
const FACE_A: Camera = { photo: path.join(FACES_DIR, 'face_recognition/barack_obama_1.jpg'), focus: { x: 0.54, y: 0.24 } };
const FACE_B: Camera = { photo: path.join(FACES_DIR, 'face_recognition/joe_biden_2.jpg'), focus: { x: 0.53, y: 0.4 } };
const STEP = 30_000;
const skip = chromiumMissing();

const canary = newCanary();
const logs = captureLogs();
const kvPrefix = `facegate-test:${randomBytes(6).toString('hex')}:`;
const kv = recordingStore(openKeyValueStore(process.env.REDIS_URL, kvPrefix));
let provider: RunningServer;
let rp: { url: string; close(): Promise<void> };
let alice: User;
let bob: User;
let scratch: string;
/** A camera filming a textured wall: no face in any frame. */
let WALL: Camera;
/** Alice's passkey as her phone holds it, carried from browser to browser with its counter. */
let alicesPhone: PasskeyCopy[] = [];
/** Every capture upload body the browsers sent, as JSON. */
const uploads: { url: string; body: { frames: string[] } }[] = [];

type Browser = BrowserSession & { authenticator: VirtualAuthenticator };

async function openBrowser(camera: Camera): Promise<Browser> {
  const session = await launchBrowser({ camera });
  await session.page.addInitScript(plantCanaryScript(canary));
  const authenticator = await addVirtualAuthenticator(session.page);
  if (alicesPhone.length) await authenticator.importPasskeys(alicesPhone);
  session.page.setDefaultTimeout(STEP);
  session.page.on('request', (req) => {
    if (req.method() === 'POST' && /\/interaction\/[^/]+\/(face|enroll)$/.test(new URL(req.url()).pathname)) uploads.push({ url: req.url(), body: req.postDataJSON() });
  });
  return Object.assign(session, { authenticator });
}

/** Closes the browser, keeping the phone's passkey (and its counter) for the next one. */
async function closeBrowser(browser: Browser | undefined): Promise<void> {
  if (!browser) return;
  const passkeys = await browser.authenticator.exportPasskeys();
  if (passkeys.length) alicesPhone = passkeys;
  await browser.close();
}

async function withBrowser(camera: Camera, fn: (b: Browser) => Promise<void>): Promise<void> {
  const browser = await openBrowser(camera);
  try {
    await fn(browser);
  } finally {
    await closeBrowser(browser);
  }
}

/** On the provider's login page: the username, then the PIN form. */
async function identify(page: Page, username: string): Promise<void> {
  await page.fill('#username', username);
  await page.click('button:has-text("Continue")');
  await page.waitForSelector('#pin');
}

/** From the RP's home page: `button` ("Sign in" or "Login with Face"), then the username on the provider's page. */
async function startAtRp(page: Page, button: 'Sign in' | 'Login with Face', username: string): Promise<void> {
  await page.goto(rp.url);
  await page.click(`text=${button}`);
  await identify(page, username);
}

async function enterPin(page: Page, pin: string): Promise<void> {
  await page.fill('#pin', pin);
  await page.click('button:has-text("Sign in")');
}

/** Allows the RP on the provider's consent page when asked, then waits to be back at the RP. */
async function backAtRp(page: Page): Promise<void> {
  const consent = page.locator('h1:has-text("Allow Example RP?")');
  const atRp = page.waitForURL((u) => u.origin === rp.url, { timeout: STEP });
  const first = await Promise.race([atRp.then(() => 'rp'), consent.waitFor({ timeout: STEP }).then(() => 'consent')]);
  if (first === 'consent') {
    await page.click('button:has-text("Allow")');
    await page.waitForURL((u) => u.origin === rp.url);
  } else {
    await atRp;
  }
}

const isUpload = (r: Request | Response, kind: 'face' | 'enroll') => {
  const req = 'request' in r ? r.request() : r;
  return req.method() === 'POST' && new URL(req.url()).pathname.endsWith(`/${kind}`) && new URL(req.url()).pathname.includes('/interaction/');
};

/** Waits for the button (the camera is ready, or a try failed), presses it, and returns the capture upload's response. */
async function takePictures(page: Page, kind: 'face' | 'enroll' = 'face'): Promise<Response> {
  await page.waitForSelector('#face-start:enabled');
  const response = page.waitForResponse((r) => isUpload(r, kind));
  await page.click('#face-start');
  return response;
}

/** The upload's status; its body is read (for the message) only when it is not the expected one, before any navigation. */
async function expectStatus(res: Response, status: number): Promise<void> {
  if (res.status() !== status) assert.fail(`${res.url()}: ${res.status()} ${await res.text().catch(() => '')}`);
}

const text = async (page: Page, selector: string) => (await page.textContent(selector))?.trim() ?? '';
const interactionUid = (page: Page) => /\/interaction\/([^/?]+)/.exec(page.url())![1];

before(async () => {
  if (skip) return;
  scratch = await mkdtemp(path.join(tmpdir(), 'facegate-face-e2e-'));
  const wall = path.join(scratch, 'wall.png');
  await sharp(randomBytes(800 * 600 * 3), { raw: { width: 800, height: 600, channels: 3 } }).blur(6).linear(0.5, 90).png().toFile(wall);
  WALL = { photo: wall };
  provider = await startTestServer({}, { host: 'localhost', kv, logger: createLogger({ logLevel: 'trace' }, logs) });
  alice = await createUser(provider.db, TENANT, { username: 'alice' }, 'test');
  await setPin(provider.db, TENANT, alice.id, PIN.alice, 'test');
  bob = await createUser(provider.db, TENANT, { username: 'bob' }, 'test');
  await setPin(provider.db, TENANT, bob.id, PIN.bob, 'test');
  const port = await freePort();
  // The RP is another site than the provider (127.0.0.1 vs localhost), as in real life.
  const baseUrl = `http://127.0.0.1:${port}`;
  const client = await createClient(provider, TENANT, { name: 'Example RP', redirectUris: [`${baseUrl}/callback`], postLogoutRedirectUris: [`${baseUrl}/`] }, 'test');
  rp = await startRp({ issuer: `${provider.url}/t/${TENANT}`, clientId: client.clientId, clientSecret: client.clientSecret, port, baseUrl });
});

after(async () => {
  await rp?.close();
  await provider?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('Login with Face in Chromium, from the example RP', { skip }, () => {
  test('1. enroll with consent after a PIN sign-in, then "Login with Face" gives the RP a validated loa 2 ID token', { timeout: 120_000 }, async () => {
    await withBrowser(FACE_A, async (browser) => {
      const { page } = browser;
      await startAtRp(page, 'Sign in', 'alice');
      await enterPin(page, PIN.alice);
      await page.waitForSelector('h1:has-text("Set up face sign-in?")');
      await browser.screenshot('face-1-offer');
      await page.click('button:has-text("Set up")');
      await page.waitForSelector('#agree');
      await browser.screenshot('face-2-consent');
      await page.check('#agree');
      await page.click('button:has-text("Agree and continue")');
      await page.waitForSelector('#face-step[data-purpose="enroll"][data-state="ready"]');
      await browser.screenshot('face-3-capture-enroll');
      const enrolled = await takePictures(page, 'enroll');
      await expectStatus(enrolled, 200);
      assert.equal((await browser.authenticator.credentials()).length, 1, 'a passkey was created on the phone');
      await backAtRp(page);
      // Enrolling is not verifying: this interaction ends with the PIN sign-in.
      assert.equal(await text(page, '#acr'), LOA1);
      assert.equal(await text(page, '#amr'), 'pin');

      await page.click('text=Sign out');
      await page.click('button:has-text("Yes, sign me out")');
      await page.waitForURL(`${rp.url}/`);

      await page.click('text=Login with Face');
      await identify(page, 'alice');
      await page.click('text=Sign in with your face');
      await page.waitForSelector('#face-step[data-purpose="verify"][data-state="ready"]');
      await browser.screenshot('face-4-capture-verify');
      const verified = await takePictures(page);
      await expectStatus(verified, 200);
      await backAtRp(page);
      assert.equal(await text(page, '#acr'), LOA2);
      const amr = (await text(page, '#amr')).split(' ');
      for (const m of ['face', 'hwk']) assert.ok(amr.includes(m), `amr ${amr} has ${m}`);
      await browser.screenshot('face-5-rp-loa2');
    });
  });

  test("2. A's account with B's face (on A's phone) is rejected: pass/fail and what to do next, no score, no token", { timeout: 90_000 }, async () => {
    await withBrowser(FACE_B, async (browser) => {
      const { page } = browser;
      await startAtRp(page, 'Login with Face', 'alice');
      await page.click('text=Sign in with your face');
      const res = await takePictures(page);
      assert.equal(res.status(), 401);
      const body = await res.json();
      assert.equal(body.error, 'face.rejected');
      assert.ok(body.failed.includes('no_match'), `failed: ${body.failed}`);
      assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description', 'failed', 'fallback']);
      await page.waitForSelector('#face-step[data-state="rejected"]');
      const status = await text(page, '#face-status');
      assert.match(status, /did not match/);
      assert.match(status, /PIN/, 'says what to do next');
      assert.doesNotMatch(status + JSON.stringify(body), /\d\.\d|%/, 'no score');
      assert.ok(await page.isVisible('#face-fallback a:has-text("your PIN")'), 'the PIN is offered');
      await browser.screenshot('face-6-rejected');
      assert.notEqual(new URL(page.url()).origin, rp.url, 'no redirect to the RP, so no code and no token');
    });
  });

  test('3. a replayed upload is refused: of two identical uploads sent at once one is accepted, the other and a later one get capture.replayed', { timeout: 90_000 }, async () => {
    await withBrowser(FACE_A, async (browser) => {
      const { page } = browser;
      await startAtRp(page, 'Login with Face', 'alice');
      await page.click('text=Sign in with your face');
      const uid = interactionUid(page);
      let captured: { url: string; body: string } | undefined;
      await page.route('**/interaction/*/face', async (route) => {
        captured = { url: route.request().url(), body: route.request().postData()! };
        await route.abort();
      });
      await page.waitForSelector('#face-step[data-state="ready"]');
      await page.click('#face-start');
      await page.waitForFunction(() => document.getElementById('face-step')!.dataset.state !== 'checking' && !['ready', 'capturing', 'confirm'].includes(document.getElementById('face-step')!.dataset.state!), undefined, { timeout: STEP });
      assert.ok(captured, 'the upload was captured');
      assert.ok(captured.url.includes(uid));
      const post = () => page.request.post(captured!.url, { data: captured!.body, headers: { 'content-type': 'application/json', accept: 'application/json' } });
      const both = await Promise.all([post(), post()]);
      const statuses = both.map((r) => r.status()).sort();
      assert.deepEqual(statuses, [200, 409], `statuses ${statuses}`);
      const refused = both.find((r) => r.status() === 409)!;
      assert.equal((await refused.json()).error, 'capture.replayed');
      const later = await post();
      assert.equal(later.status(), 409);
      assert.equal((await later.json()).error, 'capture.replayed');
    });
  });

  test('4. frames altered after the assertion (one byte) are refused with webauthn.challenge_mismatch', { timeout: 90_000 }, async () => {
    await withBrowser(FACE_A, async (browser) => {
      const { page } = browser;
      await startAtRp(page, 'Login with Face', 'alice');
      await page.click('text=Sign in with your face');
      await page.route('**/interaction/*/face', async (route) => {
        const body = route.request().postDataJSON();
        const frame = Buffer.from(body.frames[1], 'base64url');
        frame[Math.floor(frame.length / 2)] ^= 0x01;
        body.frames[1] = frame.toString('base64url');
        await route.continue({ postData: JSON.stringify(body) });
      });
      const res = await takePictures(page);
      assert.equal(res.status(), 401);
      assert.equal((await res.json()).error, 'webauthn.challenge_mismatch');
      await page.waitForFunction(() => !['ready', 'capturing', 'confirm', 'checking'].includes(document.getElementById('face-step')!.dataset.state!));
      await browser.screenshot('face-7-altered-frames');
      assert.notEqual(new URL(page.url()).origin, rp.url);
    });
  });

  test('5. a refused camera offers the PIN, and the PIN signs in (loa 1)', { timeout: 90_000 }, async () => {
    await withBrowser('denied', async (browser) => {
      const { page } = browser;
      await startAtRp(page, 'Sign in', 'alice');
      await page.click('text=Sign in with your face');
      await page.waitForSelector('#face-step[data-state="permission-denied"]');
      assert.match(await text(page, '#face-status'), /denied/);
      assert.ok(await page.isDisabled('#face-start'));
      await browser.screenshot('face-8-camera-denied-fallback');
      await page.click('#face-fallback a:has-text("your PIN")');
      await enterPin(page, PIN.alice);
      await backAtRp(page);
      assert.equal(await text(page, '#acr'), LOA1);
      assert.equal(await text(page, '#amr'), 'pin');
    });
  });

  test('7. a step-up from a loa 1 session to /protected asks only for the face', { timeout: 90_000 }, async () => {
    await withBrowser(FACE_A, async (browser) => {
      const { page } = browser;
      await startAtRp(page, 'Sign in', 'alice');
      await enterPin(page, PIN.alice);
      await backAtRp(page);
      assert.equal(await text(page, '#acr'), LOA1);
      await page.click('text=Protected page');
      await page.waitForSelector('#face-step[data-purpose="verify"][data-state="ready"]');
      assert.equal(await page.locator('#pin, #username').count(), 0, 'no PIN or username form');
      await browser.screenshot('face-9-step-up');
      const res = await takePictures(page);
      await expectStatus(res, 200);
      await backAtRp(page);
      assert.equal(new URL(page.url()).pathname, '/protected');
      assert.match(await text(page, 'body'), /Only shown after a face sign-in/);
      assert.equal(await text(page, '#acr'), LOA2);
    });
  });

  test('8. enrolling without consent is refused at the API (403 consent.required), and nothing is stored', { timeout: 60_000 }, async () => {
    await withBrowser(FACE_A, async (browser) => {
      const { page } = browser;
      await startAtRp(page, 'Sign in', 'bob');
      await enterPin(page, PIN.bob);
      await page.waitForSelector('h1:has-text("Set up face sign-in?")');
      const uid = interactionUid(page);
      const csrf = await page.getAttribute('form[action$="/enroll/skip"] input[name="csrf"]', 'value');
      const base = `${provider.url}/t/${TENANT}/interaction/${uid}/enroll`;
      const json = { 'content-type': 'application/json', accept: 'application/json' };
      const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#888' } }).jpeg().toBuffer();
      const upload = {
        csrf,
        nonce: randomBytes(32).toString('base64url'),
        frames: [jpeg.toString('base64url')],
        assertion: { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' }, clientExtensionResults: {} },
      };
      for (const [url, data] of [[base, upload], [`${base}/start`, { csrf }]] as const) {
        const res = await page.request.post(url, { data, headers: json });
        assert.equal(res.status(), 403, url);
        assert.equal((await res.json()).error, 'consent.required', url);
      }
      const capturePage = await page.request.get(`${base}/capture`, { headers: { accept: 'application/json' } });
      assert.equal(capturePage.status(), 403);
      // The consent form refuses an unticked box on the server too, not only in the browser.
      const unticked = await page.request.post(`${base}/consent`, { form: { csrf: csrf!, textVersion: '2025-01' } });
      assert.equal(unticked.status(), 400);
      await page.click('button:has-text("Set up")');
      await page.waitForSelector('#agree');
      await page.click('button:has-text("Agree and continue")');
      assert.ok(await page.isVisible('#agree'), 'the browser keeps the user on the consent page');
      const stored = await provider.db.asOwner(async (sql) => ({
        consents: (await sql.query('SELECT 1 FROM biometric_consents WHERE user_id = $1', [bob.id])).rowCount,
        passkeys: (await sql.query('SELECT 1 FROM webauthn_credentials WHERE user_id = $1', [bob.id])).rowCount,
      }));
      assert.deepEqual(stored, { consents: 0, passkeys: 0 });
    });
  });

  test('6. after 5 failed face attempts the face step waits (429); the PIN then gives only loa 1, so loa 2 is unmet', { timeout: 120_000 }, async () => {
    await withBrowser(WALL, async (browser) => {
      const { page } = browser;
      await startAtRp(page, 'Login with Face', 'alice');
      await page.click('text=Sign in with your face');
      const answers: { status: number; error: string }[] = [];
      while (answers.length < 8 && answers.at(-1)?.status !== 429) {
        const res = await takePictures(page);
        answers.push({ status: res.status(), error: (await res.json()).error });
        await page.waitForFunction(() => !['capturing', 'confirm', 'checking'].includes(document.getElementById('face-step')!.dataset.state!));
      }
      // A wall shows no face: each signed capture is a failed attempt without liveness.
      assert.deepEqual(answers, [...Array(5).fill({ status: 422, error: 'face.none' }), { status: 429, error: 'factor.throttled' }]);
      assert.match(await text(page, '#face-status'), /wait \d+ s/);
      assert.ok(await page.isVisible('#face-fallback a:has-text("your PIN")'));
      await browser.screenshot('face-10-throttled');

      // The PIN is loa 1: this loa 2 request ends with the OIDC error, never a weaker token.
      await page.click('#face-fallback a:has-text("your PIN")');
      await enterPin(page, PIN.alice);
      const offer = page.locator('h1:has-text("Set up face sign-in?")');
      await Promise.race([offer.waitFor(), page.waitForURL((u) => u.origin === rp.url)]);
      if (await offer.isVisible()) await page.click('button:has-text("Not now")');
      await page.waitForSelector('#error');
      assert.equal(await text(page, '#error'), 'unmet_authentication_requirements');
      await browser.screenshot('face-11-loa2-unmet');

      await startAtRp(page, 'Sign in', 'alice');
      await enterPin(page, PIN.alice);
      await backAtRp(page);
      assert.equal(await text(page, '#acr'), LOA1);
    });
  });

  test('9. no frame byte and no embedding-like vector is kept in Postgres, Redis, key-value writes or logs', { timeout: 90_000 }, async () => {
    // The canary did travel: every uploaded frame carried it (and still passed the binding above).
    assert.ok(uploads.length > 0, 'uploads were seen');
    for (const u of uploads) for (const f of u.body.frames) assert.ok(carriesCanary(Buffer.from(f, 'base64url'), canary), 'frame carries the canary');

    const { haystacks: rows, rowsPerTable } = await dumpPostgres(provider.db);
    assert.ok((rowsPerTable.get('public.face_templates') ?? 0) >= 1, `a template is stored: ${JSON.stringify([...rowsPerTable])}`);
    const redis = process.env.REDIS_URL ? await dumpRedis(process.env.REDIS_URL, kvPrefix) : [];
    const everything = [...rows, ...redis, ...kv.written, ...logs.haystacks()];
    // The provider logs its start and unexpected errors only; the capture still holds every line.
    assert.ok(logs.lines.some((l) => l.includes('facegate listening')), 'the log was captured');
    // Both scans first, so a failure lists every finding of either kind.
    const found = { frameBytes: findCanary(canary, everything), embeddingLikeVectors: findFloatVectors(everything, EMBEDDING_LENGTH) };
    assert.deepEqual(found, { frameBytes: [], embeddingLikeVectors: [] });
  });
});
