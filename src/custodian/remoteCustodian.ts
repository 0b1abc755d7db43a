/**
 * The provider's side of a separate custodian: the same narrow interface, over its channel
 * (mutual TLS, a Unix socket, or loopback HTTP; channelClient.ts) with the bearer token of each
 * call's scope. It holds no custodian key material — only the endpoint, its own client
 * certificate and the tokens.
 */
import { AuthError, FacegateError, InputError, NotFoundError, RateLimitError } from '../errors.ts';
import type { CustodianEndpoint } from './channel.ts';
import { custodianPost } from './channelClient.ts';
import type { Custodian } from './custodian.ts';
import type { CustodianScope, CustodianTokens } from './httpServer.ts';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** `token` alone holds every scope; `tokens` gives one per scope (httpServer.ts). */
export function createRemoteCustodian(opts: { endpoint: CustodianEndpoint; token: string | CustodianTokens; timeoutMs?: number }): Custodian {
  const post = custodianPost(opts.endpoint, opts.timeoutMs ?? 5000);
  const tokens = typeof opts.token === 'string' ? { attempt: opts.token, enroll: opts.token, shred: opts.token } : opts.token;
  const scopeOf = (path: string): CustodianScope => (path === '/v1/shred' ? 'shred' : path === '/v1/keys' || path === '/v1/passkeys' ? 'enroll' : 'attempt');

  async function call(path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const token = tokens[scopeOf(path)];
    const { status, json, retryAfter } = await post(path, { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, JSON.stringify(body));
    if (status >= 200 && status < 300) return json;
    const code = typeof json.error === 'string' ? json.error : 'custodian.error';
    const message = typeof json.message === 'string' ? json.message : `custodian answered ${status}`;
    if (status === 401) throw new AuthError('custodian.unauthorized', 'the custodian rejected our token', 502);
    if (status === 429) throw new RateLimitError(code, message, Number(retryAfter ?? 60));
    if (status === 404) throw new NotFoundError(code, message);
    if (status >= 400 && status < 500) throw new InputError(code, message, status);
    throw new FacegateError(code, message, 502);
  }

  return {
    async createUserKey(tenant, user) {
      const { publicKey } = await call('/v1/keys', { tenant, user });
      return new Uint8Array(Buffer.from(String(publicKey), 'base64'));
    },
    async registerPasskey(tenant, user, passkey) {
      await call('/v1/passkeys', { tenant, user, credentialId: passkey.credentialId, publicKey: b64(passkey.publicKey), signCount: passkey.signCount });
    },
    async issueCaptureNonce(tenant, user) {
      const { nonce, expiresAt } = await call('/v1/nonces', { tenant, user });
      if (typeof nonce !== 'string' || typeof expiresAt !== 'number') throw new FacegateError('custodian.bad_response', 'custodian returned no nonce', 502);
      return { nonce, expiresAt };
    },
    async decideMatch(tenant, user, { ciphertext, attempt }) {
      const { decision } = await call('/v1/decide', {
        tenant,
        user,
        ciphertext: b64(ciphertext),
        attempt: { nonce: attempt.nonce, frameHashes: attempt.frameHashes.map(b64), assertion: attempt.assertion },
      });
      if (decision !== 'accept' && decision !== 'reject') throw new FacegateError('custodian.bad_response', 'custodian returned no decision', 502);
      return decision;
    },
    async shredUserKey(tenant, user) {
      const { shredded } = await call('/v1/shred', { tenant, user });
      return shredded === true;
    },
  };
}
