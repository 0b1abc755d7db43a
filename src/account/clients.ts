/**
 * OIDC clients (relying parties) of a tenant. `clients.metadata` holds exactly the
 * oidc-provider client metadata object; the operator's minimum acr lives beside it in
 * `clients.min_acr`, out of reach of anything the RP sends. The client secret in it is sealed
 * with the data key to its tenant and client; the OIDC adapter opens it for oidc-provider.
 */
import { ACR_VALUES, isAcr, type Acr } from '../oidc/assurance.ts';
import { CLIENT_AUTH_METHODS, isClientAuthMethod, usesClientSecret, type ClientAuthMethod } from '../oidc/clientAuth.ts';
import { randomBytes } from 'node:crypto';
import { appendAudit } from '../audit/log.ts';
import { ConflictError, InputError, NotFoundError } from '../errors.ts';
import type { Database, Sql } from '../store/db.ts';
import { SEALED_LIKE, type DataKey } from '../store/dataKey.ts';
import { inTenant } from './tenants.ts';

/** The levels of DESIGN.md §4 an operator may require of a client. */
export type MinAcr = Acr;

const GRANT_TYPES = ['authorization_code', 'refresh_token'] as const;
type GrantType = (typeof GRANT_TYPES)[number];

export type ClientInput = {
  /** Generated when absent. */
  clientId?: string;
  name?: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /** Public client (SPA, native app): no secret, PKCE only. Same as authMethod 'none'. */
  public?: boolean;
  /** Token endpoint authentication; defaults to client_secret_basic ('none' when public). */
  authMethod?: string;
  /** Where the client publishes its keys; required for (and only for) private_key_jwt. */
  jwksUri?: string;
  /** Defaults to both authorization_code and refresh_token. */
  grantTypes?: string[];
  minAcr?: string | null;
};

/** oidc-provider client metadata, as stored in `clients.metadata`. */
export type ClientMetadata = {
  client_id: string;
  client_secret?: string;
  client_name?: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: GrantType[];
  response_types: ['code'];
  token_endpoint_auth_method: ClientAuthMethod;
  jwks_uri?: string;
};

export type ClientSummary = {
  clientId: string;
  name: string | null;
  public: boolean;
  redirectUris: string[];
  grantTypes: string[];
  minAcr: MinAcr | null;
  createdAt: Date;
};

/** The data-key context a client secret is sealed to. */
export function clientSecretContext(tenantId: string, clientId: string): string {
  return `client-secret:${tenantId}:${clientId}`;
}

const CLIENT_ID = /^[A-Za-z0-9._~-]{3,128}$/;
const MAX_URIS = 20;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function invalid(code: string, message: string): never {
  throw new InputError(code, message);
}

/** An absolute https URL, or http on a loopback host (local development); no fragment, no credentials. */
function validateClientUrl(raw: string, field: string, code: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    invalid(code, `${field} "${raw}" is not an absolute URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') invalid(code, `${field} "${raw}" must use https`);
  if (u.protocol === 'http:' && !LOOPBACK.has(u.hostname)) invalid(code, `${field} "${raw}" may use http only for localhost`);
  if (u.hash || raw.includes('#')) invalid(code, `${field} "${raw}" must not contain a fragment`);
  if (u.username || u.password) invalid(code, `${field} "${raw}" must not contain credentials`);
  if (raw.length > 2000) invalid(code, `${field} is longer than 2000 characters`);
  return raw;
}

export function validateRedirectUri(raw: string, field = 'redirect_uri'): string {
  return validateClientUrl(raw, field, 'client.invalid_redirect_uri');
}

/** The auth method (`public` is a synonym of 'none') and, for private_key_jwt, the jwks_uri. */
function validateAuthMethod(input: ClientInput): { token_endpoint_auth_method: ClientAuthMethod; jwks_uri?: string } {
  const method = input.authMethod ?? (input.public ? 'none' : 'client_secret_basic');
  if (!isClientAuthMethod(method)) invalid('client.invalid_auth_method', `auth method "${method}" is not supported (use ${CLIENT_AUTH_METHODS.join(', ')})`);
  if (input.public && method !== 'none') invalid('client.conflicting_auth_method', `a public client authenticates with none, not ${method}`);
  if (method !== 'private_key_jwt') {
    if (input.jwksUri !== undefined) invalid('client.unexpected_jwks_uri', 'a jwks_uri is used only with private_key_jwt');
    return { token_endpoint_auth_method: method };
  }
  if (!input.jwksUri) invalid('client.missing_jwks_uri', 'private_key_jwt needs the URL of the client\'s JWKS (jwks_uri)');
  const jwksUri = validateClientUrl(input.jwksUri, 'jwks_uri', 'client.invalid_jwks_uri');
  // The provider fetches it and refuses local and private addresses (oidc-provider's SSRF guard).
  const { protocol, hostname } = new URL(jwksUri);
  if (protocol !== 'https:' || LOOPBACK.has(hostname)) invalid('client.invalid_jwks_uri', `jwks_uri "${jwksUri}" must be a public https URL`);
  return { token_endpoint_auth_method: method, jwks_uri: jwksUri };
}

export function validateMinAcr(value: string | null | undefined): MinAcr | null {
  if (value === null || value === undefined || value === '') return null;
  if (!isAcr(value)) {
    invalid('client.invalid_min_acr', `min_acr must be one of ${ACR_VALUES.join(', ')}; got "${value}"`);
  }
  return value as MinAcr;
}

function validateGrantTypes(values: string[] | undefined): GrantType[] {
  const grants = values ?? [...GRANT_TYPES];
  for (const g of grants) {
    if (!(GRANT_TYPES as readonly string[]).includes(g)) invalid('client.invalid_grant_type', `grant type "${g}" is not supported (use ${GRANT_TYPES.join(', ')})`);
  }
  // response_types ['code'] is only usable with the authorization_code grant.
  if (!grants.includes('authorization_code')) invalid('client.invalid_grant_type', 'grant types must include authorization_code');
  return [...new Set(grants)] as GrantType[];
}

/**
 * Checks the input and builds the stored form (without generated id/secret). Pure: every
 * problem is an InputError with a `client.*` code and nothing is written.
 */
export function validateClientInput(input: ClientInput): { metadata: Omit<ClientMetadata, 'client_id' | 'client_secret'>; clientId?: string; minAcr: MinAcr | null } {
  if (input.clientId !== undefined && !CLIENT_ID.test(input.clientId)) {
    invalid('client.invalid_client_id', "client_id must be 3–128 characters of A–Z, a–z, 0–9, '.', '_', '~', '-'");
  }
  if (!input.redirectUris.length) invalid('client.missing_redirect_uri', 'at least one redirect URI is required');
  const post = input.postLogoutRedirectUris ?? [];
  if (input.redirectUris.length > MAX_URIS || post.length > MAX_URIS) invalid('client.too_many_uris', `at most ${MAX_URIS} URIs of each kind`);
  const name = input.name?.trim();
  if (name !== undefined && (name.length < 1 || name.length > 200 || /\p{Cc}/u.test(name))) invalid('client.invalid_name', 'client name must be 1–200 printable characters');
  return {
    clientId: input.clientId,
    minAcr: validateMinAcr(input.minAcr),
    metadata: {
      ...(name ? { client_name: name } : {}),
      redirect_uris: [...new Set(input.redirectUris.map((u) => validateRedirectUri(u)))],
      post_logout_redirect_uris: [...new Set(post.map((u) => validateRedirectUri(u, 'post_logout_redirect_uri')))],
      grant_types: validateGrantTypes(input.grantTypes),
      response_types: ['code'],
      ...validateAuthMethod(input),
    },
  };
}

/** Creates a client; the returned secret (confidential clients) is shown once by the caller. */
export async function createClient(
  { db, dataKey }: { db: Database; dataKey: DataKey },
  tenantId: string,
  input: ClientInput,
  actor: string,
): Promise<{ clientId: string; clientSecret?: string; metadata: ClientMetadata; minAcr: MinAcr | null }> {
  const valid = validateClientInput(input);
  const clientId = valid.clientId ?? randomBytes(16).toString('base64url');
  // 256 bits: also long enough to be an HS256 key, which oidc-provider may derive from it.
  const clientSecret = usesClientSecret(valid.metadata.token_endpoint_auth_method) ? randomBytes(32).toString('base64url') : undefined;
  const metadata: ClientMetadata = { client_id: clientId, ...(clientSecret ? { client_secret: clientSecret } : {}), ...valid.metadata };
  await inTenant(db, tenantId, async (sql) => {
    const stored = clientSecret ? { ...metadata, client_secret: dataKey.seal(clientSecret, clientSecretContext(tenantId, clientId)) } : metadata;
    const { rowCount } = await sql.query(
      `INSERT INTO clients (tenant_id, client_id, metadata, min_acr) VALUES ($1, $2, $3::jsonb, $4)
       ON CONFLICT (tenant_id, client_id) DO NOTHING`,
      [tenantId, clientId, JSON.stringify(stored), valid.minAcr],
    );
    if (rowCount !== 1) throw new ConflictError('client.exists', `client "${clientId}" already exists in tenant "${tenantId}"`);
    await appendAudit(sql, tenantId, {
      type: 'client.created',
      actor,
      subject: clientId,
      data: {
        redirect_uris: metadata.redirect_uris,
        grant_types: metadata.grant_types,
        auth_method: metadata.token_endpoint_auth_method,
        ...(metadata.jwks_uri ? { jwks_uri: metadata.jwks_uri } : {}),
        min_acr: valid.minAcr,
      },
    });
  });
  return { clientId, ...(clientSecret ? { clientSecret } : {}), metadata, minAcr: valid.minAcr };
}

/**
 * The credential of a resource server (account/resourceServers.ts): a confidential client with
 * no redirect URI, response type or grant type, so it authenticates at the introspection
 * endpoint and nowhere else. Written in the caller's transaction, beside the resource server.
 */
export function insertResourceServerClient(sql: Sql, dataKey: DataKey, tenantId: string, name: string): Promise<{ clientId: string; clientSecret: string }> {
  return insertServiceClient(sql, dataKey, tenantId, { clientId: randomBytes(16).toString('base64url'), name, grantTypes: [] });
}

/**
 * A confidential client no user signs in through (no redirect URI, no response type): a new
 * secret sealed under the data key and returned once, `grantTypes` and any `extra` metadata.
 * Written in the caller's transaction.
 */
export async function insertServiceClient(
  sql: Sql,
  dataKey: DataKey,
  tenantId: string,
  opts: { clientId: string; name: string; grantTypes: string[]; extra?: Record<string, unknown> },
): Promise<{ clientId: string; clientSecret: string }> {
  const { clientId, name, grantTypes, extra = {} } = opts;
  const clientSecret = randomBytes(32).toString('base64url');
  const metadata = {
    client_id: clientId,
    client_secret: dataKey.seal(clientSecret, clientSecretContext(tenantId, clientId)),
    client_name: name,
    redirect_uris: [],
    response_types: [],
    grant_types: grantTypes,
    ...extra,
    token_endpoint_auth_method: 'client_secret_basic',
  };
  await sql.query('INSERT INTO clients (tenant_id, client_id, metadata) VALUES ($1, $2, $3::jsonb)', [tenantId, clientId, JSON.stringify(metadata)]);
  return { clientId, clientSecret };
}

type ClientRow = { client_id: string; metadata: ClientMetadata; min_acr: MinAcr | null; created_at: Date };

export async function listClients(db: Database, tenantId: string): Promise<ClientSummary[]> {
  const { rows } = await inTenant(db, tenantId, (sql) =>
    sql.query<ClientRow>('SELECT client_id, metadata, min_acr, created_at FROM clients WHERE tenant_id = $1 ORDER BY client_id', [tenantId]),
  );
  return rows.map((r) => ({
    clientId: r.client_id,
    name: r.metadata.client_name ?? null,
    public: r.metadata.token_endpoint_auth_method === 'none',
    redirectUris: r.metadata.redirect_uris,
    grantTypes: r.metadata.grant_types,
    minAcr: r.min_acr,
    createdAt: new Date(r.created_at),
  }));
}

/** Sets (or clears, with null) the operator's minimum acr for a client. */
export async function setClientMinAcr(db: Database, tenantId: string, clientId: string, minAcr: string | null, actor: string): Promise<MinAcr | null> {
  const value = validateMinAcr(minAcr);
  await inTenant(db, tenantId, async (sql) => {
    const { rowCount } = await sql.query('UPDATE clients SET min_acr = $3 WHERE tenant_id = $1 AND client_id = $2', [tenantId, clientId, value]);
    if (rowCount !== 1) throw new NotFoundError('client.not_found', `client "${clientId}" does not exist in tenant "${tenantId}"`);
    await appendAudit(sql, tenantId, { type: 'client.min_acr_set', actor, subject: clientId, data: { min_acr: value } });
  });
  return value;
}

/** Seals client secrets stored in clear before sealing; returns how many. */
export async function sealLegacyClientSecrets(sql: Sql, dataKey: DataKey, tenantId: string): Promise<number> {
  const { rows: clear } = await sql.query<{ client_id: string; secret: string }>(
    "SELECT client_id, metadata->>'client_secret' AS secret FROM clients WHERE metadata->>'client_secret' NOT LIKE $1",
    [SEALED_LIKE],
  );
  for (const r of clear) {
    await sql.query(
      `UPDATE clients SET metadata = jsonb_set(metadata, '{client_secret}', to_jsonb($3::text))
       WHERE tenant_id = $1 AND client_id = $2 AND metadata->>'client_secret' = $4`,
      [tenantId, r.client_id, dataKey.seal(r.secret, clientSecretContext(tenantId, r.client_id)), r.secret],
    );
  }
  return clear.length;
}
