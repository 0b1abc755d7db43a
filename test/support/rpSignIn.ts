/**
 * An RP's whole sign-in with openid-client against a provider reached only by URL (a server in
 * another process): discovery, PKCE authorization, the PIN forms, code exchange, ID token checks.
 */
import * as oidc from 'openid-client';
import { FormDriver } from './browser-less.ts';
import { pinSignIn } from './pinSignIn.ts';
import { pkceAuthorization } from './oidcFlow.ts';

export async function signInWithPin(issuer: string, client: { id: string; secret: string }, redirectUri: string, user: { username: string; pin: string }) {
  const config = await oidc.discovery(new URL(issuer), client.id, client.secret, undefined, { execute: [oidc.allowInsecureRequests] });
  const { url, verifier, state } = await pkceAuthorization(config, { redirect_uri: redirectUri, scope: 'openid' }, { nonce: false });
  const { callback } = await pinSignIn(new FormDriver(new URL(issuer).origin), url, redirectUri, user.username, user.pin);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  return tokens.claims()!;
}
