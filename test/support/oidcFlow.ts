/**
 * Real authorization-code flows against a test server, for tests that need genuine codes,
 * tokens, session cookies and interaction uids: a registered confidential client, a PIN
 * or public client, a PIN or TOTP sign-in over the HTML forms, consent, and raw calls to the token endpoint.
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createClient } from '../../src/account/clients.ts';
import type { RunningServer } from '../../src/main.ts';
import { FormDriver, formOf, type Page } from './browser-less.ts';

export const REDIRECT = 'http://127.0.0.1:1/callback';

/** `clientSecret` is undefined for a public client (which oidc-provider gives rotating refresh tokens). */
export type Rp = { config: oidc.Configuration; clientId: string; clientSecret: string | undefined; issuer: string };

export async function registerRp(server: RunningServer, tenant: string, name: string, options: { public?: boolean } = {}): Promise<Rp> {
  const created = await createClient(server, tenant, { name, redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'], public: options.public }, 'test');
  const issuer = `${server.url}/t/${tenant}`;
  const auth = created.clientSecret === undefined ? oidc.None() : undefined;
  const config = await oidc.discovery(new URL(issuer), created.clientId, created.clientSecret, auth, { execute: [oidc.allowInsecureRequests] });
  return { config, clientId: created.clientId, clientSecret: created.clientSecret, issuer };
}

/**
 * A PKCE (S256) authorization request for `config` with a fresh state and, unless `nonce` is
 * false, a nonce; `params` (redirect_uri, scope, …) come last so they can override. Returns the
 * URL and what the callback and ID token are checked against.
 */
export async function pkceAuthorization(config: oidc.Configuration, params: Record<string, string>, options: { nonce?: boolean } = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = options.nonce === false ? undefined : oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...(nonce ? { nonce } : {}),
    ...params,
  });
  return { url, verifier, state, nonce };
}

export type Authorized = {
  driver: FormDriver;
  /** The authorization code the client received. */
  code: string;
  verifier: string;
  /** Interaction uids seen on the way (empty when the session and grant answered at once). */
  interactionUids: string[];
};

function interactionUid(page: Page): string[] {
  const m = /\/interaction\/([^/?"]+)/.exec(page.url);
  return m ? [m[1]] : [];
}

/** Who signs in, with a PIN or with a TOTP code made when asked. */
export type SignIn = { username: string; pin: string } | { username: string; totp: () => Promise<string> };

/**
 * Runs /auth for `rp` in `driver`'s browser: signs in when asked, consents when asked, and
 * returns the code sent back to the redirect URI.
 */
export async function authorize(
  rp: Rp,
  user: SignIn,
  options: { driver?: FormDriver; prompt?: string; scope?: string } = {},
): Promise<Authorized> {
  const driver = options.driver ?? new FormDriver(new URL(rp.issuer).origin);
  const { url, verifier } = await pkceAuthorization(
    rp.config,
    { redirect_uri: REDIRECT, scope: options.scope ?? 'openid offline_access', prompt: options.prompt ?? 'consent' },
    { nonce: false },
  );
  const interactionUids: string[] = [];
  let page = await driver.follow(await driver.get(url.toString()));
  interactionUids.push(...interactionUid(page));
  if (page.html.includes('/identify"')) {
    const identify = formOf(page.html, '/identify');
    page = await driver.post(identify.action, { ...identify.fields, username: user.username });
    if ('pin' in user) {
      const pin = formOf(page.html, '/pin');
      page = await driver.post(pin.action, { ...pin.fields, pin: user.pin });
    } else {
      const link = /href="([^"]*factor=otp[^"]*)"/.exec(page.html);
      assert.ok(link, 'TOTP is offered next to the PIN');
      page = await driver.get(link[1].replace(/&amp;/g, '&'));
      const totp = formOf(page.html, '/totp');
      page = await driver.post(totp.action, { ...totp.fields, code: await user.totp() });
    }
    page = await driver.follow(page);
    interactionUids.push(...interactionUid(page));
  }
  if (page.html.includes('/consent"')) {
    const consent = formOf(page.html, '/consent');
    page = await driver.follow(await driver.post(consent.action, consent.fields));
  }
  assert.ok(page.location?.startsWith(REDIRECT), `redirected to the client: ${page.location ?? page.html.slice(0, 500)}`);
  const code = new URL(page.location!).searchParams.get('code');
  assert.ok(code, `a code in ${page.location}`);
  return { driver, code, verifier, interactionUids: [...new Set(interactionUids)] };
}

export type TokenResponse = { status: number; body: Record<string, unknown> };

/** A raw token endpoint call: client_secret_basic, or the client_id alone for a public client. */
export async function tokenRequest(rp: Rp, params: Record<string, string>): Promise<TokenResponse> {
  const basic = rp.clientSecret === undefined ? undefined : Buffer.from(`${encodeURIComponent(rp.clientId)}:${encodeURIComponent(rp.clientSecret)}`).toString('base64');
  const res = await fetch(`${rp.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(basic ? { authorization: `Basic ${basic}` } : {}) },
    body: new URLSearchParams({ ...params, ...(basic ? {} : { client_id: rp.clientId }) }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Exchanges an authorization code for tokens. */
export function exchangeCode(rp: Rp, authorized: Authorized): Promise<TokenResponse> {
  return tokenRequest(rp, { grant_type: 'authorization_code', code: authorized.code, redirect_uri: REDIRECT, code_verifier: authorized.verifier });
}
