/**
 * The account area end to end in Chromium (issue 10), against a provider serving
 * http://localhost (face sign-in on) and the example RP on another site: a PIN sign-in at the RP
 * with consent, then the account page (signed in through the provider's session) lists the
 * example RP's grant; revoking it there makes the RP's refresh token fail with invalid_grant.
 * The account page's screenshot is docs/screenshots/account-page.png.
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
import { createUser } from '../../src/account/users.ts';
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
      await copyFile(await browser.screenshot('account-page'), path.join(SCREENSHOTS, 'account-page.png'));

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
