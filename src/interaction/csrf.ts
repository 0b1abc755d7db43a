/**
 * CSRF token for interaction forms: an HMAC of the interaction uid under the cookie key. A
 * forged cross-site POST lacks both the SameSite interaction cookie and this token.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AuthError } from '../errors.ts';

export function csrfToken(key: string, uid: string): string {
  return createHmac('sha256', key).update(`csrf:${uid}`).digest('base64url');
}

export function assertCsrf(keys: string[], uid: string, token: string | undefined): void {
  const given = Buffer.from(token ?? '');
  const ok = keys.some((k) => {
    const expected = Buffer.from(csrfToken(k, uid));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!ok) throw new AuthError('request.csrf', 'the form is stale or was not sent by this site; start again', 403);
}
