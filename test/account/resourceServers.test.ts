import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createResourceServer, findResourceServer, findResourceServerByClient, listResourceServers, validateResourceServerInput } from '../../src/account/resourceServers.ts';
import { createTenant } from '../../src/account/tenants.ts';
import { freshDatabase, type TestDatabase } from '../support/services.ts';
import { clientSecretContext } from '../../src/account/clients.ts';
import { ephemeralDataKey } from '../../src/store/dataKey.ts';

describe('validateResourceServerInput', () => {
  const rejects = (input: Parameters<typeof validateResourceServerInput>[0], code: string) => assert.throws(() => validateResourceServerInput(input), { code });

  it('accepts an https URI, defaults the audience to it and the format to jwt, splits and dedupes scopes', () => {
    assert.deepEqual(validateResourceServerInput({ uri: 'https://api.example.com', scopes: ['read write', 'read'] }), {
      uri: 'https://api.example.com',
      audience: 'https://api.example.com',
      scopes: ['read', 'write'],
      tokenFormat: 'jwt',
    });
    assert.equal(validateResourceServerInput({ uri: 'http://localhost:4000/api' }).uri, 'http://localhost:4000/api');
  });

  it('rejects URIs that are not absolute https (http only on loopback), or carry a query, fragment or credentials', () => {
    for (const uri of ['api.example.com', '/api', 'not a url', 'http://api.example.com', 'ftp://api.example.com', 'https://api.example.com/#x', 'https://api.example.com/?v=1', 'https://u:p@api.example.com']) {
      rejects({ uri }, 'resource.invalid_uri');
    }
  });

  it('rejects OpenID scopes, malformed scopes and unknown token formats', () => {
    const uri = 'https://api.example.com';
    for (const scope of ['openid', 'offline_access', 'email', 'bad"scope', 'x'.repeat(65)]) rejects({ uri, scopes: [scope] }, 'resource.invalid_scope');
    rejects({ uri, audience: 'two words' }, 'resource.invalid_audience');
    rejects({ uri, tokenFormat: 'paseto' }, 'resource.invalid_token_format');
  });
});

describe('resource servers in the database', () => {
  let db: TestDatabase;
  const dataKey = ephemeralDataKey();
  before(async () => {
    db = await freshDatabase();
    await createTenant(db, { id: 'acme', name: 'Acme' }, 'test');
    await createTenant(db, { id: 'other', name: 'Other' }, 'test');
  });
  after(async () => {
    await db.close();
  });

  it('stores the registration with a credential that has no redirect URI, response type or grant type', async () => {
    const { resourceServer: rs, clientSecret } = await createResourceServer({ db, dataKey }, 'acme', { uri: 'https://api.example.com', scopes: ['read'] }, 'test');
    assert.ok(clientSecret.length >= 43);
    assert.deepEqual(await findResourceServer(db, 'acme', 'https://api.example.com'), rs);
    assert.deepEqual(await findResourceServerByClient(db, 'acme', rs.clientId), rs);
    assert.equal(await findResourceServer(db, 'acme', 'https://api.example.com/'), undefined, 'matched exactly');
    assert.equal(await findResourceServer(db, 'other', 'https://api.example.com'), undefined, 'invisible to another tenant');
    const { rows } = await db.withTenant('acme', (sql) => sql.query<{ metadata: Record<string, unknown> }>('SELECT metadata FROM clients WHERE client_id = $1', [rs.clientId]));
    assert.deepEqual([rows[0].metadata.redirect_uris, rows[0].metadata.response_types, rows[0].metadata.grant_types], [[], [], []]);
    assert.equal(dataKey.open(rows[0].metadata.client_secret as string, clientSecretContext('acme', rs.clientId)).toString(), clientSecret, 'the credential is stored sealed');
    const audit = await db.withTenant('acme', (sql) => sql.query<{ data: Record<string, unknown> }>("SELECT data FROM audit_events WHERE type = 'resource_server.created'"));
    assert.deepEqual(audit.rows[0].data, { audience: 'https://api.example.com', scopes: ['read'], format: 'jwt', client_id: rs.clientId });
  });

  it('two registrations of one URI at once: one wins, the other is resource.exists and leaves no credential behind', async () => {
    const count = async () => (await db.withTenant('acme', (sql) => sql.query('SELECT 1 FROM clients'))).rows.length;
    const before = await count();
    const results = await Promise.allSettled([0, 1, 2].map(() => createResourceServer({ db, dataKey }, 'acme', { uri: 'https://ledger.example.com', tokenFormat: 'opaque' }, 'test')));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal(r.reason.code, 'resource.exists');
    assert.equal(await count(), before + 1);
  });

  it('an audience cannot be shared: another URI with a taken audience is resource.exists', async () => {
    await assert.rejects(createResourceServer({ db, dataKey }, 'acme', { uri: 'https://api2.example.com', audience: 'https://api.example.com' }, 'test'), { code: 'resource.exists' });
    await assert.rejects(createResourceServer({ db, dataKey }, 'nope', { uri: 'https://api.example.com' }, 'test'), { code: 'tenant.not_found' });
    assert.deepEqual((await listResourceServers(db, 'acme')).map((r) => [r.uri, r.tokenFormat]), [
      ['https://api.example.com', 'jwt'],
      ['https://ledger.example.com', 'opaque'],
    ]);
  });
});
