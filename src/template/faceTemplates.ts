/**
 * The template layer's public API: enroll a face embedding as an encrypted template, match a
 * probe against it, remove it. Embeddings are wiped (zero-filled) as soon as they are encrypted;
 * only ciphertexts and the user's public key are stored, and only the custodian can turn a
 * masked match result into a number.
 */
import type { Custodian } from '../custodian/custodian.ts';
import { InputError, NotFoundError, isFacegateError } from '../errors.ts';
import type { Database } from '../store/db.ts';
import { encryptTemplate, maskedMatch, type ProbeMode } from './matcher.ts';
import { cosineFromScore, quantize } from './quantize.ts';
import { deleteTemplate, findTemplate, saveTemplate, touchTemplate, userExists } from './templateStore.ts';

export type FaceTemplatesOptions = {
  db: Database;
  custodian: Custodian;
  /** Name of the embedding model; a template only matches probes of the same model. */
  model: string;
  /**
   * `plain` (default) multiplies the stored ciphertext by the probe as a plaintext: this process
   * already holds the probe, so encrypting it adds ~10 ms and no secrecy. `encrypted` encrypts
   * the probe under the user's public key first (ct×ct), as when probes are encrypted elsewhere.
   */
  probeMode?: ProbeMode;
};

export type FaceTemplates = {
  /** Stores `embedding` encrypted under a new key pair for the user (replacing any template); wipes it. */
  enroll(tenantId: string, userId: string, embedding: Float32Array): Promise<void>;
  /** Cosine estimate between the probe and the user's template (int8 quantization: mean error 0.003, p99 0.008); wipes the probe; records the use. */
  match(tenantId: string, userId: string, probe: Float32Array): Promise<{ score: number }>;
  /** Shreds the user's secret key, then deletes the template row; false when nothing was enrolled. */
  remove(tenantId: string, userId: string): Promise<boolean>;
};

const notEnrolled = () => new NotFoundError('template.not_enrolled', 'no face template for this user');

export function createFaceTemplates(opts: FaceTemplatesOptions): FaceTemplates {
  const { db, custodian, model, probeMode = 'plain' } = opts;

  async function remove(tenantId: string, userId: string): Promise<boolean> {
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
        try {
          const ciphertext = await encryptTemplate(publicKey, [quantized]);
          await db.withTenant(tenantId, (sql) => saveTemplate(sql, tenantId, userId, { model, dim: quantized!.length, publicKey, ciphertext }));
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

    async match(tenantId, userId, probe) {
      let quantized: Int8Array | undefined;
      try {
        const stored = await db.withTenant(tenantId, (sql) => findTemplate(sql, tenantId, userId, probeMode === 'encrypted'));
        if (!stored) throw notEnrolled();
        if (stored.model !== model) throw new InputError('template.model_mismatch', 'template was enrolled with another model; re-enroll', 409);
        if (stored.dim !== probe.length) throw new InputError('template.dimension_mismatch', `probe has ${probe.length} dimensions, template ${stored.dim}`);
        quantized = quantize(probe);
        probe.fill(0);
        const masked = await maskedMatch({ template: stored.ciphertext, publicKey: stored.publicKey, probe: quantized, mode: probeMode });
        quantized.fill(0);
        let value: number;
        try {
          value = await custodian.decryptMaskedScore(tenantId, userId, masked.ciphertext);
        } catch (e) {
          // A shredded key leaves the template (and any copy of it) unmatchable.
          if (isFacegateError(e) && e.code === 'custodian.no_key') throw notEnrolled();
          throw e;
        }
        await db.withTenant(tenantId, (sql) => touchTemplate(sql, tenantId, userId));
        return { score: cosineFromScore(masked.unmask(value)) };
      } finally {
        probe.fill(0);
        quantized?.fill(0);
      }
    },

    remove,
  };
}
