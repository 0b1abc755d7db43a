/**
 * The custodian itself: per-user BFV key pairs, secret keys sealed under the current KEK epoch
 * (kek.ts) in `custodian_keys`, and decisions on masked match results only (accept/reject, never a number) —
 * for a live attempt the custodian verifies itself (verifyAttempt.ts), once per nonce, within the
 * enrollment's attempt budget (failures since the last accept), the per-user and global rates.
 * Only a passkey registered before the user's current key was created may sign an attempt: a
 * provider compromised after enrollment can register its own passkey here (registerPasskey takes
 * the provider's word), but that passkey opens no decryption under the enrolled key, so it cannot
 * sign crafted "accepts" that reset the budget. Re-enrolling (createUserKey) makes every passkey
 * registered so far eligible: a provider that re-enrolls replaces, and so destroys, the old key —
 * the old template becomes undecryptable — and learns only about the template it made itself.
 * Every decision and every refusal is audited in its own transaction after the fact (a refusal is
 * never rolled back with the work it stopped), as is every key creation, passkey registration and
 * shred. It works on the database through facegate_custodian (db.forRole), which cannot read
 * templates. Secret keys are made and used only in the key thread (keyThread.ts, a worker with
 * its own SEAL heap, replaced periodically); this thread seals and unseals their compact form
 * (compactSecretKey.ts). Runs in the provider process (embedded) or behind server.ts.
 */
import { appendAudit } from '../audit/log.ts';
import { ConflictError, FacegateError, InputError, NotFoundError, RateLimitError } from '../errors.ts';
import type { RelyingParty } from '../faceLogin/relyingParty.ts';
import type { Database } from '../store/db.ts';
import type { KeyValueStore } from '../store/kv.ts';
import { insertNonce } from './attemptNonces.ts';
import type { Custodian, DecisionRequest } from './custodian.ts';
import { createDecryptRate, type DecryptRateAlert } from './decryptRate.ts';
import { checkIds } from './ids.ts';
import { deleteSealedKey, resetAttempts, saveSealedKey, takeAttempt } from './keyStore.ts';
import type { Decryption } from './decryptDecision.ts';
import { sharedKeyThread, type KeyThread } from './keyThread.ts';
import { findPasskey, savePasskey } from './passkeyStore.ts';
import { lockEpochs } from './epochLock.ts';
import type { KekRing } from './kek.ts';
import { openKey, sealKey, type Kek } from './sealedKey.ts';
import { verifyAttempt } from './verifyAttempt.ts';

export type LocalCustodianOptions = {
  /** The custodian's handle: `db.forRole(CUSTODIAN_ROLE)` (or a connection that logs in as it). */
  db: Database;
  kv: KeyValueStore;
  /** The current epoch seals new keys; older ones open keys not yet rewrapped (kekRotation.ts). */
  keks: KekRing;
  /** Origin and RP ID the attempts' passkey assertions must be made for. */
  rp: Pick<RelyingParty, 'origin' | 'rpID'>;
  /** Decryptions allowed per user per window (a face step needs one). */
  decryptLimit?: number;
  decryptWindowMs?: number;
  /** Decryptions one enrollment (one key) may make; see ENROLLMENT_ATTEMPT_LIMIT. */
  attemptLimit?: number;
  /** Decryptions per minute over all tenants (decryptRate.ts). */
  globalDecryptLimit?: number;
  /** Hears a tenant's decryption-rate jump; default a JSON warning line on stderr. */
  alert?: (alert: DecryptRateAlert) => void;
  /** Where key pairs are made and decisions decrypted; default the process's recycled worker (keyThread.ts). */
  keyThread?: KeyThread;
};

/**
 * NIST SP 800-63B-4 §3.2.3's ceiling for a biometric with presentation-attack detection: 100
 * consecutive failed attempts before the biometric is disabled (the face step always runs
 * liveness). The custodian counts decryptions since the last accept (an accept resets the count:
 * "consecutive failures"); re-enrolling (a new key) starts a new budget. An accept can only come
 * from an attempt signed by a passkey eligible for the key (verifyAttempt.ts), i.e. by the user's
 * own device with user verification, so a provider compromised after enrollment cannot make
 * accepts to reset it: its queries are bounded by this number per enrollment.
 */
export const ENROLLMENT_ATTEMPT_LIMIT = 100;

const ACTOR = 'custodian';
const CREDENTIAL_ID = /^[A-Za-z0-9_-]{1,1366}$/;
// A COSE public key is ~77 bytes for P-256, ~270 for RSA-2048.
const MAX_PUBLIC_KEY_BYTES = 2048;

const isForeignKeyViolation = (e: unknown) => (e as { code?: string }).code === '23503';

export function createLocalCustodian(opts: LocalCustodianOptions): Custodian {
  const { db, kv, keks, rp, decryptLimit = 20, decryptWindowMs = 60_000, attemptLimit = ENROLLMENT_ATTEMPT_LIMIT } = opts;
  const rate = createDecryptRate({ kv, globalLimit: opts.globalDecryptLimit, alert: opts.alert });
  const keyThread = opts.keyThread ?? sharedKeyThread();
  const kekById = (id: string): Kek => {
    const kek = keks.find(id);
    // A row restored from a backup older than the last rotation: its epoch is gone for good, and
    // the user is as if never enrolled (orphanKeys.ts shreds the row).
    if (kek === 'destroyed') throw new NotFoundError('custodian.no_key', 'this key was sealed under a destroyed KEK epoch; enroll again');
    if (!kek) throw new FacegateError('custodian.kek_unavailable', `KEK "${id}" is not configured`, 500);
    return kek;
  };
  const audit = (tenantId: string, userId: string, type: string, data: Record<string, unknown>) =>
    db.withTenant(tenantId, (sql) => appendAudit(sql, tenantId, { type, actor: ACTOR, subject: userId, data }));

  async function unseal(tenantId: string, userId: string, kekId: string, sealed: Uint8Array): Promise<Buffer> {
    try {
      return openKey(kekById(kekId), tenantId, userId, sealed);
    } catch (e) {
      // Outside any transaction: a tampered or misplaced key row is on record even though nothing else happens.
      await audit(tenantId, userId, 'custodian.unseal_failed', { kekId, reason: e instanceof FacegateError ? e.code : 'unknown' });
      throw e;
    }
  }

  return {
    async createUserKey(tenantId, userId) {
      checkIds(tenantId, userId);
      // The secret in its compact form (compactSecretKey.ts), made in the key thread.
      const { secret, publicKey: publicBytes } = await keyThread.createKey();
      try {
        await db.withTenant(tenantId, async (sql) => {
          // Sealed under the epoch current once no rotation can start in between (epochLock.ts).
          await lockEpochs(sql, 'shared');
          keks.reload();
          const kek = keks.current();
          await saveSealedKey(sql, tenantId, userId, { kekId: kek.id, sealed: sealKey(kek, tenantId, userId, secret) });
          await appendAudit(sql, tenantId, { type: 'custodian.key_created', actor: ACTOR, subject: userId, data: { kekId: kek.id } });
        });
      } catch (e) {
        if (isForeignKeyViolation(e)) throw new NotFoundError('custodian.unknown_user', 'no such user');
        throw e;
      } finally {
        secret.fill(0);
      }
      return publicBytes;
    },

    async registerPasskey(tenantId, userId, passkey) {
      checkIds(tenantId, userId);
      const { credentialId, publicKey, signCount } = (passkey ?? {}) as Partial<typeof passkey>;
      if (typeof credentialId !== 'string' || !CREDENTIAL_ID.test(credentialId)) throw new InputError('custodian.bad_passkey', 'credentialId must be base64url');
      if (!(publicKey instanceof Uint8Array) || publicKey.length === 0 || publicKey.length > MAX_PUBLIC_KEY_BYTES) throw new InputError('custodian.bad_passkey', 'publicKey must be a COSE key');
      if (!Number.isSafeInteger(signCount) || signCount! < 0) throw new InputError('custodian.bad_passkey', 'signCount must be a non-negative integer');
      const p = { credentialId, publicKey, signCount: signCount! };
      try {
        await db.withTenant(tenantId, async (sql) => {
          if (await savePasskey(sql, tenantId, userId, p)) {
            await appendAudit(sql, tenantId, { type: 'custodian.passkey_registered', actor: ACTOR, subject: userId, data: { credentialId } });
            return;
          }
          // A retried registration is a no-op; the same id with another user or key is not.
          const existing = await findPasskey(sql, tenantId, userId, credentialId);
          if (!existing || Buffer.compare(Buffer.from(existing.publicKey), Buffer.from(publicKey)) !== 0) {
            throw new ConflictError('custodian.passkey_exists', 'this passkey is already registered');
          }
        });
      } catch (e) {
        if (isForeignKeyViolation(e)) throw new NotFoundError('custodian.unknown_user', 'no such user');
        throw e;
      }
    },

    async issueCaptureNonce(tenantId, userId) {
      checkIds(tenantId, userId);
      // A decision follows within seconds: the key thread (~1 s to start) is made ready meanwhile.
      keyThread.ready().catch(() => {});
      try {
        return await db.withTenant(tenantId, (sql) => insertNonce(sql, tenantId, userId));
      } catch (e) {
        if (isForeignKeyViolation(e)) throw new NotFoundError('custodian.unknown_user', 'no such user');
        throw e;
      }
    },

    async decideMatch(tenantId, userId, request) {
      checkIds(tenantId, userId);
      const { ciphertext, attempt } = (request ?? {}) as Partial<DecisionRequest>;
      if (!(ciphertext instanceof Uint8Array)) throw new InputError('custodian.bad_ciphertext', 'ciphertext must be bytes');
      const count = await kv.increment(`custodian:decrypt:${tenantId}:${userId}`, decryptWindowMs);
      if (count > decryptLimit) {
        const ttl = (await kv.ttl(`custodian:decrypt:${tenantId}:${userId}`)) ?? decryptWindowMs;
        throw new RateLimitError('custodian.rate_limited', 'too many match decisions for this user', Math.ceil(ttl / 1000));
      }
      await rate.note(tenantId);
      // One transaction: nonce spent, assertion verified, and only then the attempt counted.
      const verified = await verifyAttempt(db, rp, tenantId, userId, attempt, (sql) => takeAttempt(sql, tenantId, userId, attemptLimit));
      if ('refusal' in verified) {
        await audit(tenantId, userId, 'custodian.decrypt_refused', { reason: verified.refusal.reason });
        throw verified.refusal.error;
      }
      const taken = verified.live;
      if (taken === 'missing') throw new NotFoundError('custodian.no_key', 'no key for this user');
      if (taken === 'exhausted') {
        await audit(tenantId, userId, 'custodian.decrypt_refused', { reason: 'attempts_exhausted' });
        throw new InputError('custodian.attempts_exhausted', 'this enrollment has used all its attempts; enroll again', 403);
      }
      const secret = await unseal(tenantId, userId, taken.kekId, taken.sealed);
      let result: Decryption;
      try {
        result = await keyThread.decide(secret, ciphertext);
      } catch (e) {
        if (e instanceof InputError) await audit(tenantId, userId, 'custodian.decrypt_refused', { kekId: taken.kekId, reason: e.code });
        throw e;
      } finally {
        secret.fill(0);
      }
      // The answer leaves only once its audit row is committed.
      if (result.outcome === 'decision') {
        const { decision } = result;
        // One transaction: an accept ends the run of failures the budget counts, and the decision
        // only is recorded (the custodian never holds a score to record).
        await db.withTenant(tenantId, async (sql) => {
          if (decision === 'accept') await resetAttempts(sql, tenantId, userId);
          await appendAudit(sql, tenantId, { type: 'custodian.decrypt', actor: ACTOR, subject: userId, data: { kekId: taken.kekId, decision } });
        });
        return decision;
      }
      await audit(tenantId, userId, 'custodian.decrypt_refused', { kekId: taken.kekId, reason: result.outcome });
      if (result.outcome === 'unmasked') throw new InputError('custodian.unmasked', 'the ciphertext is not a masked match result', 422);
      throw new InputError('custodian.wrong_key', 'the result was not made for this user’s current key; re-enroll', 409);
    },

    async shredUserKey(tenantId, userId) {
      checkIds(tenantId, userId);
      return db.withTenant(tenantId, async (sql) => {
        const existed = await deleteSealedKey(sql, tenantId, userId);
        await appendAudit(sql, tenantId, { type: 'custodian.key_shredded', actor: ACTOR, subject: userId, data: { existed } });
        return existed;
      });
    },
  };
}
