import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { captureChallenge } from '../../src/faceLogin/captureChallenge.ts';
import { issueCaptureNonce, type CaptureBinding } from '../../src/faceLogin/captureNonce.ts';
import { parseCaptureUpload } from '../../src/faceLogin/captureUpload.ts';
import { verifyCapture } from '../../src/faceLogin/verifyCapture.ts';
import type { User } from '../../src/account/users.ts';
import type { SoftAuthenticator, Forgery } from '../support/softAuthenticator.ts';
import { openWorld, TENANT, type World } from './world.ts';

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

const bindingFor = (user: User, over: Partial<CaptureBinding> = {}): CaptureBinding => ({ tenantId: TENANT, interactionUid: 'interaction-1', userId: user.id, purpose: 'verify', ...over });
const burst = () => [1, 2, 3].map((i) => new Uint8Array(2048).fill(i));

/** What an honest browser does: takes a nonce, captures, signs the bound challenge, uploads. */
async function capture(user: User, key: SoftAuthenticator, options: { forge?: Forgery; binding?: CaptureBinding; headTurns?: ('left' | 'right')[] } = {}) {
  const { nonce } = await issueCaptureNonce(w.deps.kv, options.binding ?? bindingFor(user), { headTurns: options.headTurns });
  const frames = burst();
  const assertion = key.assert(captureChallenge(nonce, frames), options.forge);
  return { nonce, frames, assertion };
}

const submit = (upload: { nonce: unknown; frames: unknown; assertion: unknown }, expected: CaptureBinding) => verifyCapture(w.deps, parseCaptureUpload(upload), expected);

async function refusal(promise: Promise<unknown>): Promise<{ code: string; status: number }> {
  return promise.then(() => assert.fail('expected a refusal'), (e) => e);
}

describe('verifyCapture', () => {
  it('hands on the frames of a capture signed by the user\u2019s passkey over this nonce', async () => {
    const upload = await capture(w.alice, alicesKey, { headTurns: ['left', 'right'] });
    const verified = await submit(upload, bindingFor(w.alice));
    assert.deepEqual(verified.frames, upload.frames);
    assert.deepEqual(verified.binding, bindingFor(w.alice));
    assert.deepEqual(verified.headTurns, ['left', 'right']);
    assert.equal(verified.credentialId, alicesKey.id);
  });

  it('refuses the same upload again as capture.replayed', async () => {
    const upload = await capture(w.alice, alicesKey);
    await submit(upload, bindingFor(w.alice));
    const e = await refusal(submit(upload, bindingFor(w.alice)));
    assert.deepEqual([e.code, e.status], ['capture.replayed', 409]);
  });

  it('passes exactly one of five concurrent submissions of one capture', async () => {
    const upload = await capture(w.alice, alicesKey);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => submit(upload, bindingFor(w.alice))));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal(r.reason.code, 'capture.replayed');
  });

  it('refuses frames altered by one byte after signing as webauthn.challenge_mismatch', async () => {
    const upload = await capture(w.alice, alicesKey);
    upload.frames[2][1000] ^= 0x01;
    const e = await refusal(submit(upload, bindingFor(w.alice)));
    assert.deepEqual([e.code, e.status], ['webauthn.challenge_mismatch', 401]);
  });

  it('refuses frames swapped, dropped or added after signing', async () => {
    for (const change of [(f: Uint8Array[]) => [f[1], f[0], f[2]], (f: Uint8Array[]) => f.slice(0, 2), (f: Uint8Array[]) => [...f, new Uint8Array(10)]]) {
      const upload = await capture(w.alice, alicesKey);
      assert.equal((await refusal(submit({ ...upload, frames: change(upload.frames) }, bindingFor(w.alice)))).code, 'webauthn.challenge_mismatch');
    }
  });

  it('refuses an assertion made over another nonce (a capture moved to another attempt)', async () => {
    const first = await capture(w.alice, alicesKey);
    const { nonce } = await issueCaptureNonce(w.deps.kv, bindingFor(w.alice));
    assert.equal((await refusal(submit({ ...first, nonce }, bindingFor(w.alice)))).code, 'webauthn.challenge_mismatch');
  });

  it('refuses a capture started for another interaction or purpose', async () => {
    const upload = await capture(w.alice, alicesKey, { binding: bindingFor(w.alice, { interactionUid: 'other-interaction' }) });
    assert.equal((await refusal(submit(upload, bindingFor(w.alice)))).code, 'capture.nonce_mismatch');
    const enroll = await capture(w.alice, alicesKey, { binding: bindingFor(w.alice, { purpose: 'enroll' }) });
    assert.equal((await refusal(submit(enroll, bindingFor(w.alice)))).code, 'capture.nonce_mismatch');
  });

  it('refuses a capture signed by another user\u2019s passkey', async () => {
    const upload = await capture(w.alice, bobsKey);
    assert.equal((await refusal(submit(upload, bindingFor(w.alice)))).code, 'webauthn.unknown_credential');
  });

  for (const [what, forge] of [
    ['for another origin', { origin: 'https://evil.example' }],
    ['for another RP ID', { rpID: 'evil.example' }],
    ['without user verification', { userVerified: false }],
  ] as const) {
    it(`refuses a capture signed ${what}`, async () => {
      const upload = await capture(w.alice, alicesKey, { forge });
      assert.equal((await refusal(submit(upload, bindingFor(w.alice)))).code, 'webauthn.assertion_invalid');
    });
  }
});
