import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { beginPasskeyRegistration, finishPasskeyRegistration, REGISTRATION_TTL_MS } from '../../src/faceLogin/passkeyRegistration.ts';
import { listUserCredentials } from '../../src/faceLogin/credentialStore.ts';
import { relyingPartyFrom } from '../../src/faceLogin/relyingParty.ts';
import { createTenant } from '../../src/account/tenants.ts';
import { SoftAuthenticator } from '../support/softAuthenticator.ts';
import { auditEvents, openWorld, TENANT, type World } from './world.ts';

let w: World;
before(async () => {
  w = await openWorld();
});
after(async () => {
  await w.close();
});

const credentialsOf = (userId: string, tenantId = TENANT) => w.db.withTenant(tenantId, (sql) => listUserCredentials(sql, tenantId, userId));
const begin = (userId: string, userName = 'alice') => beginPasskeyRegistration(w.deps, { tenantId: TENANT, userId, userName });
const authenticator = () => new SoftAuthenticator({ origin: w.deps.rp.origin, rpID: w.deps.rp.rpID });

describe('relyingPartyFrom', () => {
  it('takes the RP ID from the public URL host and the origin from its scheme, host and port', () => {
    assert.deepEqual(relyingPartyFrom('https://id.acme.example:8443/base'), { rpID: 'id.acme.example', origin: 'https://id.acme.example:8443', name: 'facegate' });
    assert.deepEqual(relyingPartyFrom('http://localhost:3000'), { rpID: 'localhost', origin: 'http://localhost:3000', name: 'facegate' });
  });
  it('refuses a public URL where browsers offer no WebAuthn (plain http, IP address)', () => {
    assert.throws(() => relyingPartyFrom('http://id.acme.example'), /https/);
    assert.throws(() => relyingPartyFrom('http://127.0.0.1:3000'), /https/);
  });
});

describe('beginPasskeyRegistration', () => {
  it('asks for a platform authenticator with user verification required and a discoverable key preferred', async () => {
    const options = await begin(w.alice.id);
    assert.equal(options.rp.id, 'id.acme.example');
    assert.deepEqual(options.authenticatorSelection, { authenticatorAttachment: 'platform', residentKey: 'preferred', requireResidentKey: false, userVerification: 'required' });
    assert.equal(options.user.id, Buffer.from(w.alice.id).toString('base64url'));
    assert.equal(options.user.name, 'alice');
    assert.deepEqual(options.excludeCredentials, []);
    assert.ok(options.pubKeyCredParams.some((p) => p.alg === -7));
  });

  it('keeps the challenge single-use in the key-value store for at most 5 minutes', async () => {
    const options = await begin(w.alice.id);
    const ttl = await w.deps.kv.ttl(`webauthn-registration:${options.challenge}`);
    assert.ok(ttl !== null && ttl > 0 && ttl <= REGISTRATION_TTL_MS && REGISTRATION_TTL_MS <= 5 * 60_000);
    assert.deepEqual(JSON.parse((await w.deps.kv.get(`webauthn-registration:${options.challenge}`))!), { tenantId: TENANT, userId: w.alice.id });
  });

  it('excludes the passkeys the user already has', async () => {
    const a = await w.registerPasskey(w.bob);
    const options = await begin(w.bob.id, 'bob');
    assert.deepEqual(options.excludeCredentials, [{ id: a.id, type: 'public-key', transports: ['internal', 'hybrid'] }]);
  });
});

describe('finishPasskeyRegistration', () => {
  it('stores the passkey with its metadata, the `none` attestation recorded, and audits it', async () => {
    const a = authenticator();
    const result = await finishPasskeyRegistration(w.deps, { tenantId: TENANT, userId: w.alice.id, response: a.register(await begin(w.alice.id)), name: ' Laptop ' });
    assert.deepEqual(result, { credentialId: a.id, attestationFormat: 'none', deviceType: 'singleDevice' });
    const [stored] = (await credentialsOf(w.alice.id)).filter((c) => c.credentialId === a.id);
    assert.equal(stored.userId, w.alice.id);
    assert.equal(stored.signCount, 0);
    assert.deepEqual(stored.transports, ['internal', 'hybrid']);
    assert.equal(stored.aaguid, '00000000-0000-0000-0000-000000000000');
    assert.equal(stored.attestationFormat, 'none');
    assert.equal(stored.backupEligible, false);
    assert.equal(stored.name, 'Laptop');
    assert.equal(stored.lastUsedAt, null);
    assert.ok(stored.publicKey.length > 60);
    const audit = (await auditEvents(w.db, 'webauthn.credential_registered')).find((e) => e.data.credentialId === a.id);
    assert.deepEqual(audit, { subject: w.alice.id, data: { credentialId: a.id, attestationFormat: 'none', aaguid: stored.aaguid, deviceType: 'singleDevice' } });
  });

  it('records a synced passkey as multi-device and backed up', async () => {
    const a = new SoftAuthenticator({ origin: w.deps.rp.origin, rpID: w.deps.rp.rpID, synced: true });
    assert.equal((await finishPasskeyRegistration(w.deps, { tenantId: TENANT, userId: w.alice.id, response: a.register(await begin(w.alice.id)) })).deviceType, 'multiDevice');
    const stored = (await credentialsOf(w.alice.id)).find((c) => c.credentialId === a.id)!;
    assert.deepEqual([stored.backupEligible, stored.backupState], [true, true]);
  });

  it('finishes a registration once: the same response again is refused', async () => {
    const response = authenticator().register(await begin(w.alice.id));
    await finishPasskeyRegistration(w.deps, { tenantId: TENANT, userId: w.alice.id, response });
    await assert.rejects(finishPasskeyRegistration(w.deps, { tenantId: TENANT, userId: w.alice.id, response }), { code: 'webauthn.registration_expired', status: 400 });
  });

  it('finishes only for the user the challenge was issued to, and spends it', async () => {
    const options = await begin(w.alice.id);
    const response = authenticator().register(options);
    await assert.rejects(finishPasskeyRegistration(w.deps, { tenantId: TENANT, userId: w.bob.id, response }), { code: 'webauthn.registration_expired' });
    await assert.rejects(finishPasskeyRegistration(w.deps, { tenantId: TENANT, userId: w.alice.id, response }), { code: 'webauthn.registration_expired' });
  });

  it('refuses a challenge that was never issued', async () => {
    const options = await begin(w.alice.id);
    const response = authenticator().register({ ...options, challenge: Buffer.alloc(32, 7).toString('base64url') });
    await assert.rejects(finishPasskeyRegistration(w.deps, { tenantId: TENANT, userId: w.alice.id, response }), { code: 'webauthn.registration_expired' });
  });

  for (const [what, forge, cause] of [
    ['made on another origin', { origin: 'https://evil.example' }, /origin/],
    ['scoped to another RP ID', { rpID: 'evil.example' }, /RP ID/],
    ['without user verification', { userVerified: false }, /User verification/],
    ['of the wrong ceremony type', { type: 'webauthn.get' }, /type/],
  ] as const) {
    it(`refuses a response ${what}`, async () => {
      const response = authenticator().register(await begin(w.alice.id), forge);
      const error = await finishPasskeyRegistration(w.deps, { tenantId: TENANT, userId: w.alice.id, response }).catch((e) => e);
      assert.equal(error.code, 'webauthn.registration_invalid');
      assert.match(error.cause.message, cause);
    });
  }

  it('refuses a passkey already registered in the tenant, for the same or another user', async () => {
    const a = await w.registerPasskey(w.alice);
    await assert.rejects(finishPasskeyRegistration(w.deps, { tenantId: TENANT, userId: w.bob.id, response: a.register(await begin(w.bob.id, 'bob')) }), {
      code: 'webauthn.credential_exists',
      status: 409,
    });
    assert.equal((await credentialsOf(w.bob.id)).some((c) => c.credentialId === a.id), false);
  });

  it('refuses malformed responses and names, with 400s', async () => {
    const options = await begin(w.alice.id);
    const good = authenticator().register(options);
    for (const response of [null, 'x', { ...good, rawId: 'other' }, { ...good, type: 'password' }, { ...good, response: { ...good.response, attestationObject: 'not base64!' } }, { ...good, response: { ...good.response, transports: ['carrier-pigeon'] } }]) {
      await assert.rejects(finishPasskeyRegistration(w.deps, { tenantId: TENANT, userId: w.alice.id, response }), { code: 'webauthn.malformed', status: 400 });
    }
    await assert.rejects(finishPasskeyRegistration(w.deps, { tenantId: TENANT, userId: w.alice.id, response: good, name: 'x'.repeat(101) }), { code: 'webauthn.invalid_name' });
    await assert.rejects(finishPasskeyRegistration(w.deps, { tenantId: TENANT, userId: 'not-a-uuid', response: good }), { code: 'user.not_found' });
  });

  it('keeps tenants apart: another tenant sees none of the passkeys', async () => {
    await createTenant(w.db, { id: 'other', name: 'Other' }, 'test');
    assert.ok((await credentialsOf(w.alice.id)).length > 0);
    const leaked = await w.db.withTenant('other', (sql) => sql.query('SELECT credential_id FROM webauthn_credentials'));
    assert.equal(leaked.rows.length, 0);
  });

  it('removes the passkeys with the user', async () => {
    const { createUser } = await import('../../src/account/users.ts');
    const carol = await createUser(w.db, TENANT, { username: 'carol' }, 'test');
    await w.registerPasskey(carol);
    await w.db.asOwner((sql) => sql.query('DELETE FROM users WHERE tenant_id = $1 AND id = $2', [TENANT, carol.id]));
    assert.deepEqual(await credentialsOf(carol.id), []);
  });
});
