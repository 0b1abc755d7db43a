/**
 * Discovery advertises exactly the client authentication the CLI can register, and each works
 * end to end with openid-client: client_secret_post, and private_key_jwt with a key pair made
 * here whose JWKS a tiny local server publishes. An assertion signed by a key outside the
 * client's JWKS is refused. (oidc-provider accepts a secret by Basic or by POST for either
 * secret method, by design; the registered method is what the client is told to use.)
 *
 * oidc-provider refuses to fetch a jwks_uri on a local address (its SSRF guard), so the test
 * plays the network: https://client-keys.example.test is routed to the local JWKS server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import * as oidc from 'openid-client';
import { pkceAuthorization } from '../support/oidcFlow.ts';
import { FormDriver } from '../support/browser-less.ts';
import { pinSignIn } from '../support/pinSignIn.ts';
import { startTestServer } from '../support/server.ts';
import type { RunningServer } from '../../src/main.ts';
import { createClient } from '../../src/account/clients.ts';
import { createUser } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';

const REDIRECT = 'http://127.0.0.1:1/callback';
const INSECURE = { execute: [oidc.allowInsecureRequests] };
const JWKS_URI = 'https://client-keys.example.test/jwks';

let server: RunningServer;
let jwksServer: http.Server;
const realFetch = globalThis.fetch;
let clientKey: CryptoKey;
let strangerKey: CryptoKey;

async function es256(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

before(async () => {
  server = await startTestServer();
  const alice = await createUser(server.db, 'default', { username: 'alice' }, 'test');
  await setPin(server.db, 'default', alice.id, '482913', 'test');
  const pair = await es256();
  clientKey = pair.privateKey;
  strangerKey = (await es256()).privateKey;
  const jwks = JSON.stringify({ keys: [{ ...(await crypto.subtle.exportKey('jwk', pair.publicKey)), kid: 'client-key', alg: 'ES256', use: 'sig' }] });
  jwksServer = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const local = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}`;
  globalThis.fetch = ((input: string | URL, init: RequestInit & { dispatcher?: unknown } = {}) => {
    if (!input.toString().startsWith(JWKS_URI)) return realFetch(input, init);
    const { dispatcher: _ssrfGuard, ...rest } = init;
    return realFetch(`${local}/jwks`, rest);
  }) as typeof fetch;
});

after(async () => {
  globalThis.fetch = realFetch;
  await server?.close();
  jwksServer?.close();
});

const issuer = () => new URL(`${server.url}/t/default`);

/** A PIN sign-in to a callback carrying a code, with the PKCE verifier to redeem it. */
async function codeFor(rp: oidc.Configuration, extra: Record<string, string> = {}) {
  const { url, verifier, state } = await pkceAuthorization(rp, { redirect_uri: REDIRECT, scope: 'openid', ...extra }, { nonce: false });
  const { callback } = await pinSignIn(new FormDriver(server.url), url, REDIRECT, 'alice', '482913');
  return { callback, checks: { pkceCodeVerifier: verifier, expectedState: state } };
}

const rejectedAsInvalidClient = (e: { error?: string }) => e.error === 'invalid_client';

describe('client authentication', () => {
  test('discovery lists exactly the methods that work, no PAR, no HMAC assertions', async () => {
    const meta = (await oidc.discovery(issuer(), 'x', undefined, undefined, INSECURE)).serverMetadata();
    const methods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];
    assert.deepEqual(meta.token_endpoint_auth_methods_supported, methods);
    assert.deepEqual(meta.revocation_endpoint_auth_methods_supported ?? methods, methods);
    assert.equal(meta.pushed_authorization_request_endpoint, undefined);
    assert.ok(meta.token_endpoint_auth_signing_alg_values_supported?.includes('ES256'));
    assert.ok(!meta.token_endpoint_auth_signing_alg_values_supported?.some((a) => a.startsWith('HS')));
  });

  test('client_secret_post: the code exchange succeeds (and sid, advertised, is issued when asked for); a wrong secret is refused', async () => {
    const c = await createClient(server, 'default', { redirectUris: [REDIRECT], authMethod: 'client_secret_post' }, 'test');
    assert.ok(c.clientSecret);
    const rp = await oidc.discovery(issuer(), c.clientId, undefined, oidc.ClientSecretPost(c.clientSecret), INSECURE);
    assert.ok(rp.serverMetadata().claims_supported?.includes('sid'));
    const { callback, checks } = await codeFor(rp, { claims: JSON.stringify({ id_token: { sid: null } }) });
    const tokens = await oidc.authorizationCodeGrant(rp, callback, checks);
    assert.ok(tokens.access_token);
    assert.ok(tokens.claims()?.sid, 'the sid claim requested through the claims parameter is in the ID token');

    const wrong = await oidc.discovery(issuer(), c.clientId, undefined, oidc.ClientSecretPost('x'.repeat(43)), INSECURE);
    const again = await codeFor(wrong);
    await assert.rejects(oidc.authorizationCodeGrant(wrong, again.callback, again.checks), rejectedAsInvalidClient);
  });

  test('private_key_jwt: the code exchange succeeds; an assertion signed by another key is refused', async () => {
    const c = await createClient(server, 'default', { redirectUris: [REDIRECT], authMethod: 'private_key_jwt', jwksUri: JWKS_URI }, 'test');
    assert.equal(c.clientSecret, undefined, 'no shared secret is made for a key-authenticated client');
    const rp = await oidc.discovery(issuer(), c.clientId, undefined, oidc.PrivateKeyJwt({ key: clientKey, kid: 'client-key' }), INSECURE);
    const { callback, checks } = await codeFor(rp);
    const tokens = await oidc.authorizationCodeGrant(rp, callback, checks);
    assert.ok(tokens.access_token && tokens.id_token);

    const forged = await oidc.discovery(issuer(), c.clientId, undefined, oidc.PrivateKeyJwt({ key: strangerKey, kid: 'client-key' }), INSECURE);
    const again = await codeFor(forged);
    await assert.rejects(oidc.authorizationCodeGrant(forged, again.callback, again.checks), rejectedAsInvalidClient);
  });
});
