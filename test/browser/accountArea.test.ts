/**
 * The account area end to end in Chromium (issue 10), against a provider serving
 * http://localhost (face sign-in on) and the example RP on another site:
 * 1. a PIN sign-in at the RP with consent, then the account page (signed in through the
 *    provider's session) lists the example RP's grant; revoking it there makes the RP's refresh
 *    token fail with invalid_grant;
 * 2. a user whose face sign-in is ready (encrypted template through the real custodian, passkey,
 *    consent) gets the face step for the RP's loa 2 request; after "Delete face data" on the
 *    account page the face step is no longer offered, the RP's loa 2 request ends in
 *    unmet_authentication_requirements, and the PIN still signs in (loa 1);
 * 3. deleting the account on the account page kills the RP's refresh token and the PIN.
 * The account page's screenshot is docs/screenshots/account-page.png. The face pipeline (camera,
 * models) is not exercised here: test/browser/faceLogin.test.ts does that.
 */
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import * as oidc from 'openid-client';
import { startRp } from '../../examples/rp/server.ts';
import { createClient } from '../../src/account/clients.ts';
import { setPin } from '../../src/account/pin.ts';
import { createUser, type User } from '../../src/account/users.ts';
import { recordBiometricConsent } from '../../src/faceLogin/biometricConsent.ts';
import { CONSENT_TEXT } from '../../src/faceLogin/consentText.ts';
import { insertCredential } from '../../src/faceLogin/credentialStore.ts';
import { templateExists } from '../../src/template/templateStore.ts';
import { randomBytes } from 'node:crypto';
import type { RunningServer } from '../../src/main.ts';
import { chromiumMissing, launchBrowser, type BrowserSession } from '../support/browser.ts';
import { pkceAuthorization, tokenRequest, type Rp } from '../support/oidcFlow.ts';
import { freePort, startTestServer } from '../support/server.ts';

const TENANT = 'default';
const PIN = '482913';
const STEP = 30_000;
const SCREENSHOTS = path.resolve(import.meta.dirname, '..', '..', 'docs', 'screenshots');
const skip = chromiumMissing();

let provider: RunningServer;
let rp: { url: string; close(): Promise<void> };
/** The example RP's client, for the token endpoint calls the RP makes with its refresh token. */
let rpClient: Rp;

async function identifyAndPin(page: Page, username: string, pin: string): Promise<void> {
  await page.fill('#username', username);
  await page.click('button:has-text("Continue")');
  await page.fill('#pin', pin);
  await page.click('button:has-text("Sign in")');
}

/** Declines the offer to set up face sign-in when it comes, then allows the RP when asked. */
async function notNowThenAllow(page: Page): Promise<void> {
  await page.waitForSelector('h1:has-text("Set up face sign-in?")');
  await page.click('button:has-text("Not now")');
  await page.waitForSelector('h1:has-text("Allow Example RP?")');
  await page.click('button:has-text("Allow")');
}

/**
 * A refresh token of the example RP's client for the browser's user, as an RP that asks for
 * offline access gets one (prompt=consent, offline_access), the code caught at the RP's callback.
 */
async function rpRefreshToken(page: Page): Promise<string> {
  const { url, verifier } = await pkceAuthorization(rpClient.config, { redirect_uri: `${rp.url}/callback`, scope: 'openid offline_access', prompt: 'consent' }, { nonce: false });
  // Caught on its way (a redirect cannot be routed); the RP's own callback then refuses it, unused,
  // as no sign-in of its own is pending.
  const callback = page.waitForRequest((r) => r.url().startsWith(`${rp.url}/callback?`));
  await page.goto(url.toString());
  await page.waitForSelector('h1:has-text("Allow Example RP?")');
  await page.click('button:has-text("Allow")');
  const code = new URL((await callback).url()).searchParams.get('code');
  assert.ok(code, 'a code came back to the RP');
  const tokens = await tokenRequest(rpClient, { grant_type: 'authorization_code', code, redirect_uri: `${rp.url}/callback`, code_verifier: verifier });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  return String(tokens.body.refresh_token);
}

/** Face sign-in ready for `user` without a camera: a template enrolled (encrypted, real custodian) from a random unit vector, a passkey row, the consent. */
async function faceReady(user: User): Promise<void> {
  // 128: the default recognizer's embedding length (models manifest), as a real enrollment stores.
  const v = Float32Array.from({ length: 128 }, () => Math.random() - 0.5);
  const norm = Math.hypot(...v);
  // The passkey first, as a real enrollment has it: one added after the template cannot sign face sign-ins.
  await provider.db.withTenant(TENANT, (sql) =>
    insertCredential(sql, TENANT, {
      credentialId: randomBytes(16).toString('base64url'), userId: user.id, publicKey: new Uint8Array(77), signCount: 0, transports: ['internal'],
      aaguid: '00000000-0000-0000-0000-000000000000', backupEligible: false, backupState: false, attestationFormat: 'none', deviceType: 'singleDevice', name: 'Phone',
    }),
  );
  await provider.face!.templates().enroll(TENANT, user.id, v.map((x) => x / norm));
  await recordBiometricConsent(provider.db, TENANT, user.id, CONSENT_TEXT.version);
}

/** Signs in at the RP with a PIN from a fresh provider session ("Sign in": loa 1). */
async function pinSignInAtRp(page: Page, username: string, pin: string, expect: { enrollOffer: boolean; consent: boolean }): Promise<void> {
  await page.goto(rp.url);
  await page.click('text=Sign in');
  await identifyAndPin(page, username, pin);
  if (expect.enrollOffer) {
    await page.waitForSelector('h1:has-text("Set up face sign-in?")');
    await page.click('button:has-text("Not now")');
  }
  if (expect.consent) {
    await page.waitForSelector('h1:has-text("Allow Example RP?")');
    await page.click('button:has-text("Allow")');
  }
  await page.waitForURL((u) => u.origin === rp.url);
  assert.equal((await page.textContent('#acr'))?.trim(), 'urn:facegate:loa:1');
}

before(async () => {
  if (skip) return;
  provider = await startTestServer({}, { host: 'localhost' });
  const alice = await createUser(provider.db, TENANT, { username: 'alice', email: 'alice@example.com' }, 'test');
  await setPin(provider.db, TENANT, alice.id, PIN, 'test');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const client = await createClient(provider, TENANT, { name: 'Example RP', redirectUris: [`${baseUrl}/callback`], postLogoutRedirectUris: [`${baseUrl}/`] }, 'test');
  rp = await startRp({ issuer: `${provider.url}/t/${TENANT}`, clientId: client.clientId, clientSecret: client.clientSecret, port, baseUrl });
  const issuer = `${provider.url}/t/${TENANT}`;
  const config = await oidc.discovery(new URL(issuer), client.clientId, client.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
  rpClient = { config, clientId: client.clientId, clientSecret: client.clientSecret, issuer };
});

after(async () => {
  await rp?.close();
  await provider?.close();
});

describe('the account area in Chromium', { skip }, () => {
  test('sign in to the account area, see the example RP\'s grant, revoke it: the RP\'s refresh token fails with invalid_grant', { timeout: 120_000 }, async () => {
    const browser: BrowserSession = await launchBrowser();
    try {
      const { page } = browser;
      page.setDefaultTimeout(STEP);
      await page.goto(rp.url);
      await page.click('text=Sign in');
      await identifyAndPin(page, 'alice', PIN);
      await notNowThenAllow(page);
      await page.waitForURL((u) => u.origin === rp.url);
      const refreshToken = await rpRefreshToken(page);
      assert.equal((await tokenRequest(rpClient, { grant_type: 'refresh_token', refresh_token: refreshToken })).status, 200, 'the refresh token works before the revoke');

      // The provider's session signs the account area in: no PIN asked again, no consent screen.
      await page.goto(`${provider.url}/t/${TENANT}/account`);
      await page.waitForSelector('h1:has-text("Your account")');
      const grant = page.locator('tr.grant', { hasText: 'Example RP' });
      assert.match((await grant.textContent()) ?? '', /openid, profile, offline_access/);
      assert.match((await page.locator('#history').textContent()) ?? '', /Example RP\s*pin\s*urn:facegate:loa:1\s*signed in/);

      await grant.locator('button:has-text("Revoke")').click();
      await page.waitForSelector('.notice:has-text("Access revoked")');
      assert.equal(await page.locator('tr.grant').count(), 0);
      const refused = await tokenRequest(rpClient, { grant_type: 'refresh_token', refresh_token: refreshToken });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error, 'invalid_grant');
    } finally {
      await browser.close();
    }
  });
});

describe('deleting on the account page in Chromium', { skip }, () => {
  test('delete face data: the face step is no longer offered, loa 2 ends in unmet_authentication_requirements, the PIN still works', { timeout: 180_000 }, async () => {
    const erin = await createUser(provider.db, TENANT, { username: 'erin' }, 'test');
    await setPin(provider.db, TENANT, erin.id, PIN, 'test');
    await faceReady(erin);
    const browser = await launchBrowser();
    try {
      const { page } = browser;
      page.setDefaultTimeout(STEP);
      await pinSignInAtRp(page, 'erin', PIN, { enrollOffer: false, consent: true });
      // Signed in at loa 1, the RP's loa 2 request asks for the face (step-up).
      await page.goto(`${rp.url}/login?face=1`);
      await page.waitForSelector('h1:has-text("Sign in with your face")');

      await page.goto(`${provider.url}/t/${TENANT}/account`);
      await page.waitForSelector('#face >> text=Enrolled');
      await copyFile(await browser.screenshot('account-page'), path.join(SCREENSHOTS, 'account-page.png'));
      await page.click('text=Delete face data');
      await page.waitForSelector('h1:has-text("Delete your face data?")');
      await page.click('button:has-text("Delete face data")');
      await page.waitForSelector('.notice:has-text("Your face data is deleted.")');
      assert.match((await page.textContent('#face')) ?? '', /Face sign-in is not set up/);
      assert.equal(await provider.db.withTenant(TENANT, (sql) => templateExists(sql, TENANT, erin.id)), false);

      // The same loa 2 request now ends at the RP with the OIDC error, without a face step.
      await page.goto(`${rp.url}/login?face=1`);
      await page.waitForSelector('#error');
      assert.equal(await page.textContent('#error'), 'unmet_authentication_requirements');
    } finally {
      await browser.close();
    }
    // A new browser: the PIN still signs in (and, with no face data left, setting it up is offered again).
    const again = await launchBrowser();
    try {
      again.page.setDefaultTimeout(STEP);
      await pinSignInAtRp(again.page, 'erin', PIN, { enrollOffer: true, consent: true });
      await again.page.goto(`${rp.url}/login?face=1`);
      await again.page.waitForSelector('#error');
      assert.equal(await again.page.textContent('#error'), 'unmet_authentication_requirements');
    } finally {
      await again.close();
    }
  });

  test('delete the account: the RP\'s refresh token fails with invalid_grant and the PIN signs nobody in', { timeout: 180_000 }, async () => {
    const gus = await createUser(provider.db, TENANT, { username: 'gus' }, 'test');
    await setPin(provider.db, TENANT, gus.id, PIN, 'test');
    await faceReady(gus);
    const browser = await launchBrowser();
    try {
      const { page } = browser;
      page.setDefaultTimeout(STEP);
      await pinSignInAtRp(page, 'gus', PIN, { enrollOffer: false, consent: true });
      const refreshToken = await rpRefreshToken(page);
      await page.goto(`${provider.url}/t/${TENANT}/account`);
      await page.click('text=Delete my account');
      await page.waitForSelector('h1:has-text("Delete your account?")');
      await page.fill('#confirm', 'gus');
      await page.click('button:has-text("Delete my account")');
      await page.waitForSelector('h1:has-text("Account deleted")');
      const refused = await tokenRequest(rpClient, { grant_type: 'refresh_token', refresh_token: refreshToken });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error, 'invalid_grant');

      // The provider session went with the account: the RP's next sign-in asks again, and the PIN fails.
      await page.goto(`${rp.url}/login`);
      await identifyAndPin(page, 'gus', PIN);
      await page.waitForSelector('.error:has-text("did not match")');
      assert.equal(new URL(page.url()).origin, provider.url);
    } finally {
      await browser.close();
    }
  });
});
