/**
 * The template layer's public API: enroll a face embedding as an encrypted template, decide
 * whether a probe matches it at a threshold, remove it. Embeddings are wiped (zero-filled) as soon
 * as they are encrypted; only ciphertexts and the user's public key are stored. A match yields a
 * decision and nothing else: the custodian decrypts only the sign of a masked margin (matcher.ts)
 * and answers accept or reject, so neither this process nor the custodian sees a score.
 */
import { appendAudit } from '../audit/log.ts';
import type { CaptureAttempt, Custodian } from '../custodian/custodian.ts';
import { InputError, NotFoundError, isFacegateError } from '../errors.ts';
import type { Database } from '../store/db.ts';
import { makeBlinder } from './blinder.ts';
import { createBlinderPool } from './blinderPool.ts';
import { decisionMatch, encryptTemplate } from './matcher.ts';
import { quantize, scoreThreshold } from './quantize.ts';
import { createTemplatePrefetch } from './templatePrefetch.ts';
import { deleteTemplate, deleteTemplateVersion, findPublicKey, findTemplate, saveTemplate, templateVersion, touchTemplate, userExists, type MatchableTemplate } from './templateStore.ts';

export type FaceTemplatesOptions = {
  db: Database;
  custodian: Custodian;
  /** Name of the embedding model; a template only matches probes of the same model. */
  model: string;
  /**
   * Blinders kept ready per template, and templates kept (blinderPool.ts). Two per template covers
   * a retry; 16 templates hold ~17 MB. 0 makes every blinder on the request path.
   */
  blinders?: { perTemplate: number; templates: number };
};

export type FaceTemplates = {
  /** Stores `embedding` encrypted under a new key pair for the user (replacing any template); wipes it. */
  enroll(tenantId: string, userId: string, embedding: Float32Array): Promise<void>;
  /**
   * Whether the probe's cosine with the user's template (int8 quantization: mean error 0.003,
   * p99 0.008) is ≥ `threshold`; wipes the probe. Only the decision comes back; the use is recorded (retention counts from it). `attempt` is the
   * live capture the custodian checks before it decrypts (one decryption per attempt).
   */
  match(tenantId: string, userId: string, probe: Float32Array, opts: { threshold: number; attempt: CaptureAttempt }): Promise<{ accepted: boolean }>;
  /** Shreds the user's secret key, then deletes the template row; false when nothing was enrolled. */
  remove(tenantId: string, userId: string): Promise<boolean>;
  /**
   * Reads the user's template and makes the blinders of their next match ahead of it: called when
   * a face sign-in starts, seconds before its upload, so the match neither reads 524 KB nor pays
   * for an encryption (templatePrefetch.ts, blinderPool.ts). Resolves with whether a blinder is
   * ready (false: no template).
   */
  prepare(tenantId: string, userId: string): Promise<boolean>;
  /** Resolves when no background blinder refill is running (tests, benchmarks, shutdown). */
  idle(): Promise<void>;
};

const notEnrolled = () => new NotFoundError('template.not_enrolled', 'no face template for this user');

export function createFaceTemplates(opts: FaceTemplatesOptions): FaceTemplates {
  const { db, custodian, model, blinders = { perTemplate: 2, templates: 16 } } = opts;
  const pool = createBlinderPool(blinders);
  // As many templates wait as blinder sets are kept (at least one): sign-ins between start and upload.
  const prefetch = createTemplatePrefetch(Math.max(1, blinders.templates));
  const userPrefix = (tenantId: string, userId: string) => `${tenantId}\n${userId}\n`;
  const poolKey = (tenantId: string, userId: string, version: string) => `${userPrefix(tenantId, userId)}${version}`;
  const publicKeyOf = (tenantId: string, userId: string, version: string) => () =>
    db.withTenant(tenantId, (sql) => findPublicKey(sql, tenantId, userId, version));
  const refill = async (tenantId: string, userId: string, version: string) => {
    if (blinders.perTemplate > 0) await pool.refill(poolKey(tenantId, userId, version), publicKeyOf(tenantId, userId, version));
  };

  /** The user's current template: the one read at the sign-in's start if it still is, else read now. */
  async function currentTemplate(tenantId: string, userId: string): Promise<MatchableTemplate | undefined> {
    const ahead = prefetch.take(userPrefix(tenantId, userId));
    if (ahead && (await db.withTenant(tenantId, (sql) => templateVersion(sql, tenantId, userId))) === ahead.version) return ahead;
    return db.withTenant(tenantId, (sql) => findTemplate(sql, tenantId, userId));
  }

  async function remove(tenantId: string, userId: string): Promise<boolean> {
    pool.forget(userPrefix(tenantId, userId));
    prefetch.forget(userPrefix(tenantId, userId));
    const shredded = await custodian.shredUserKey(tenantId, userId);
    const deleted = await db.withTenant(tenantId, (sql) => deleteTemplate(sql, tenantId, userId));
    return shredded || deleted;
  }

  return {
    async enroll(tenantId, userId, embedding) {
      let quantized: Int8Array | undefined;
      try {
        quantized = quantize(embedding);
        embedding.fill(0);
        if (!(await db.withTenant(tenantId, (sql) => userExists(sql, tenantId, userId)))) {
          throw new NotFoundError('template.unknown_user', 'no such user');
        }
        const publicKey = await custodian.createUserKey(tenantId, userId);
        pool.forget(userPrefix(tenantId, userId));
        prefetch.forget(userPrefix(tenantId, userId));
        try {
          const ciphertext = await encryptTemplate(publicKey, [quantized]);
          const version = await db.withTenant(tenantId, (sql) => saveTemplate(sql, tenantId, userId, { model, dim: quantized!.length, publicKey, ciphertext }));
          void refill(tenantId, userId, version);
        } catch (e) {
          // The new key already replaced the old one, so an older template is dead: leave the user
          // cleanly not enrolled rather than with a template no key opens.
          await remove(tenantId, userId).catch(() => {});
          throw e;
        }
      } finally {
        embedding.fill(0);
        quantized?.fill(0);
      }
    },

    async match(tenantId, userId, probe, { threshold, attempt }) {
      let quantized: Int8Array | undefined;
      try {
        const theta = scoreThreshold(threshold);
        const stored = await currentTemplate(tenantId, userId);
        if (!stored) throw notEnrolled();
        if (stored.model !== model) throw new InputError('template.model_mismatch', 'template was enrolled with another model; re-enroll', 409);
        if (stored.dim !== probe.length) throw new InputError('template.dimension_mismatch', `probe has ${probe.length} dimensions, template ${stored.dim}`);
        quantized = quantize(probe);
        probe.fill(0);
        let blinder = await pool.take(poolKey(tenantId, userId, stored.version));
        if (!blinder) {
          const publicKey = await publicKeyOf(tenantId, userId, stored.version)();
          // Replaced or removed since the read above.
          if (!publicKey) throw notEnrolled();
          blinder = await makeBlinder(publicKey);
        }
        const ciphertext = await decisionMatch({ template: stored.ciphertext, probe: quantized, threshold: theta, blinder });
        quantized.fill(0);
        let decision;
        try {
          decision = await custodian.decideMatch(tenantId, userId, { ciphertext, attempt });
        } catch (e) {
          // A shredded key leaves the template (and any copy of it) unmatchable. A template still
          // here without its key (restored from a backup older than the last KEK rotation) is
          // dropped, unless re-enrolled meanwhile: the face factor then shows as not enrolled.
          if (isFacegateError(e) && e.code === 'custodian.no_key') {
            await db.withTenant(tenantId, async (sql) => {
              if (await deleteTemplateVersion(sql, tenantId, userId, stored.version)) {
                await appendAudit(sql, tenantId, { type: 'face.data_deleted', actor: 'system', subject: userId, data: { removed: true, reason: 'key_gone' } });
              }
            });
            throw notEnrolled();
          }
          throw e;
        } finally {
          void refill(tenantId, userId, stored.version);
        }
        await db.withTenant(tenantId, (sql) => touchTemplate(sql, tenantId, userId));
        return { accepted: decision === 'accept' };
      } finally {
        probe.fill(0);
        quantized?.fill(0);
      }
    },

    remove,
    async prepare(tenantId, userId) {
      // Starts repeated without an upload read the template once (the match checks its version).
      const version = prefetch.holds(userPrefix(tenantId, userId))
        ? await db.withTenant(tenantId, (sql) => templateVersion(sql, tenantId, userId))
        : await db.withTenant(tenantId, async (sql) => {
            const template = await findTemplate(sql, tenantId, userId);
            if (template) prefetch.put(userPrefix(tenantId, userId), template);
            return template?.version;
          });
      if (!version) return false;
      await refill(tenantId, userId, version);
      return pool.count(poolKey(tenantId, userId, version)) > 0;
    },
    idle: () => pool.idle(),
  };
}
