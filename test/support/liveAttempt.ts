/**
 * Live attempts for the custodian in tests, made as the browser makes them: a soft passkey
 * registered with the custodian, a nonce the custodian issued, random "frames" and the passkey's
 * assertion over SHA-256(nonce ‖ frame hashes).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { CaptureAttempt, Custodian } from '../../src/custodian/custodian.ts';
import { challengeFromFrameHashes, frameHashes } from '../../src/faceLogin/captureChallenge.ts';
import type { Database } from '../../src/store/db.ts';
import { createFaceTemplates, type FaceTemplates } from '../../src/template/faceTemplates.ts';
import { seedUser } from '../template/fixtures.ts';
import { randomUnit } from '../template/vectors.ts';
import { SoftAuthenticator } from './softAuthenticator.ts';

/** The relying party test custodians check assertions for. */
export const TEST_RP = { origin: 'https://id.acme.example', rpID: 'id.acme.example', name: 'facegate' };

export type AttemptMaker = {
  authenticator: SoftAuthenticator;
  /** A fresh nonce from the custodian, signed over with `frames` (default: two random ones). */
  next(frames?: Uint8Array[]): Promise<CaptureAttempt>;
};

/** Registers a new passkey for the user with the custodian; `attempts.next()` then makes live attempts. */
export async function attemptsFor(custodian: Custodian, tenantId: string, userId: string, rp = TEST_RP): Promise<AttemptMaker> {
  const authenticator = new SoftAuthenticator({ origin: rp.origin, rpID: rp.rpID });
  await custodian.registerPasskey(tenantId, userId, { credentialId: authenticator.id, publicKey: authenticator.publicKey, signCount: 0 });
  return {
    authenticator,
    async next(frames = [randomBytes(100), randomBytes(100)]) {
      const { nonce } = await custodian.issueCaptureNonce(tenantId, userId);
      const hashes = frameHashes(frames);
      return { nonce, frameHashes: hashes, assertion: authenticator.assert(challengeFromFrameHashes(nonce, hashes)) };
    },
  };
}

const devices = new Map<string, AttemptMaker>();

/**
 * The user's device passkey, registered with the custodian as a user does before enrolling: only
 * a passkey registered before the user's key was created signs attempts the custodian answers.
 * Call it before `enroll`; `matchLive` signs with it (whichever custodian over the same database).
 */
export async function deviceBeforeEnrollment(custodian: Custodian, tenantId: string, userId: string, rp = TEST_RP): Promise<AttemptMaker> {
  const device = await attemptsFor(custodian, tenantId, userId, rp);
  devices.set(`${tenantId}\n${userId}`, device);
  return device;
}

/**
 * A match as a face sign-in makes it: with a fresh live attempt of the user, signed by the
 * passkey registered for it with `deviceBeforeEnrollment`.
 */
export async function matchLive(
  templates: FaceTemplates,
  tenantId: string,
  userId: string,
  probe: Float32Array,
  threshold: number,
): Promise<{ accepted: boolean }> {
  const device = devices.get(`${tenantId}\n${userId}`);
  if (!device) throw new Error('no device registered for this user: call deviceBeforeEnrollment before enrolling');
  return templates.match(tenantId, userId, probe, { threshold, attempt: await device.next() });
}

/**
 * A new user of `tenantId` whose device is registered and whose face is then enrolled through
 * `custodian`, with one accepted and one rejected match checked; the rest of a test goes on with
 * what it returns.
 */
export async function enrollAndDecide(db: Database, custodian: Custodian, tenantId = 'acme') {
  const templates = createFaceTemplates({ db, custodian, model: 'test-128' });
  const userId = await seedUser(db, tenantId);
  const face = randomUnit(128);
  // The device first, as the real flow registers it: the custodian answers only passkeys older than the key.
  const attempts = await attemptsFor(custodian, tenantId, userId);
  await templates.enroll(tenantId, userId, face.slice());
  assert.deepEqual(await templates.match(tenantId, userId, face.slice(), { threshold: 0.98, attempt: await attempts.next() }), { accepted: true });
  assert.deepEqual(await templates.match(tenantId, userId, randomUnit(128), { threshold: 0.5, attempt: await attempts.next() }), { accepted: false });
  await templates.idle();
  return { templates, userId, face, attempts };
}
