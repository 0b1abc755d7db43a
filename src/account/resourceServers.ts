/**
 * Resource servers (APIs) of a tenant, registered by the operator. An RP asks for an access
 * token for one with an RFC 8707 resource indicator; the registration decides the token's
 * audience, scopes and format (oidc/resourceServerConfig.ts). Each resource server gets its own
 * credential, which can introspect the tokens issued for it and do nothing else.
 */
import { appendAudit } from '../audit/log.ts';
import { ConflictError, InputError } from '../errors.ts';
import type { Database } from '../store/db.ts';
import type { DataKey } from '../store/dataKey.ts';
import { insertResourceServerClient } from './clients.ts';
import { inTenant } from './tenants.ts';

/** `jwt`: RFC 9068, checked offline against the tenant JWKS; `opaque`: read through introspection, revocable. */
export const TOKEN_FORMATS = ['jwt', 'opaque'] as const;
export type TokenFormat = (typeof TOKEN_FORMATS)[number];

export type ResourceServerInput = {
  /** The resource indicator RPs send (`resource=`); matched exactly. */
  uri: string;
  /** `aud` of its tokens; the URI when absent. */
  audience?: string;
  /** Scopes it understands (`read`, `payments:write`); an RP gets only those it asked for and the user allowed. */
  scopes?: string[];
  /** Defaults to `jwt`. */
  tokenFormat?: string;
};

export type ResourceServer = { uri: string; audience: string; scopes: string[]; tokenFormat: TokenFormat; clientId: string; createdAt: Date };

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const SCOPE = /^[A-Za-z0-9._:/-]{1,64}$/;
const MAX_SCOPES = 50;
/** The provider's OpenID scopes (oidc/provider.ts): they mean the userinfo audience, not an API's. */
const OIDC_SCOPES = new Set(['openid', 'offline_access', 'profile', 'email']);

function invalid(code: string, message: string): never {
  throw new InputError(code, message);
}

/** RFC 8707 §2: an absolute URI without a fragment; we also refuse queries and credentials, and plain http off loopback. */
function validateUri(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    invalid('resource.invalid_uri', `resource URI "${raw}" is not an absolute URL`);
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && LOOPBACK.has(u.hostname))) {
    invalid('resource.invalid_uri', `resource URI "${raw}" must use https (http only for localhost)`);
  }
  if (raw.includes('#') || raw.includes('?')) invalid('resource.invalid_uri', `resource URI "${raw}" must not contain a query or fragment`);
  if (u.username || u.password) invalid('resource.invalid_uri', `resource URI "${raw}" must not contain credentials`);
  if (raw.length > 2000) invalid('resource.invalid_uri', 'resource URI is longer than 2000 characters');
  return raw;
}

/** Checks the input and returns what is stored; pure: every problem is an InputError `resource.*`. */
export function validateResourceServerInput(input: ResourceServerInput): Omit<ResourceServer, 'clientId' | 'createdAt'> {
  const uri = validateUri(input.uri);
  const audience = input.audience ?? uri;
  if (audience.length < 1 || audience.length > 2000 || /[\s\p{Cc}]/u.test(audience)) {
    invalid('resource.invalid_audience', 'audience must be 1–2000 printable characters without spaces');
  }
  const scopes = [...new Set((input.scopes ?? []).flatMap((s) => s.split(' ')).filter(Boolean))];
  if (scopes.length > MAX_SCOPES) invalid('resource.invalid_scope', `at most ${MAX_SCOPES} scopes`);
  for (const s of scopes) {
    if (!SCOPE.test(s)) invalid('resource.invalid_scope', `scope "${s}" must be 1–64 characters of A–Z, a–z, 0–9, '.', '_', ':', '/', '-'`);
    if (OIDC_SCOPES.has(s)) invalid('resource.invalid_scope', `scope "${s}" is an OpenID scope, not a resource server's`);
  }
  const tokenFormat = input.tokenFormat ?? 'jwt';
  if (!(TOKEN_FORMATS as readonly string[]).includes(tokenFormat)) {
    invalid('resource.invalid_token_format', `token format must be ${TOKEN_FORMATS.join(' or ')}; got "${tokenFormat}"`);
  }
  return { uri, audience, scopes, tokenFormat: tokenFormat as TokenFormat };
}

/** Registers a resource server with a new introspection credential; the secret is shown once by the caller. */
export async function createResourceServer(
  { db, dataKey }: { db: Database; dataKey: DataKey },
  tenantId: string,
  input: ResourceServerInput,
  actor: string,
): Promise<{ resourceServer: ResourceServer; clientSecret: string }> {
  const valid = validateResourceServerInput(input);
  return inTenant(db, tenantId, async (sql) => {
    const { clientId, clientSecret } = await insertResourceServerClient(sql, dataKey, tenantId, `resource server ${valid.uri}`);
    const { rows } = await sql.query<{ created_at: Date }>(
      `INSERT INTO resource_servers (tenant_id, uri, audience, scopes, token_format, client_id) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT DO NOTHING RETURNING created_at`,
      [tenantId, valid.uri, valid.audience, valid.scopes, valid.tokenFormat, clientId],
    );
    // Throwing rolls the credential back with the transaction.
    if (!rows[0]) throw new ConflictError('resource.exists', `a resource server with URI "${valid.uri}" or audience "${valid.audience}" already exists in tenant "${tenantId}"`);
    await appendAudit(sql, tenantId, {
      type: 'resource_server.created',
      actor,
      subject: valid.uri,
      data: { audience: valid.audience, scopes: valid.scopes, format: valid.tokenFormat, client_id: clientId },
    });
    return { resourceServer: { ...valid, clientId, createdAt: new Date(rows[0].created_at) }, clientSecret };
  });
}

type Row = { uri: string; audience: string; scopes: string[]; token_format: TokenFormat; client_id: string; created_at: Date };
const COLUMNS = 'uri, audience, scopes, token_format, client_id, created_at';
const toResourceServer = (r: Row): ResourceServer => ({
  uri: r.uri,
  audience: r.audience,
  scopes: r.scopes,
  tokenFormat: r.token_format,
  clientId: r.client_id,
  createdAt: new Date(r.created_at),
});

export async function listResourceServers(db: Database, tenantId: string): Promise<ResourceServer[]> {
  const { rows } = await inTenant(db, tenantId, (sql) => sql.query<Row>(`SELECT ${COLUMNS} FROM resource_servers ORDER BY uri`));
  return rows.map(toResourceServer);
}

/** The resource server a resource indicator names, if registered. */
export async function findResourceServer(db: Database, tenantId: string, uri: string): Promise<ResourceServer | undefined> {
  const { rows } = await db.statement<Row>(tenantId, `SELECT ${COLUMNS} FROM resource_servers WHERE uri = $1`, [uri]);
  return rows[0] && toResourceServer(rows[0]);
}

/** The resource server a client credential belongs to, if it is one. */
export async function findResourceServerByClient(db: Database, tenantId: string, clientId: string): Promise<ResourceServer | undefined> {
  const { rows } = await db.statement<Row>(tenantId, `SELECT ${COLUMNS} FROM resource_servers WHERE client_id = $1`, [clientId]);
  return rows[0] && toResourceServer(rows[0]);
}
