import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideActiveFace, decideFace, isMatch, matchThresholdFor } from '../../src/faceLogin/decide.ts';
import { faceAssurance } from '../../src/faceLogin/faceAssurance.ts';
import { captureChallenge } from '../../src/faceLogin/captureChallenge.ts';
import { issueCaptureNonce, type CaptureBinding, type HeadTurn } from '../../src/faceLogin/captureNonce.ts';
import { parseCaptureUpload } from '../../src/faceLogin/captureUpload.ts';
import { verifyCapture, type VerifiedCapture } from '../../src/faceLogin/verifyCapture.ts';
import { livenessThreshold, matchThreshold, strictMatchThreshold } from '../../src/face/thresholds.ts';
import { openWorld, TENANT, type World } from './world.ts';

describe('decideFace', () => {
  it('accepts a match that is live at or above the threshold', () => {
    assert.deepEqual(decideFace({ matched: true, liveness: livenessThreshold }), { accepted: true });
    assert.deepEqual(decideFace({ matched: true, liveness: 0.99 }), { accepted: true });
  });

  it('judges match and liveness separately and says which failed, with no score in the result', () => {
    assert.deepEqual(decideFace({ matched: false, liveness: 0.99 }), { accepted: false, failed: ['no_match'] });
    assert.deepEqual(decideFace({ matched: true, liveness: livenessThreshold - 0.001 }), { accepted: false, failed: ['not_live'] });
    assert.deepEqual(decideFace({ matched: false, liveness: 0.1 }), { accepted: false, failed: ['no_match', 'not_live'] });
  });

  it('fails a layer whose input is broken', () => {
    assert.deepEqual(decideFace({ matched: undefined as unknown as boolean, liveness: Number.NaN }), { accepted: false, failed: ['no_match', 'not_live'] });
  });

  it('the CLI judges a plaintext cosine at matchThreshold', () => {
    assert.equal(isMatch(matchThreshold), true);
    assert.equal(isMatch(matchThreshold - 0.001), false);
    assert.equal(isMatch(Number.NaN), false);
  });
});

describe('decideActiveFace (loa 3)', () => {
  const turned = { ok: true } as const;
  it('the encrypted match is asked at the strict threshold for loa 3 only, and the result says which layer failed', () => {
    assert.ok(strictMatchThreshold > matchThreshold);
    assert.equal(matchThresholdFor(true), strictMatchThreshold);
    assert.equal(matchThresholdFor(false), matchThreshold);
    assert.deepEqual(decideActiveFace({ matched: true, liveness: 0.99 }, turned), { accepted: true });
    assert.deepEqual(decideActiveFace({ matched: false, liveness: 0.99 }, turned), { accepted: false, failed: ['no_match'] });
    assert.deepEqual(decideActiveFace({ matched: true, liveness: 0.2 }, { ok: false, reason: 'wrong_turns' }), { accepted: false, failed: ['not_live', 'wrong_turns'] });
    assert.deepEqual(decideActiveFace({ matched: false, liveness: Number.NaN }, turned), { accepted: false, failed: ['no_match', 'not_live'] });
  });
});

describe('faceAssurance', () => {
  let w: World;
  let verified: (purpose: CaptureBinding['purpose'], headTurns?: HeadTurn[]) => Promise<VerifiedCapture>;
  before(async () => {
    w = await openWorld();
    const key = await w.registerPasskey(w.alice);
    verified = async (purpose, headTurns) => {
      const binding: CaptureBinding = { tenantId: TENANT, interactionUid: 'i-1', userId: w.alice.id, purpose };
      const { nonce } = await issueCaptureNonce(w.deps.kv, binding, headTurns ? { headTurns } : {});
      const frames = [new Uint8Array([1, 2, 3])];
      return verifyCapture(w.deps, parseCaptureUpload({ nonce, frames, assertion: key.assert(captureChallenge(nonce, frames)) }), binding);
    };
  });
  after(async () => {
    await w.close();
  });

  it('gives loa 2 with face, hardware key, user verification and mfa for an accepted verification', async () => {
    assert.deepEqual(faceAssurance({ active: false, decision: { accepted: true } }, await verified('verify')), { acr: 'urn:facegate:loa:2', amr: ['face', 'hwk', 'user', 'mfa'] });
  });

  it('gives loa 3 only for an active decision on a capture whose nonce asked for head turns', async () => {
    const active = await verified('verify', ['left', 'right']);
    assert.deepEqual(faceAssurance({ active: true, decision: { accepted: true } }, active), { acr: 'urn:facegate:loa:3', amr: ['face', 'hwk', 'user', 'mfa'] });
    // Never loa 3 from a capture without turns, nor a passive judgement of one that had them.
    assert.equal(faceAssurance({ active: true, decision: { accepted: true } }, await verified('verify')), undefined);
    assert.equal(faceAssurance({ active: false, decision: { accepted: true } }, await verified('verify', ['left', 'right'])), undefined);
    assert.equal(faceAssurance({ active: true, decision: { accepted: false, failed: ['wrong_turns'] } }, await verified('verify', ['left', 'right'])), undefined);
  });

  it('gives nothing for a rejected decision or an enrollment capture', async () => {
    assert.equal(faceAssurance({ active: false, decision: { accepted: false, failed: ['not_live'] } }, await verified('verify')), undefined);
    assert.equal(faceAssurance({ active: false, decision: { accepted: true } }, await verified('enroll')), undefined);
  });
});
