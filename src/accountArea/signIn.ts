/**
 * Signing in to the account area through the tenant's own provider: an authorization-code
 * request with PKCE (S256), state and nonce from the account client, then the code redeemed.
 * The code is redeemed in process through the provider's AuthorizationCode model rather than
 * over HTTP (the server need not reach its own public URL from inside a proxy), with the token
 * endpoint's checks: this client, this redirect URI, the PKCE verifier, the nonce, not expired,
 * used once (the adapter's conditional consume). It yields what the ID token would say: `sub`
 * and `auth_time`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type Provider from 'oidc-provider';
import { AuthError } from '../errors.ts';
import { ACCOUNT_CLIENT_ID } from './accountClient.ts';

export type SignInRequest = { url: string; state: string; nonce: string; verifier: string };

const random = () => randomBytes(32).toString('base64url');
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/** `reauth` forces a fresh authentication (prompt=login, max_age=0) for `loginHint`. */
export function signInRequest(issuer: string, redirectUri: string, options: { reauth?: boolean; loginHint?: string } = {}): SignInRequest {
  const state = random();
  const nonce = random();
  const verifier = random();
  const url = new URL(`${issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: ACCOUNT_CLIENT_ID,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
    state,
    nonce,
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
    ...(options.reauth ? { prompt: 'login', max_age: '0' } : {}),
    ...(options.loginHint ? { login_hint: options.loginHint } : {}),
  }).toString();
  return { url: url.toString(), state, nonce, verifier };
}

const refused = () => new AuthError('account.signin_failed', 'the sign-in could not be completed; sign in again', 400);

/** Redeems `code` for who signed in and when; AuthError `account.signin_failed` on any mismatch. */
export async function redeemCode(provider: Provider, code: string, expected: { redirectUri: string; verifier: string; nonce: string }): Promise<{ sub: string; authTime: number }> {
  if (code.length > 512 || code.includes('\0')) throw refused();
  const found = await provider.AuthorizationCode.find(code);
  if (!found || !found.isValid) throw refused();
  const c = found as typeof found & { nonce?: string; codeChallenge?: string; codeChallengeMethod?: string; redirectUri?: string; accountId?: string; authTime?: number };
  if (c.clientId !== ACCOUNT_CLIENT_ID || c.redirectUri !== expected.redirectUri || c.nonce !== expected.nonce) throw refused();
  if (c.codeChallengeMethod !== 'S256' || c.codeChallenge !== s256(expected.verifier)) throw refused();
  if (!c.accountId || typeof c.authTime !== 'number') throw refused();
  try {
    await found.consume();
  } catch {
    throw refused();
  }
  return { sub: c.accountId, authTime: c.authTime };
}
