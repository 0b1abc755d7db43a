/**
 * The example relying party against a real provider, driven in real Chromium: a PIN sign-in
 * reaches the RP at loa:1, the protected page's step-up asks for loa:2 with max_age and the
 * provider's refusal (no face step yet) is shown by the RP, and RP-initiated logout ends the
 * provider session too. Screenshots of each stop land in test/artifacts/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRp } from '../../examples/rp/server.ts';
import { createClient } from '../../src/account/clients.ts';
import { setPin } from '../../src/account/pin.ts';
import { createUser } from '../../src/account/users.ts';
import type { RunningServer } from '../../src/main.ts';
import { chromiumMissing, launchBrowser, type BrowserSession } from '../support/browser.ts';
import { freePort, startTestServer } from '../support/server.ts';

const TENANT = 'default';
const skip = chromiumMissing();

let provider: RunningServer;
let rp: { url: string; close(): Promise<void> };
let browser: BrowserSession;
/** Every authorization request the browser sent to the provider, in order. */
const authRequests: URL[] = [];

before(async () => {
  if (skip) return;
  provider = await startTestServer();
  const alice = await createUser(provider.db, TENANT, { username: 'alice' }, 'test');
  await setPin(provider.db, TENANT, alice.id, '482913', 'test');
  const port = await freePort();
  // The RP runs on "localhost", a different site from the provider's 127.0.0.1, as in real life.
  const baseUrl = `http://localhost:${port}`;
  const client = await createClient(provider, TENANT, {
    name: 'Example RP',
    redirectUris: [`${baseUrl}/callback`],
    postLogoutRedirectUris: [`${baseUrl}/`],
  }, 'test');
  rp = await startRp({ issuer: `${provider.url}/t/${TENANT}`, clientId: client.clientId, clientSecret: client.clientSecret, port, baseUrl });
  browser = await launchBrowser();
  browser.page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.origin === provider.url && url.pathname === `/t/${TENANT}/auth`) authRequests.push(url);
  });
});

after(async () => {
  await browser?.close();
  await rp?.close();
  await provider?.close();
});

describe('example RP in Chromium', { skip }, () => {
  test('PIN sign-in → loa:1; /protected steps up to loa:2 and shows the refusal; logout ends both sessions', async () => {
    const { page } = browser;
    await page.goto(rp.url);
    await browser.screenshot('rp-1-home');
    await page.click('text=Sign in');
    await page.fill('#username', 'alice');
    await browser.screenshot('rp-2-provider-login');
    await page.click('button:has-text("Continue")');
    await page.fill('#pin', '482913');
    await page.click('button:has-text("Sign in")');
    await page.waitForSelector('h1:has-text("Allow Example RP?")');
    await browser.screenshot('rp-3-consent');
    await page.click('button:has-text("Allow")');
    await page.waitForURL(`${rp.url}/`);
    assert.equal(await page.textContent('#acr'), 'urn:facegate:loa:1');
    assert.equal(await page.textContent('#amr'), 'pin');
    const authTime = Date.parse((await page.textContent('#auth_time'))!);
    assert.ok(Math.abs(Date.now() - authTime) < 60_000, 'auth_time is the sign-in just done');
    await browser.screenshot('rp-4-signed-in-loa1');
    assert.equal(authRequests.at(-1)!.searchParams.get('acr_values'), 'urn:facegate:loa:1');
    assert.ok(authRequests.at(-1)!.searchParams.get('code_challenge'), 'PKCE');

    // Step-up: the session is only loa:1, so the RP asks again for loa:2 with a max_age.
    await page.click('text=Protected page');
    await page.waitForSelector('#error');
    const stepUp = authRequests.at(-1)!;
    assert.equal(stepUp.searchParams.get('acr_values'), 'urn:facegate:loa:2');
    assert.equal(stepUp.searchParams.get('max_age'), '300');
    assert.equal(await page.textContent('#error'), 'unmet_authentication_requirements');
    assert.equal(new URL(page.url()).pathname, '/callback');
    await browser.screenshot('rp-5-step-up-refused');

    // The refusal did not drop the loa:1 session at the RP.
    await page.goto(rp.url);
    assert.equal(await page.textContent('#acr'), 'urn:facegate:loa:1');

    // RP-initiated logout: the provider confirms, then sends the browser back to the RP.
    await page.click('text=Sign out');
    await page.waitForSelector('button:has-text("Yes, sign me out")');
    await browser.screenshot('rp-6-provider-logout');
    await page.click('button:has-text("Yes, sign me out")');
    await page.waitForURL(`${rp.url}/`);
    assert.match(await page.textContent('body') ?? '', /Not signed in/);
    await browser.screenshot('rp-7-signed-out');

    // The provider session is gone too: signing in again asks for the username.
    await page.click('text=Sign in');
    await page.waitForSelector('#username');
  });

  test('"Login with Face" asks for loa:2, and the provider says it cannot meet it yet', async () => {
    const { page } = browser;
    await page.goto(rp.url);
    await page.click('text=Login with Face');
    await page.waitForSelector('#error');
    assert.equal(authRequests.at(-1)!.searchParams.get('acr_values'), 'urn:facegate:loa:2');
    assert.equal(await page.textContent('#error'), 'unmet_authentication_requirements');
    await browser.screenshot('rp-8-face-refused');
  });

  test('an API call to /protected gets the RFC 9470 challenge instead of a redirect', async () => {
    const res = await fetch(`${rp.url}/protected`, { headers: { accept: 'application/json' }, redirect: 'manual' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer error="insufficient_user_authentication", acr_values="urn:facegate:loa:2", max_age=300');
  });
});
