/**
 * The provider's side of a separate custodian: the same narrow interface, over HTTP with the
 * shared bearer token. It holds no key material — only the URL and the token.
 */
import { AuthError, FacegateError, InputError, NotFoundError, RateLimitError } from '../errors.ts';
import type { Custodian } from './custodian.ts';

export function createRemoteCustodian(opts: { url: string; token: string; timeoutMs?: number }): Custodian {
  const { url, token, timeoutMs = 5000 } = opts;

  async function call(path: string, body: Record<string, string>): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch {
      throw new FacegateError('custodian.unavailable', 'the custodian service is unreachable', 503);
    }
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.ok) return json;
    const code = typeof json.error === 'string' ? json.error : 'custodian.error';
    const message = typeof json.message === 'string' ? json.message : `custodian answered ${res.status}`;
    if (res.status === 401) throw new AuthError('custodian.unauthorized', 'the custodian rejected our token', 502);
    if (res.status === 429) throw new RateLimitError(code, message, Number(res.headers.get('retry-after') ?? 60));
    if (res.status === 404) throw new NotFoundError(code, message);
    if (res.status >= 400 && res.status < 500) throw new InputError(code, message, res.status);
    throw new FacegateError(code, message, 502);
  }

  return {
    async createUserKey(tenant, user) {
      const { publicKey } = await call('/v1/keys', { tenant, user });
      return new Uint8Array(Buffer.from(String(publicKey), 'base64'));
    },
    async decideMatch(tenant, user, { ciphertext }) {
      const { decision } = await call('/v1/decide', { tenant, user, ciphertext: Buffer.from(ciphertext).toString('base64') });
      if (decision !== 'accept' && decision !== 'reject') throw new FacegateError('custodian.bad_response', 'custodian returned no decision', 502);
      return decision;
    },
    async shredUserKey(tenant, user) {
      const { shredded } = await call('/v1/shred', { tenant, user });
      return shredded === true;
    },
  };
}
