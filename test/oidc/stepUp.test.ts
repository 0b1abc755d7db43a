/**
 * RFC 9470 step-up end to end: an RP (openid-client) asks for a token for a registered resource
 * server (RFC 8707), the example resource server (examples/resource-server) reads acr, amr and
 * auth_time from it — a JWT checked against the tenant JWKS, or an opaque token through
 * introspection — and answers insufficient_user_authentication; the RP steps up and retries.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import * as oidc from 'openid-client';
import { pkceAuthorization } from '../support/oidcFlow.ts';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { FormDriver, formOf, type Page } from '../support/browser-less.ts';
import { startTestServer } from '../support/server.ts';
import type { RunningServer } from '../../src/main.ts';
import { createClient } from '../../src/account/clients.ts';
import { createResourceServer } from '../../src/account/resourceServers.ts';
import { createUser } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';
import { resourceServer } from '../../examples/resource-server/server.ts';

const TENANT = 'default';
const REDIRECT = 'http://127.0.0.1:1/callback';
const PAYMENTS = 'https://payments.example.com';
const LEDGER = 'https://ledger.example.com';
/** The payments API wants a sign-in at most this many seconds old for a transfer. */
const TRANSFER_MAX_AGE = 3;

let server: RunningServer;
let issuer: string;
let rp: oidc.Configuration;
let payments: { url: string; config: oidc.Configuration };
let ledger: { url: string; config: oidc.Configuration };
const apis: Server[] = [];
let lastConsentPage = '';

async function listen(app: Awaited<ReturnType<typeof resourceServer>>): Promise<string> {
  const http = app.listen(0, '127.0.0.1');
  apis.push(http);
  await new Promise((r) => http.once('listening', r));
  return `http://127.0.0.1:${(http.address() as { port: number }).port}`;
}

async function clientConfig(clientId: string, secret: string) {
  return oidc.discovery(new URL(issuer), clientId, secret, undefined, { execute: [oidc.allowInsecureRequests] });
}

before(async () => {
  server = await startTestServer();
  issuer = `${server.url}/t/${TENANT}`;
  const alice = await createUser(server.db, TENANT, { username: 'alice' }, 'test');
  await setPin(server.db, TENANT, alice.id, '482913', 'test');
  const client = await createClient(server, TENANT, { name: 'Bank App', redirectUris: [REDIRECT] }, 'test');
  rp = await clientConfig(client.clientId, client.clientSecret!);

  const jwtRs = await createResourceServer(server, TENANT, { uri: PAYMENTS, scopes: ['transfers'] }, 'test');
  payments = {
    url: await listen(await resourceServer({ issuer, audience: PAYMENTS, transferMaxAge: TRANSFER_MAX_AGE })),
    config: await clientConfig(jwtRs.resourceServer.clientId, jwtRs.clientSecret),
  };
  const opaqueRs = await createResourceServer(server, TENANT, { uri: LEDGER, scopes: ['ledger'], tokenFormat: 'opaque' }, 'test');
  const introspection = { clientId: opaqueRs.resourceServer.clientId, clientSecret: opaqueRs.clientSecret };
  ledger = {
    url: await listen(await resourceServer({ issuer, audience: LEDGER, introspection })),
    config: await clientConfig(introspection.clientId, introspection.clientSecret),
  };
});

after(async () => {
  for (const api of apis) api.close();
  await server?.close();
});

type Started = { driver: FormDriver; page: Page; verifier: string; nonce: string; state: string };

async function authorize(extra: Record<string, string>, driver = new FormDriver(server.url)): Promise<Started> {
  const { url, verifier, nonce, state } = await pkceAuthorization(rp, { redirect_uri: REDIRECT, scope: 'openid offline_access', ...extra });
  return { driver, page: await driver.follow(await driver.get(url.toString())), verifier, nonce: nonce!, state };
}

/** Signs in with the PIN when asked, allows what the consent screen asks, and exchanges the code. */
async function complete(started: Started, maxAge?: number) {
  const { driver } = started;
  let page = started.page;
  if (page.html.includes('/identify')) {
    const identify = formOf(page.html, '/identify');
    const pinPage = await driver.post(identify.action, { ...identify.fields, username: 'alice' });
    const pin = formOf(pinPage.html, '/pin');
    page = await driver.follow(await driver.post(pin.action, { ...pin.fields, pin: '482913' }));
  }
  if (page.html.includes('/consent')) {
    lastConsentPage = page.html;
    const consent = formOf(page.html, '/consent');
    page = await driver.follow(await driver.post(consent.action, consent.fields));
  }
  assert.ok(page.location?.startsWith(REDIRECT), `back at the RP: ${page.location ?? page.html.slice(0, 500)}`);
  return oidc.authorizationCodeGrant(rp, new URL(page.location!), {
    pkceCodeVerifier: started.verifier,
    expectedNonce: started.nonce,
    expectedState: started.state,
    maxAge,
    idTokenExpected: true,
  });
}

/** The API's answer, or the RFC 9470 challenge it raised (parsed by openid-client). */
async function call(api: string, method: string, path: string, accessToken: string) {
  try {
    const res = await oidc.fetchProtectedResource(rp, accessToken, new URL(path, api), method);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch (e) {
    if (!(e instanceof oidc.WWWAuthenticateChallengeError)) throw e;
    const bearer = e.cause.find((c) => c.scheme === 'bearer')!;
    return { status: e.response!.status, challenge: bearer.parameters };
  }
}

const isJwt = (token: string) => {
  try {
    return Boolean(decodeProtectedHeader(token));
  } catch {
    return false;
  }
};

describe('access tokens for a registered resource server', () => {
  test('without resource the access token stays opaque and serves userinfo', async () => {
    const tokens = await complete(await authorize({ scope: 'openid' }));
    assert.equal(isJwt(tokens.access_token), false);
    const userinfo = await oidc.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub);
    assert.equal(userinfo.sub, tokens.claims()!.sub);
    assert.equal((await call(payments.url, 'GET', '/balance', tokens.access_token)).challenge?.error, 'invalid_token', 'not a token for the API');
  });

  test('resource=<registered uri> yields an RFC 9068 JWT for that audience with the sign-in acr, amr and auth_time', async () => {
    const tokens = await complete(await authorize({ scope: 'openid transfers', resource: PAYMENTS }));
    const idToken = tokens.claims()!;
    assert.match(lastConsentPage, /use https:\/\/payments\.example\.com on your behalf: transfers/, 'the user sees which API the RP will use');
    assert.equal(decodeProtectedHeader(tokens.access_token).typ, 'at+jwt');
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${issuer}/jwks`)), { issuer, audience: PAYMENTS, typ: 'at+jwt' });
    assert.equal(payload.sub, idToken.sub);
    assert.equal(payload.scope, 'transfers', 'only the API scope, not openid');
    assert.equal(payload.acr, 'urn:facegate:loa:1');
    assert.deepEqual(payload.amr, ['pin']);
    assert.equal(payload.auth_time, idToken.auth_time);
    assert.equal((await call(payments.url, 'GET', '/balance', tokens.access_token)).status, 200);
    await assert.rejects(oidc.fetchUserInfo(rp, tokens.access_token, idToken.sub), 'a token for the API is not a userinfo token');
  });

  test('an unregistered resource is invalid_target', async () => {
    const started = await authorize({ scope: 'openid transfers', resource: 'https://unknown.example.com' });
    assert.ok(started.page.location?.startsWith(REDIRECT), `error goes back to the RP: ${started.page.location}`);
    const params = new URL(started.page.location!).searchParams;
    assert.equal(params.get('error'), 'invalid_target');
    assert.equal(params.get('code'), null);
  });

  test('the tenant admin API is invalid_target for an RP: no user-delegated admin token', async () => {
    const started = await authorize({ scope: 'openid admin', resource: `${issuer}/admin` });
    const params = new URL(started.page.location!).searchParams;
    assert.equal(params.get('error'), 'invalid_target');
    assert.equal(params.get('code'), null);
  });
});

describe('RFC 9470 step-up', () => {
  test('too old a sign-in: insufficient_user_authentication with max_age; a refresh does not help; a new sign-in does', async () => {
    const driver = new FormDriver(server.url);
    const first = await complete(await authorize({ scope: 'openid offline_access transfers', resource: PAYMENTS, prompt: 'consent' }, driver));
    assert.equal((await call(payments.url, 'GET', '/balance', first.access_token)).status, 200, 'a normal call is accepted');

    const authTime = first.claims()!.auth_time!;
    await new Promise((r) => setTimeout(r, Math.max(0, (authTime + TRANSFER_MAX_AGE + 1) * 1000 - Date.now())));
    const refused = await call(payments.url, 'POST', '/transfer', first.access_token);
    assert.equal(refused.status, 401);
    assert.equal(refused.challenge?.error, 'insufficient_user_authentication');
    assert.equal(refused.challenge?.max_age, String(TRANSFER_MAX_AGE));

    // A refreshed token states the same sign-in: it cannot make the authentication fresher.
    const refreshed = await oidc.refreshTokenGrant(rp, first.refresh_token!);
    assert.notEqual(refreshed.access_token, first.access_token);
    assert.equal((await call(payments.url, 'POST', '/transfer', refreshed.access_token)).challenge?.error, 'insufficient_user_authentication');

    // The RP turns the challenge into an authorization request; the provider makes the user sign in again.
    const maxAge = Number(refused.challenge!.max_age);
    const again = await authorize({ scope: 'openid transfers', resource: PAYMENTS, max_age: String(maxAge) }, driver);
    assert.match(again.page.html, /action="[^"]+\/identify"/, 'the signed-in user is asked to sign in again');
    const stepped = await complete(again, maxAge);
    assert.ok(stepped.claims()!.auth_time! > authTime);
    const accepted = await call(payments.url, 'POST', '/transfer', stepped.access_token);
    assert.equal(accepted.status, 200, JSON.stringify(accepted));
    assert.equal(accepted.body?.transferred, true);
  });

  test('a demand for acr loa:2 leads to unmet_authentication_requirements, never a weaker token', async () => {
    const tokens = await complete(await authorize({ scope: 'openid transfers', resource: PAYMENTS }));
    const refused = await call(payments.url, 'POST', '/limits', tokens.access_token);
    assert.equal(refused.challenge?.error, 'insufficient_user_authentication');
    assert.equal(refused.challenge?.acr_values, 'urn:facegate:loa:2');
    const again = await authorize({ scope: 'openid transfers', resource: PAYMENTS, acr_values: refused.challenge!.acr_values! });
    assert.ok(again.page.location?.startsWith(REDIRECT), `answered at once: ${again.page.location}`);
    const params = new URL(again.page.location!).searchParams;
    assert.equal(params.get('error'), 'unmet_authentication_requirements');
    assert.equal(params.get('code'), null, 'no code, so no token');
  });
});

describe('introspection (RFC 7662)', () => {
  test("the resource server's credential reads active, scope, sub, acr, amr, auth_time, aud, exp of its own opaque token", async () => {
    const tokens = await complete(await authorize({ scope: 'openid ledger', resource: LEDGER }));
    assert.equal(isJwt(tokens.access_token), false, 'the ledger asked for opaque tokens');
    const info = await oidc.tokenIntrospection(ledger.config, tokens.access_token);
    assert.equal(info.active, true);
    assert.equal(info.scope, 'ledger');
    assert.equal(info.sub, tokens.claims()!.sub);
    assert.equal(info.acr, 'urn:facegate:loa:1');
    assert.deepEqual(info.amr, ['pin']);
    assert.equal(info.auth_time, tokens.claims()!.auth_time);
    assert.equal(info.aud, LEDGER);
    assert.ok(typeof info.exp === 'number' && info.exp > Date.now() / 1000);
    const viaApi = await call(ledger.url, 'GET', '/balance', tokens.access_token);
    assert.equal(viaApi.status, 200);
    assert.equal(viaApi.body?.acr, 'urn:facegate:loa:1');
  });

  test('an RP, or another resource server, learns only active:false', async () => {
    const tokens = await complete(await authorize({ scope: 'openid ledger', resource: LEDGER }));
    assert.deepEqual(await oidc.tokenIntrospection(rp, tokens.access_token), { active: false }, 'not even the RP the token was issued to');
    assert.deepEqual(await oidc.tokenIntrospection(payments.config, tokens.access_token), { active: false }, 'a token for another audience');
    const userinfoToken = (await complete(await authorize({ scope: 'openid' }))).access_token;
    assert.deepEqual(await oidc.tokenIntrospection(ledger.config, userinfoToken), { active: false }, 'a token without its audience');
    assert.deepEqual(await oidc.tokenIntrospection(ledger.config, 'forged-token-value'), { active: false });
  });

  test('a revoked token is active:false and refused by the API', async () => {
    const tokens = await complete(await authorize({ scope: 'openid ledger', resource: LEDGER }));
    assert.equal((await oidc.tokenIntrospection(ledger.config, tokens.access_token)).active, true);
    await oidc.tokenRevocation(rp, tokens.access_token);
    assert.deepEqual(await oidc.tokenIntrospection(ledger.config, tokens.access_token), { active: false });
    assert.equal((await call(ledger.url, 'GET', '/balance', tokens.access_token)).challenge?.error, 'invalid_token');
  });

  test("a resource server's credential cannot obtain tokens", async () => {
    const tokens = await complete(await authorize({ scope: 'openid offline_access ledger', resource: LEDGER, prompt: 'consent' }));
    const refused = (e: unknown) => e instanceof oidc.ResponseBodyError && /grant type/.test(e.error_description ?? '');
    await assert.rejects(oidc.refreshTokenGrant(ledger.config, tokens.refresh_token!), refused);
    await assert.rejects(oidc.clientCredentialsGrant(ledger.config, { scope: 'ledger' }), (e) => e instanceof oidc.ResponseBodyError);
    const url = oidc.buildAuthorizationUrl(ledger.config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
    const res = await new FormDriver(server.url).get(url.toString());
    assert.equal(res.status, 400);
    assert.match(res.html, /invalid_redirect_uri/, 'it has no redirect URI to receive a code at');
  });
});
