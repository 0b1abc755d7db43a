/**
 * The admin API's bearer check: an RFC 9068 JWT access token issued by this tenant's provider
 * for the admin audience, verified locally against the tenant's signing keys (no introspection
 * round trip), carrying the `admin` scope. Another tenant's token fails on its issuer and key.
 */
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { AuthError } from '../errors.ts';
import type { Database } from '../store/db.ts';
import type { DataKey } from '../store/dataKey.ts';
import { loadSigningKeys } from '../oidc/keys.ts';
import { ADMIN_SCOPE, adminAudience } from './adminClient.ts';

const PRIVATE_PARTS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
/** Longer is not a token we issued (an RS256 JWT here is well under 2 KB). */
const MAX_TOKEN_CHARS = 8192;

export type AdminCaller = { clientId: string };

/** Errors carry the RFC 6750 challenge for the WWW-Authenticate header. */
export class BearerError extends AuthError {
  readonly challenge: string;
  constructor(code: string, message: string, status: 401 | 403, error: 'invalid_token' | 'insufficient_scope') {
    super(code, message, status);
    this.challenge = `Bearer error="${error}"${error === 'insufficient_scope' ? ` scope="${ADMIN_SCOPE}"` : ''}`;
  }
}

export async function verifyAdminBearer(deps: { db: Database; dataKey: DataKey }, tenantId: string, issuer: string, authorization: string | undefined): Promise<AdminCaller> {
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization ?? '');
  if (!m || m[1].length > MAX_TOKEN_CHARS) throw new BearerError('admin.invalid_token', 'an admin access token is required (Authorization: Bearer …)', 401, 'invalid_token');
  const keys = (await loadSigningKeys(deps.db, deps.dataKey, tenantId)).map((k) => Object.fromEntries(Object.entries(k).filter(([name]) => !PRIVATE_PARTS.includes(name))) as JWK);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(m[1], createLocalJWKSet({ keys }), { issuer, audience: adminAudience(issuer), typ: 'at+jwt', algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'] }));
  } catch {
    throw new BearerError('admin.invalid_token', 'the access token is not valid for this tenant\'s admin API', 401, 'invalid_token');
  }
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
  if (!scopes.includes(ADMIN_SCOPE)) throw new BearerError('admin.insufficient_scope', `the access token lacks the "${ADMIN_SCOPE}" scope`, 403, 'insufficient_scope');
  if (typeof payload.client_id !== 'string') throw new BearerError('admin.invalid_token', 'the access token names no client', 401, 'invalid_token');
  return { clientId: payload.client_id };
}
