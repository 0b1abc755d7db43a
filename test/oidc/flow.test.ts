/**
 * End to end with a real RP library (openid-client) against a running provider on the test
 * database: discovery → PKCE authorization → our login, factor and consent forms over HTTP →
 * code exchange → ID token checks → refresh → logout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { pkceAuthorization } from '../support/oidcFlow.ts';
import { generate as totpGenerate } from '../support/totp.ts';
import { FormDriver, formOf, type Page } from '../support/browser-less.ts';
import { startTestServer } from '../support/server.ts';
import type { RunningServer } from '../../src/main.ts';
import { createClient, setClientMinAcr } from '../../src/account/clients.ts';
import { createUser } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';
import { beginTotpEnrollment, confirmTotpEnrollment } from '../../src/account/totp.ts';
import { listConsents, revokeConsent } from '../../src/account/consents.ts';

const TENANT = 'default';
const REDIRECT = 'http://127.0.0.1:1/callback';
const POST_LOGOUT = 'http://127.0.0.1:1/logged-out';

let server: RunningServer;
let rp: oidc.Configuration;
let rpClientId: string;
let strictRp: oidc.Configuration;
let totpSecret: string;

async function registerClient(name: string) {
  const created = await createClient(server, TENANT, {
    name,
    redirectUris: [REDIRECT],
    postLogoutRedirectUris: [POST_LOGOUT],
    grantTypes: ['authorization_code', 'refresh_token'],
    public: false,
  }, 'test');
  const config = await oidc.discovery(new URL(`${server.url}/t/${TENANT}`), created.clientId, created.clientSecret!, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  return { config, clientId: created.clientId };
}

before(async () => {
  server = await startTestServer();
  const alice = await createUser(server.db, TENANT, { username: 'alice' }, 'test');
  await setPin(server.db, TENANT, alice.id, '482913', 'test');
  const bob = await createUser(server.db, TENANT, { username: 'bob' }, 'test');
  const enrollment = await beginTotpEnrollment({ db: server.db, kv: server.kv, dataKey: server.dataKey }, TENANT, bob.id);
  totpSecret = enrollment.secret;
  await confirmTotpEnrollment({ db: server.db, kv: server.kv, dataKey: server.dataKey }, TENANT, bob.id, await totpGenerate(totpSecret, -1));
  ({ config: rp, clientId: rpClientId } = await registerClient('Demo App'));
  const strict = await registerClient('Bank App');
  await setClientMinAcr(server.db, TENANT, strict.clientId, 'urn:facegate:loa:2', 'test');
  strictRp = strict.config;
});

after(async () => {
  await server?.close();
});

type Started = { driver: FormDriver; page: Page; verifier: string; nonce: string; state: string };

async function startAuthorization(config: oidc.Configuration, extra: Record<string, string> = {}, driver = new FormDriver(server.url)): Promise<Started> {
  const { url, verifier, nonce, state } = await pkceAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid offline_access profile', prompt: 'consent', ...extra });
  const page = await driver.follow(await driver.get(url.toString()));
  return { driver, page, verifier, nonce: nonce!, state };
}

async function signIn(started: Started, username: string, factor: 'pin' | 'totp', secret: () => Promise<string>): Promise<Page> {
  const { driver } = started;
  const identify = formOf(started.page.html, '/identify');
  let page = await driver.post(identify.action, { ...identify.fields, username });
  assert.equal(page.status, 200);
  if (factor === 'totp') {
    const link = /href="([^"]*factor=otp[^"]*)"/.exec(page.html);
    assert.ok(link, 'TOTP is offered next to the PIN');
    page = await driver.get(link[1].replace(/&amp;/g, '&'));
  }
  const form = formOf(page.html, `/${factor}`);
  const value = await secret();
  page = await driver.post(form.action, { ...form.fields, ...(factor === 'pin' ? { pin: value } : { code: value }) });
  return driver.follow(page);
}

async function consentAndExchange(started: Started, page: Page, config = rp) {
  const consent = formOf(page.html, '/consent');
  const done = await started.driver.follow(await started.driver.post(consent.action, consent.fields));
  assert.ok(done.location?.startsWith(REDIRECT), `redirected to the client: ${done.location}`);
  return oidc.authorizationCodeGrant(config, new URL(done.location!), {
    pkceCodeVerifier: started.verifier,
    expectedNonce: started.nonce,
    expectedState: started.state,
    idTokenExpected: true,
  });
}

describe('authorization code + PKCE with openid-client', () => {
  test('PIN sign-in yields an ID token at loa:1 with amr pin; refresh and logout work', async () => {
    const started = await startAuthorization(rp);
    assert.match(started.page.html, /Sign in to Demo App/);
    const page = await signIn(started, 'alice', 'pin', async () => '482913');
    assert.match(page.html, /Allow Demo App\?/, 'consent screen names the client');
    const tokens = await consentAndExchange(started, page);
    const claims = tokens.claims()!;
    assert.equal(claims.iss, `${server.url}/t/${TENANT}`);
    assert.equal(claims.acr, 'urn:facegate:loa:1');
    assert.deepEqual(claims.amr, ['pin']);
    assert.ok(tokens.refresh_token, 'offline_access with consent gives a refresh token');

    const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
    assert.ok(refreshed.access_token && refreshed.access_token !== tokens.access_token);
    assert.equal(refreshed.claims()?.sub, claims.sub);

    const userinfo = await oidc.fetchUserInfo(rp, refreshed.access_token, claims.sub);
    assert.equal(userinfo.preferred_username, 'alice');

    // Logout: the end-session endpoint asks for confirmation, then returns to the RP.
    const logoutUrl = oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT, state: 'bye' });
    const confirm = await started.driver.follow(await started.driver.get(logoutUrl.toString()));
    const form = /<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(confirm.html);
    assert.ok(form, 'logout confirmation form');
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(form[2])![1];
    const out = await started.driver.follow(await started.driver.post(form[1], { xsrf, logout: 'yes' }));
    assert.ok(out.location?.startsWith(POST_LOGOUT), `back at the RP after logout: ${out.location}`);

    // The session is gone: a new authorization request shows the login form again.
    const again = await startAuthorization(rp, {}, started.driver);
    assert.match(again.page.html, /action="[^"]+\/identify"/);
  });

  test('TOTP sign-in yields amr otp', async () => {
    const started = await startAuthorization(rp);
    const page = await signIn(started, 'bob', 'totp', () => totpGenerate(totpSecret));
    const tokens = await consentAndExchange(started, page);
    assert.equal(tokens.claims()!.acr, 'urn:facegate:loa:1');
    assert.deepEqual(tokens.claims()!.amr, ['otp']);
  });

  test('an existing session is reused, and max_age=0 or prompt=login force a new sign-in', async () => {
    const started = await startAuthorization(rp);
    const page = await signIn(started, 'alice', 'pin', async () => '482913');
    await consentAndExchange(started, page);
    const reuse = await startAuthorization(rp, { prompt: '' }, started.driver);
    assert.ok(reuse.page.location?.startsWith(REDIRECT), 'signed-in session with a grant: straight back with a code');
    for (const extra of [{ max_age: "0", prompt: "" }, { prompt: "login" }] as Record<string, string>[]) {
      const forced = await startAuthorization(rp, extra, started.driver);
      assert.match(forced.page.html, /action="[^"]+\/identify"/, `re-authentication forced by ${JSON.stringify(extra)}`);
    }
  });
});

describe('re-authentication and consent in one interaction', () => {
  // login → consent → back to the client: the consent submission must not drop the login the
  // same interaction just did, or prompt=login / max_age=0 ask for the login again forever.
  for (const extra of [{ prompt: 'login consent' }, { prompt: 'consent', max_age: '0' }] as Record<string, string>[]) {
    test(`${JSON.stringify(extra)} finishes after login and consent`, async () => {
      const started = await startAuthorization(rp, extra);
      const page = await signIn(started, 'alice', 'pin', async () => '482913');
      assert.match(page.html, /Allow Demo App\?/, 'consent is asked after the login');
      const tokens = await consentAndExchange(started, page);
      const claims = tokens.claims()!;
      assert.equal(claims.acr, 'urn:facegate:loa:1');
      assert.ok(Math.abs(claims.auth_time! - Date.now() / 1000) < 60, 'auth_time is this sign-in');
    });
  }
});

describe('consent', () => {
  test('revoking consent kills the tokens issued under it, asks again next time, and is audited', async () => {
    const carol = await createUser(server.db, TENANT, { username: 'carol' }, 'test');
    await setPin(server.db, TENANT, carol.id, '731904', 'test');
    const started = await startAuthorization(rp);
    const tokens = await consentAndExchange(started, await signIn(started, 'carol', 'pin', async () => '731904'));
    const consents = await listConsents(server.db, TENANT, carol.id);
    assert.deepEqual(consents.map((c) => c.clientId), [rpClientId]);
    assert.ok(consents[0].scopes.includes('openid'));

    assert.equal(await revokeConsent(server.db, TENANT, carol.id, rpClientId, 'test'), 1);
    assert.deepEqual(await listConsents(server.db, TENANT, carol.id), []);
    await assert.rejects(oidc.refreshTokenGrant(rp, tokens.refresh_token!), (e: { error?: string }) => e.error === 'invalid_grant');
    const again = await startAuthorization(rp, { prompt: '' }, started.driver);
    assert.match(again.page.html, /Allow Demo App\?/, 'the still signed-in user is asked for consent again');
    const { rows } = await server.db.withTenant(TENANT, (sql) =>
      sql.query<{ type: string; subject: string }>("SELECT type, subject FROM audit_events WHERE type LIKE 'consent.%' ORDER BY seq"),
    );
    assert.ok(rows.some((r) => r.type === 'consent.revoked' && r.subject === rpClientId));
    assert.equal(await revokeConsent(server.db, TENANT, carol.id, rpClientId, 'test'), 0, 'nothing left to revoke');
  });
});

describe('assurance requirements are enforced, never downgraded', () => {
  async function expectUnmet(started: Started) {
    // Unmet requirements are answered at once, before any credential is asked for.
    const location = started.page.location;
    assert.ok(location?.startsWith(REDIRECT), `error goes back to the client: ${location}`);
    const params = new URL(location!).searchParams;
    assert.equal(params.get('error'), 'unmet_authentication_requirements');
    assert.equal(params.get('code'), null, 'no code, so no token');
  }

  test('essential acr loa:2 in the claims parameter gets an OIDC error, not a token', async () => {
    const claims = JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:facegate:loa:2'] } } });
    await expectUnmet(await startAuthorization(rp, { claims }));
  });

  test('acr_values loa:2 is a requirement, not a preference', async () => {
    await expectUnmet(await startAuthorization(rp, { acr_values: 'urn:facegate:loa:2' }));
  });

  test('the client minimum acr cannot be lowered by editing the URL', async () => {
    await expectUnmet(await startAuthorization(strictRp, { acr_values: 'urn:facegate:loa:1' }));
    await expectUnmet(await startAuthorization(strictRp));
  });

  test('a session at loa:1 satisfies acr_values loa:1 without a new sign-in', async () => {
    const started = await startAuthorization(rp);
    const page = await signIn(started, 'alice', 'pin', async () => '482913');
    await consentAndExchange(started, page);
    const again = await startAuthorization(rp, { prompt: '', acr_values: 'urn:facegate:loa:1' }, started.driver);
    assert.ok(again.page.location?.startsWith(REDIRECT));
    assert.ok(new URL(again.page.location!).searchParams.get('code'));
  });
});

describe('bad input gets a 4xx with a stable code', () => {
  test('unknown client and unregistered redirect_uri', async () => {
    const driver = new FormDriver(server.url);
    const unknown = await driver.get(`/t/${TENANT}/auth?client_id=nope&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}`);
    assert.equal(unknown.status, 400);
    assert.match(unknown.html, /invalid_client/);
    const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: 'https://evil.example/cb', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
    const bad = await driver.get(url.toString());
    assert.equal(bad.status, 400);
    assert.match(bad.html, /invalid_redirect_uri/);
  });

  test('unknown tenant is a 404', async () => {
    const res = await fetch(`${server.url}/t/no-such-tenant/.well-known/openid-configuration`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error, 'tenant.not_found');
  });

  test('interaction forms: wrong content type, oversized body, missing CSRF token', async () => {
    const started = await startAuthorization(rp);
    const identify = formOf(started.page.html, '/identify');
    const json = await started.driver.request(identify.action, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(json.status, 415);
    assert.match(json.html, /request\.unsupported_media_type/);
    const big = await started.driver.post(identify.action, { ...identify.fields, username: 'a'.repeat(20_000) });
    assert.equal(big.status, 413);
    assert.match(big.html, /request\.too_large/);
    const noCsrf = await started.driver.post(identify.action, { username: 'alice' });
    assert.equal(noCsrf.status, 403);
    assert.match(noCsrf.html, /request\.csrf/);
    const twice = await started.driver.request(identify.action, {
      method: 'POST',
      body: `csrf=${identify.fields.csrf}&username=a&username=b`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(twice.status, 400);
    assert.match(twice.html, /request\.malformed/);
  });

  test('an expired or foreign interaction is a 400, not a crash', async () => {
    const res = await new FormDriver(server.url).get(`/t/${TENANT}/interaction/does-not-exist`);
    assert.equal(res.status, 400);
    assert.match(res.html, /interaction\.expired/);
  });

  test('token endpoint: a forged code is invalid_grant', async () => {
    await assert.rejects(
      oidc.authorizationCodeGrant(rp, new URL(`${REDIRECT}?code=forged&state=s&iss=${encodeURIComponent(`${server.url}/t/${TENANT}`)}`), { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: 's' }),
      (e: { error?: string }) => e.error === 'invalid_grant',
    );
  });

  test('wrong PINs lock the PIN factor after 5 tries while TOTP still works', async () => {
    const started = await startAuthorization(rp);
    const identify = formOf(started.page.html, '/identify');
    let page = await started.driver.post(identify.action, { ...identify.fields, username: 'bob' });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const form = formOf(page.html, '/pin');
      page = await started.driver.post(form.action, { ...form.fields, pin: '000000' });
      statuses.push(page.status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 429, 429]);
    assert.ok(Number(page.headers.get('retry-after')) > 0);
    const link = /href="([^"]*factor=otp[^"]*)"/.exec(page.html)!;
    page = await started.driver.get(link[1].replace(/&amp;/g, '&'));
    const totp = formOf(page.html, '/totp');
    const done = await started.driver.follow(await started.driver.post(totp.action, { ...totp.fields, code: await totpGenerate(totpSecret, 1) }));
    assert.match(done.html, /Allow Demo App\?/);
  });
});
