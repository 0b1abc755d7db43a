/**
 * An RP's whole sign-in with openid-client against a provider reached only by URL (a server in
 * another process): discovery, PKCE authorization, the PIN forms, code exchange, ID token checks.
 */
import * as oidc from 'openid-client';
import { FormDriver } from './browser-less.ts';
import { pinSignIn } from './pinSignIn.ts';

export async function signInWithPin(issuer: string, client: { id: string; secret: string }, redirectUri: string, user: { username: string; pin: string }) {
  const config = await oidc.discovery(new URL(issuer), client.id, client.secret, undefined, { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const { callback } = await pinSignIn(new FormDriver(new URL(issuer).origin), url, redirectUri, user.username, user.pin);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  return tokens.claims()!;
}
