import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clientSecretContext, createClient, listClients, setClientMinAcr, validateClientInput } from '../../src/account/clients.ts';
import { createTenant } from '../../src/account/tenants.ts';
import { freshDatabase, type TestDatabase } from '../support/services.ts';
import { ephemeralDataKey } from '../../src/store/dataKey.ts';

const base = { redirectUris: ['https://app.example/cb'] };

describe('validateClientInput', () => {
  const rejects = (input: Parameters<typeof validateClientInput>[0], code: string) => assert.throws(() => validateClientInput(input), { code });

  it('rejects bad redirect URIs', () => {
    for (const uri of ['/relative', 'not a url', 'ftp://app.example/cb', 'http://app.example/cb', 'https://app.example/cb#frag', 'https://user:pw@app.example/cb']) {
      rejects({ redirectUris: [uri] }, 'client.invalid_redirect_uri');
    }
    rejects({ ...base, postLogoutRedirectUris: ['http://evil.example/'] }, 'client.invalid_redirect_uri');
    rejects({ redirectUris: [] }, 'client.missing_redirect_uri');
  });

  it('allows http only on loopback hosts', () => {
    for (const uri of ['http://localhost:3000/cb', 'http://127.0.0.1/cb', 'http://[::1]:8080/cb']) {
      assert.deepEqual(validateClientInput({ redirectUris: [uri] }).metadata.redirect_uris, [uri]);
    }
  });

  it('rejects unknown grant types and code flow without authorization_code', () => {
    rejects({ ...base, grantTypes: ['implicit'] }, 'client.invalid_grant_type');
    rejects({ ...base, grantTypes: ['client_credentials'] }, 'client.invalid_grant_type');
    rejects({ ...base, grantTypes: ['refresh_token'] }, 'client.invalid_grant_type');
  });

  it('rejects a min_acr outside the supported levels', () => {
    rejects({ ...base, minAcr: 'urn:facegate:loa:4' }, 'client.invalid_min_acr');
    rejects({ ...base, minAcr: 'loa2' }, 'client.invalid_min_acr');
  });

  it('rejects unknown or conflicting auth methods and a jwks_uri that cannot be used', () => {
    rejects({ ...base, authMethod: 'client_secret_jwt' }, 'client.invalid_auth_method');
    rejects({ ...base, authMethod: 'private_key_jwt' }, 'client.missing_jwks_uri');
    for (const uri of ['http://keys.example/jwks', 'https://localhost/jwks', 'not a url']) rejects({ ...base, authMethod: 'private_key_jwt', jwksUri: uri }, 'client.invalid_jwks_uri');
    rejects({ ...base, jwksUri: 'https://keys.example/jwks' }, 'client.unexpected_jwks_uri');
    rejects({ ...base, public: true, authMethod: 'client_secret_post' }, 'client.conflicting_auth_method');
  });

  it('keeps the chosen auth method and, for private_key_jwt, the jwks_uri', () => {
    assert.equal(validateClientInput({ ...base, authMethod: 'client_secret_post' }).metadata.token_endpoint_auth_method, 'client_secret_post');
    assert.equal(validateClientInput({ ...base, public: true, authMethod: 'none' }).metadata.token_endpoint_auth_method, 'none');
    const { metadata } = validateClientInput({ ...base, authMethod: 'private_key_jwt', jwksUri: 'https://keys.example/jwks' });
    assert.deepEqual([metadata.token_endpoint_auth_method, metadata.jwks_uri], ['private_key_jwt', 'https://keys.example/jwks']);
  });

  it('rejects a malformed client_id', () => {
    rejects({ ...base, clientId: 'a b' }, 'client.invalid_client_id');
  });
});

describe('clients in the database', () => {
  let db: TestDatabase;
  const dataKey = ephemeralDataKey();
  before(async () => {
    db = await freshDatabase();
    await createTenant(db, { id: 'acme', name: 'Acme' }, 'test');
  });
  after(async () => {
    await db.close();
  });

  it('stores oidc-provider metadata for a confidential client, with a generated id and a sealed secret', async () => {
    const c = await createClient({ db, dataKey }, 'acme', { name: 'Shop', redirectUris: ['https://shop.example/cb'], minAcr: 'urn:facegate:loa:2' }, 'test');
    assert.match(c.clientId, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(c.clientSecret && c.clientSecret.length >= 43);
    const { rows } = await db.withTenant('acme', (sql) => sql.query<{ metadata: unknown; min_acr: string }>('SELECT metadata, min_acr FROM clients WHERE client_id = $1', [c.clientId]));
    const { client_secret: sealed, ...metadata } = rows[0].metadata as Record<string, string>;
    assert.equal(dataKey.open(sealed, clientSecretContext('acme', c.clientId)).toString(), c.clientSecret, 'the secret is stored sealed to its client');
    assert.deepEqual(metadata, {
      client_id: c.clientId,
      client_name: 'Shop',
      redirect_uris: ['https://shop.example/cb'],
      post_logout_redirect_uris: [],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    assert.equal(rows[0].min_acr, 'urn:facegate:loa:2');
  });

  it('creates a public client without a secret', async () => {
    const c = await createClient({ db, dataKey }, 'acme', { clientId: 'spa', redirectUris: ['http://localhost:5173/cb'], public: true, grantTypes: ['authorization_code'] }, 'test');
    assert.equal(c.clientSecret, undefined);
    assert.equal(c.metadata.token_endpoint_auth_method, 'none');
    assert.equal('client_secret' in c.metadata, false);
  });

  it('refuses a duplicate client id and an unknown tenant', async () => {
    await assert.rejects(createClient({ db, dataKey }, 'acme', { clientId: 'spa', ...base }, 'test'), { code: 'client.exists' });
    await assert.rejects(createClient({ db, dataKey }, 'nope', base, 'test'), { code: 'tenant.not_found' });
    await assert.rejects(createClient({ db, dataKey }, 'Bad!', base, 'test'), { code: 'tenant.invalid_id' });
  });

  it('sets and clears min_acr, and lists clients without secrets', async () => {
    assert.equal(await setClientMinAcr(db, 'acme', 'spa', 'urn:facegate:loa:3', 'test'), 'urn:facegate:loa:3');
    await assert.rejects(setClientMinAcr(db, 'acme', 'spa', 'urn:x', 'test'), { code: 'client.invalid_min_acr' });
    await assert.rejects(setClientMinAcr(db, 'acme', 'missing', null, 'test'), { code: 'client.not_found' });
    const spa = (await listClients(db, 'acme')).find((c) => c.clientId === 'spa');
    assert.equal(spa?.minAcr, 'urn:facegate:loa:3');
    assert.equal(await setClientMinAcr(db, 'acme', 'spa', null, 'test'), null);
    const list = await listClients(db, 'acme');
    assert.equal(list.length, 2);
    assert.ok(!JSON.stringify(list).includes('secret'));
  });
});
