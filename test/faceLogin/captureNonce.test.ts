import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CAPTURE_NONCE, CAPTURE_NONCE_TTL_MS, issueCaptureNonce, randomHeadTurns, takeCaptureNonce, type CaptureBinding } from '../../src/faceLogin/captureNonce.ts';
import type { KeyValueStore } from '../../src/store/kv.ts';
import { freshKeyValueStore } from '../support/services.ts';

let kv: KeyValueStore;
before(() => {
  kv = freshKeyValueStore();
});
after(async () => {
  await kv.close();
});

const binding = (over: Partial<CaptureBinding> = {}): CaptureBinding => ({ tenantId: 'acme', interactionUid: 'uid_abc-123', userId: randomUUID(), purpose: 'verify', ...over });

describe('capture nonce', () => {
  it('is 32 random bytes, lives at most 2 minutes, and stores only the binding', async () => {
    const b = binding();
    const issued = await issueCaptureNonce(kv, b, { now: 1_000 });
    assert.match(issued.nonce, CAPTURE_NONCE);
    assert.equal(Buffer.from(issued.nonce, 'base64url').length, 32);
    assert.equal(issued.expiresAt, 1_000 + CAPTURE_NONCE_TTL_MS);
    const ttl = await kv.ttl(`capture-nonce:${issued.nonce}`);
    assert.ok(ttl !== null && ttl <= 2 * 60_000 && ttl > 60_000);
    assert.deepEqual(Object.keys(JSON.parse((await kv.get(`capture-nonce:${issued.nonce}`))!)).sort(), ['expiresAt', 'interactionUid', 'nonce', 'purpose', 'tenantId', 'userId']);
    assert.deepEqual(await takeCaptureNonce(kv, issued.nonce, b), issued);
  });

  it('can be taken once: the second use is capture.replayed', async () => {
    const b = binding();
    const { nonce } = await issueCaptureNonce(kv, b);
    await takeCaptureNonce(kv, nonce, b);
    await assert.rejects(takeCaptureNonce(kv, nonce, b), { code: 'capture.replayed', status: 409 });
  });

  it('passes exactly one of five concurrent uses', async () => {
    const b = binding();
    const { nonce } = await issueCaptureNonce(kv, b);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => takeCaptureNonce(kv, nonce, b)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal(r.reason.code, 'capture.replayed');
  });

  it('refuses a nonce never issued, or not even shaped like one, as capture.replayed', async () => {
    await assert.rejects(takeCaptureNonce(kv, 'A'.repeat(43), binding()), { code: 'capture.replayed' });
    await assert.rejects(takeCaptureNonce(kv, '*', binding()), { code: 'capture.replayed' });
  });

  for (const field of ['tenantId', 'interactionUid', 'userId', 'purpose'] as const) {
    it(`refuses a nonce issued for another ${field}, and spends it`, async () => {
      const b = binding();
      const other = { tenantId: 'other', interactionUid: 'another-uid', userId: randomUUID(), purpose: 'enroll' as const }[field];
      const { nonce } = await issueCaptureNonce(kv, b);
      await assert.rejects(takeCaptureNonce(kv, nonce, { ...b, [field]: other }), { code: 'capture.nonce_mismatch', status: 403 });
      await assert.rejects(takeCaptureNonce(kv, nonce, b), { code: 'capture.replayed' });
    });
  }

  it('carries the head turns chosen for an active challenge', async () => {
    const b = binding();
    const issued = await issueCaptureNonce(kv, b, { headTurns: ['right', 'left'] });
    assert.deepEqual((await takeCaptureNonce(kv, issued.nonce, b)).headTurns, ['right', 'left']);
  });

  it('refuses to issue for a malformed binding', async () => {
    for (const bad of [binding({ tenantId: 'Bad!' }), binding({ userId: 'x' }), binding({ interactionUid: '' }), binding({ purpose: 'login' as never })]) {
      await assert.rejects(issueCaptureNonce(kv, bad), TypeError);
    }
  });
});

describe('randomHeadTurns', () => {
  it('always asks for both directions, in an order that varies', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const turns = randomHeadTurns(3);
      assert.equal(turns.length, 3);
      assert.ok(turns.includes('left') && turns.includes('right'));
      seen.add(turns.join());
    }
    assert.equal(seen.size, 6);
    assert.deepEqual(new Set(Array.from({ length: 100 }, () => randomHeadTurns().join())), new Set(['left,right', 'right,left']));
  });
});
