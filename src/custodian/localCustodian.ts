/**
 * The custodian itself: per-user BFV key pairs, secret keys sealed under the current KEK in
 * `custodian_keys`, and decisions on masked match results only (accept/reject, never a number). Every decryption is
 * rate-limited per user and audited in the same transaction that reads the key, as is every
 * key creation and shred. Runs in the provider process (embedded) or behind server.ts.
 */
import { appendAudit } from '../audit/log.ts';
import { FacegateError, InputError, NotFoundError, RateLimitError } from '../errors.ts';
import type { Database, Sql } from '../store/db.ts';
import type { KeyValueStore } from '../store/kv.ts';
import { serialize, withBfv } from '../template/bfv.ts';
import type { Custodian } from './custodian.ts';
import { checkIds } from './ids.ts';
import { deleteSealedKey, findSealedKey, rewrapSealedKey, saveSealedKey, staleKeyUsers } from './keyStore.ts';
import { decryptDecision, type Decryption } from './decryptDecision.ts';
import { openKey, sealKey, type Kek } from './sealedKey.ts';

export type LocalCustodianOptions = {
  db: Database;
  kv: KeyValueStore;
  /** First seals new keys; the others only open keys not yet rewrapped. */
  keks: Kek[];
  /** Decryptions allowed per user per window (a face step needs one). */
  decryptLimit?: number;
  decryptWindowMs?: number;
};

export type LocalCustodian = Custodian & {
  /** Re-seals every key not under the current KEK; templates are untouched. Returns the count. */
  rewrapAll(): Promise<number>;
};

const ACTOR = 'custodian';

export function createLocalCustodian(opts: LocalCustodianOptions): LocalCustodian {
  const { db, kv, keks, decryptLimit = 20, decryptWindowMs = 60_000 } = opts;
  if (keks.length === 0) throw new FacegateError('custodian.no_kek', 'the custodian needs at least one KEK', 500);
  const current = keks[0];
  const kekById = (id: string): Kek => {
    const kek = keks.find((k) => k.id === id);
    if (!kek) throw new FacegateError('custodian.kek_unavailable', `KEK "${id}" is not configured`, 500);
    return kek;
  };

  async function loadSecret(sql: Sql, tenantId: string, userId: string): Promise<{ secret: Buffer; kekId: string }> {
    const row = await findSealedKey(sql, tenantId, userId);
    if (!row) throw new NotFoundError('custodian.no_key', 'no key for this user');
    return { secret: openKey(kekById(row.kekId), tenantId, userId, row.sealed), kekId: row.kekId };
  }

  return {
    async createUserKey(tenantId, userId) {
      checkIds(tenantId, userId);
      const { sealed, publicBytes } = await withBfv((b) => {
        using keygen = new b.seal.KeyGenerator(b.context);
        using secretKey = keygen.secretKey();
        using publicKey = keygen.createPublicKeySerializable();
        const secret = serialize(b, secretKey, true);
        const sealed = sealKey(current, tenantId, userId, secret);
        secret.fill(0);
        // The seeded public key is half the size; it loads as an ordinary PublicKey.
        return { sealed, publicBytes: publicKey.saveToArray(b.seal.ComprModeType.zstd) as Uint8Array };
      });
      await db.withTenant(tenantId, async (sql) => {
        await saveSealedKey(sql, tenantId, userId, { kekId: current.id, sealed });
        await appendAudit(sql, tenantId, { type: 'custodian.key_created', actor: ACTOR, subject: userId, data: { kekId: current.id } });
      });
      return publicBytes;
    },

    async decideMatch(tenantId, userId, request) {
      checkIds(tenantId, userId);
      const ciphertext = (request as { ciphertext?: unknown } | null | undefined)?.ciphertext;
      if (!(ciphertext instanceof Uint8Array)) throw new InputError('custodian.bad_ciphertext', 'ciphertext must be bytes');
      const count = await kv.increment(`custodian:decrypt:${tenantId}:${userId}`, decryptWindowMs);
      if (count > decryptLimit) {
        const ttl = (await kv.ttl(`custodian:decrypt:${tenantId}:${userId}`)) ?? decryptWindowMs;
        throw new RateLimitError('custodian.rate_limited', 'too many match decisions for this user', Math.ceil(ttl / 1000));
      }
      const outcome = await db.withTenant(tenantId, async (sql) => {
        const { secret, kekId } = await loadSecret(sql, tenantId, userId);
        let result: Decryption;
        try {
          result = await decryptDecision(secret, ciphertext);
        } finally {
          secret.fill(0);
        }
        await appendAudit(sql, tenantId, {
          type: result.outcome === 'decision' ? 'custodian.decrypt' : 'custodian.decrypt_refused',
          actor: ACTOR,
          subject: userId,
          // The decision only: the custodian never holds a score to record.
          data: result.outcome === 'decision' ? { kekId, decision: result.decision } : { kekId, reason: result.outcome },
        });
        return result;
      });
      // Thrown after the transaction so the refusal stays in the audit log.
      if (outcome.outcome === 'decision') return outcome.decision;
      if (outcome.outcome === 'unmasked') throw new InputError('custodian.unmasked', 'the ciphertext is not a masked match result', 422);
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

    async rewrapAll() {
      const { rows } = await db.transaction((sql) => sql.query<{ id: string }>('SELECT id FROM tenants ORDER BY id'));
      let total = 0;
      for (const { id: tenantId } of rows) {
        total += await db.withTenant(tenantId, async (sql) => {
          const users = await staleKeyUsers(sql, tenantId, current.id);
          for (const userId of users) {
            const row = await findSealedKey(sql, tenantId, userId, true);
            if (!row || row.kekId === current.id) continue;
            const secret = openKey(kekById(row.kekId), tenantId, userId, row.sealed);
            await rewrapSealedKey(sql, tenantId, userId, { kekId: current.id, sealed: sealKey(current, tenantId, userId, secret) });
            secret.fill(0);
          }
          if (users.length > 0) {
            await appendAudit(sql, tenantId, { type: 'custodian.keys_rewrapped', actor: ACTOR, data: { count: users.length, kekId: current.id } });
          }
          return users.length;
        });
      }
      return total;
    },
  };
}
