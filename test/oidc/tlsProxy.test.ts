/**
 * Deployed as in production: PUBLIC_URL is https and a TLS-terminating proxy forwards plain http
 * with X-Forwarded-Proto/Host (TRUST_PROXY=true). A PIN sign-in goes through to tokens with
 * openid-client, every hop through the proxy, and the provider's cookies are Secure.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { pkceAuthorization } from '../support/oidcFlow.ts';
import { FormDriver } from '../support/browser-less.ts';
import { behindTlsProxy } from '../support/forwarding.ts';
import { pinSignIn } from '../support/pinSignIn.ts';
import { startTestServer } from '../support/server.ts';
import type { RunningServer } from '../../src/main.ts';
import { createClient } from '../../src/account/clients.ts';
import { createUser } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';

const PUBLIC_URL = 'https://id.example.test';
const ISSUER = `${PUBLIC_URL}/t/default`;
const REDIRECT = 'https://app.example.test/callback';

let server: RunningServer;
let proxy: typeof fetch;
let rp: oidc.Configuration;

before(async () => {
  server = await startTestServer({ PUBLIC_URL, TRUST_PROXY: 'true' });
  proxy = behindTlsProxy(PUBLIC_URL, server.url);
  const alice = await createUser(server.db, 'default', { username: 'alice' }, 'test');
  await setPin(server.db, 'default', alice.id, '482913', 'test');
  const client = await createClient(server, 'default', { name: 'Proxied App', redirectUris: [REDIRECT], postLogoutRedirectUris: [REDIRECT] }, 'test');
  rp = await oidc.discovery(new URL(ISSUER), client.clientId, client.clientSecret!, undefined, { [oidc.customFetch]: (url, options) => proxy(url, options as RequestInit) });
});

after(async () => {
  await server?.close();
});

describe('behind a TLS-terminating proxy', () => {
  test('a PIN sign-in completes to tokens, and every cookie is Secure', async () => {
    assert.equal(rp.serverMetadata().token_endpoint, `${ISSUER}/token`);
    const { url, verifier, nonce, state } = await pkceAuthorization(rp, { redirect_uri: REDIRECT, scope: 'openid profile' });
    const driver = new FormDriver(PUBLIC_URL, proxy);
    const { callback } = await pinSignIn(driver, url, REDIRECT, 'alice', '482913');
    const tokens = await oidc.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true });
    const claims = tokens.claims()!;
    assert.equal(claims.iss, ISSUER);
    assert.deepEqual(claims.amr, ['pin']);
    assert.equal((await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub)).preferred_username, 'alice');

    assert.ok(driver.setCookieLines.length >= 2, 'the interaction and session cookies were set');
    for (const line of driver.setCookieLines) assert.match(line, /;\s*secure(;|$)/i, `Secure cookie: ${line.split('=')[0]}`);

    // The logout confirmation names the public host, not the address the proxy forwarded to.
    const logout = await driver.follow(await driver.get(oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token! }).toString()));
    assert.equal(logout.status, 200);
    assert.match(logout.html, /sign out from id\.example\.test\?/);
  });
});
