import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listUserCredentials, recordCredentialUse } from '../../src/faceLogin/credentialStore.ts';
import { verifyBoundAssertion } from '../../src/faceLogin/passkeyAssertion.ts';
import { parseAssertionJson } from '../../src/faceLogin/webauthnJson.ts';
import type { User } from '../../src/account/users.ts';
import type { SoftAuthenticator } from '../support/softAuthenticator.ts';
import { auditEvents, openWorld, TENANT, type World } from './world.ts';

let w: World;
let alicesKey: SoftAuthenticator;
let bobsKey: SoftAuthenticator;
before(async () => {
  w = await openWorld();
  alicesKey = await w.registerPasskey(w.alice);
  bobsKey = await w.registerPasskey(w.bob);
});
after(async () => {
  await w.close();
});

const CHALLENGE = Buffer.alloc(32, 1).toString('base64url');
const verify = (user: User, assertion: unknown, expectedChallenge: string | ((c: string) => boolean) = CHALLENGE) =>
  verifyBoundAssertion(w.deps, { tenantId: TENANT, userId: user.id, assertion: parseAssertionJson(assertion), expectedChallenge });
const stored = async (user: User, key: SoftAuthenticator) =>
  (await w.db.withTenant(TENANT, (sql) => listUserCredentials(sql, TENANT, user.id))).find((c) => c.credentialId === key.id)!;

async function refusal(promise: Promise<unknown>): Promise<{ code: string; status: number; cause?: Error }> {
  return promise.then(() => assert.fail('expected a refusal'), (e) => e);
}

describe('verifyBoundAssertion', () => {
  it('accepts the user\u2019s own user-verified passkey over the expected challenge and records the use', async () => {
    alicesKey.signCount = 5;
    const result = await verify(w.alice, alicesKey.assert(CHALLENGE));
    assert.deepEqual(result, { credentialId: alicesKey.id, backedUp: false });
    const after = await stored(w.alice, alicesKey);
    assert.equal(after.signCount, 5);
    assert.ok(after.lastUsedAt && Date.now() - after.lastUsedAt.getTime() < 60_000);
  });

  it('takes the expected challenge as a function of the signed one', async () => {
    const seen: string[] = [];
    await verify(w.alice, alicesKey.assert(CHALLENGE), (c) => (seen.push(c), c === CHALLENGE));
    assert.deepEqual(seen, [CHALLENGE]);
  });

  it('refuses a signature over another challenge as webauthn.challenge_mismatch', async () => {
    const e = await refusal(verify(w.alice, alicesKey.assert(Buffer.alloc(32, 2).toString('base64url'))));
    assert.deepEqual([e.code, e.status], ['webauthn.challenge_mismatch', 401]);
  });

  for (const [what, forge, cause] of [
    ['signed for another origin', { origin: 'https://evil.example' }, /origin/],
    ['signed for another RP ID', { rpID: 'evil.example' }, /RP ID/],
    ['without user verification (UV flag clear)', { userVerified: false }, /User verification required/],
    ['of a registration ceremony', { type: 'webauthn.create' }, /type/],
  ] as const) {
    it(`refuses an assertion ${what}`, async () => {
      const e = await refusal(verify(w.alice, alicesKey.assert(CHALLENGE, forge)));
      assert.equal(e.code, 'webauthn.assertion_invalid');
      assert.equal(e.status, 401);
      assert.match(e.cause!.message, cause);
    });
  }

  it('refuses another user\u2019s passkey, and an unknown one, alike', async () => {
    const e = await refusal(verify(w.alice, bobsKey.assert(CHALLENGE)));
    assert.equal(e.code, 'webauthn.unknown_credential');
    const forged = { ...alicesKey.assert(CHALLENGE), id: 'AAAA', rawId: 'AAAA' };
    assert.equal((await refusal(verify(w.alice, forged))).code, 'webauthn.unknown_credential');
  });

  it('refuses another user\u2019s passkey that names no user (non-discoverable)', async () => {
    const e = await refusal(verify(w.alice, bobsKey.assert(CHALLENGE, { userHandle: '' })));
    assert.equal(e.code, 'webauthn.unknown_credential');
  });

  it('refuses a user handle that names someone else', async () => {
    const e = await refusal(verify(w.alice, alicesKey.assert(CHALLENGE, { userHandle: Buffer.from(w.bob.id).toString('base64url') })));
    assert.equal(e.code, 'webauthn.unknown_credential');
  });

  it('refuses a bad signature', async () => {
    const good = alicesKey.assert(CHALLENGE);
    const sig = Buffer.from(good.response.signature, 'base64url');
    sig[sig.length - 1] ^= 1;
    const e = await refusal(verify(w.alice, { ...good, response: { ...good.response, signature: sig.toString('base64url') } }));
    assert.equal(e.code, 'webauthn.assertion_invalid');
  });

  it('refuses and audits a signed counter that does not increase (a cloned authenticator)', async () => {
    alicesKey.signCount = 20;
    await verify(w.alice, alicesKey.assert(CHALLENGE));
    for (const signCount of [19, 20, 0]) {
      const e = await refusal(verify(w.alice, alicesKey.assert(CHALLENGE, { signCount })));
      assert.deepEqual([e.code, e.status], ['webauthn.counter_regressed', 401]);
    }
    assert.equal((await stored(w.alice, alicesKey)).signCount, 20);
    const audited = (await auditEvents(w.db, 'webauthn.counter_regressed')).map((a) => a.data);
    assert.deepEqual(audited, [19, 20, 0].map((receivedCount) => ({ credentialId: alicesKey.id, storedCount: 20, receivedCount })));
    assert.equal((await verify(w.alice, alicesKey.assert(CHALLENGE, { signCount: 21 }))).credentialId, alicesKey.id);
  });

  it('does not audit a forged low counter: the signature is checked first', async () => {
    const before = (await auditEvents(w.db, 'webauthn.counter_regressed')).length;
    const forged = alicesKey.assert(CHALLENGE, { signCount: 1 });
    const sig = Buffer.from(forged.response.signature, 'base64url');
    sig[sig.length - 1] ^= 1;
    const e = await refusal(verify(w.alice, { ...forged, response: { ...forged.response, signature: sig.toString('base64url') } }));
    assert.equal(e.code, 'webauthn.assertion_invalid');
    assert.equal((await auditEvents(w.db, 'webauthn.counter_regressed')).length, before);
  });

  it('accepts authenticators without a counter (always 0), again and again', async () => {
    bobsKey.signCount = 0;
    for (let i = 0; i < 3; i++) await verify(w.bob, bobsKey.assert(CHALLENGE, { signCount: 0 }));
    assert.equal((await stored(w.bob, bobsKey)).signCount, 0);
  });

  it('lets only one of two concurrent assertions with the same counter through', async () => {
    alicesKey.signCount = 100;
    const a = alicesKey.assert(CHALLENGE, { signCount: 100 });
    const b = alicesKey.assert(CHALLENGE, { signCount: 100 });
    const results = await Promise.allSettled([verify(w.alice, a), verify(w.alice, b)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason.code, 'webauthn.counter_regressed');
  });
});

describe('recordCredentialUse', () => {
  it('moves the counter only forward, so of two writers of one value only the first wins', async () => {
    const use = (signCount: number) => w.db.withTenant(TENANT, (sql) => recordCredentialUse(sql, TENANT, bobsKey.id, { signCount, backupState: false }));
    assert.equal(await use(0), true);
    assert.equal(await use(7), true);
    assert.equal(await use(7), false);
    assert.equal(await use(6), false);
    assert.equal(await use(0), false);
    assert.equal((await stored(w.bob, bobsKey)).signCount, 7);
  });
});

describe('parseAssertionJson', () => {
  it('refuses what a browser would not send, with webauthn.malformed (400)', () => {
    const good = alicesKey.assert(CHALLENGE);
    for (const bad of [
      undefined,
      [],
      { ...good, id: '' },
      { ...good, rawId: 'x' },
      { ...good, type: 'otp' },
      { ...good, response: 'x' },
      { ...good, response: { ...good.response, signature: 42 } },
      { ...good, response: { ...good.response, clientDataJSON: 'a'.repeat(5000) } },
      { ...good, response: { ...good.response, authenticatorData: '+/==' } },
      { ...good, authenticatorAttachment: 'usb' },
      { ...good, clientExtensionResults: 'x' },
    ]) {
      assert.throws(() => parseAssertionJson(bad), { code: 'webauthn.malformed', status: 400 });
    }
  });

  it('keeps only the known fields', () => {
    const good = alicesKey.assert(CHALLENGE);
    const parsed = parseAssertionJson({ ...good, extra: 1, clientExtensionResults: { appid: true }, response: { ...good.response, more: 2 } });
    assert.deepEqual(parsed, { ...good, clientExtensionResults: {} });
  });
});
