/**
 * The face sign-in's long-lived services, built once per server like the database: the passkey
 * relying party (from PUBLIC_URL), the custodian, the encrypted templates that use it, and the
 * face pipeline. The custodian and the pipeline start on first use — a server (or a test) that
 * never sees a face never opens a KEK or loads an ONNX model — and the pipeline's workers stop on
 * close. Where the custodian would run is checked at once: production refuses an in-process one.
 */
import type { Config } from '../config.ts';
import type { Custodian } from '../custodian/custodian.ts';
import { checkCustodianPlacement, openCustodian } from '../custodian/openCustodian.ts';
import { createFacePipeline, type FacePipeline } from '../face/pipeline.ts';
import { loadManifest } from '../face/models.ts';
import type { Database } from '../store/db.ts';
import type { KeyValueStore } from '../store/kv.ts';
import { createFaceTemplates, type FaceTemplates } from '../template/faceTemplates.ts';
import { relyingPartyFrom, type RelyingParty } from './relyingParty.ts';

export type FaceServices = {
  rp: RelyingParty;
  /** The custodian (opened on first call): capture nonces and passkeys of face sign-ins. */
  custodian(): Custodian;
  /** The template layer, over the same custodian. */
  templates(): FaceTemplates;
  /** The worker pool (models loaded on first call). */
  pipeline(): FacePipeline;
  close(): Promise<void>;
};

/** Builds the services from their parts; tests pass their own. */
export function faceServicesOf(
  rp: RelyingParty,
  makeCustodian: () => Custodian,
  makeTemplates: (custodian: Custodian) => FaceTemplates,
  makePipeline: () => FacePipeline,
): FaceServices {
  let custodian: Custodian | undefined;
  let templates: FaceTemplates | undefined;
  let pipeline: FacePipeline | undefined;
  const openedCustodian = () => (custodian ??= makeCustodian());
  return {
    rp,
    custodian: openedCustodian,
    templates: () => (templates ??= makeTemplates(openedCustodian())),
    pipeline: () => (pipeline ??= makePipeline()),
    async close() {
      await pipeline?.close();
      pipeline = undefined;
    },
  };
}

/**
 * The face services of this deployment; undefined when PUBLIC_URL cannot carry passkeys (not
 * https and not localhost — an IP address is not a WebAuthn RP ID), so only PIN/TOTP is offered.
 * ConfigError in production with an in-process custodian.
 */
export function openFaceServices(config: Config, deps: { db: Database; kv: KeyValueStore }): FaceServices | undefined {
  let rp: RelyingParty;
  try {
    rp = relyingPartyFrom(config.publicUrl);
  } catch {
    return undefined;
  }
  checkCustodianPlacement(config);
  return faceServicesOf(
    rp,
    () => openCustodian(config, { ...deps, rp }),
    (custodian) => createFaceTemplates({ db: deps.db, custodian, model: loadManifest().defaults.recognizer }),
    () => createFacePipeline({ faceModelsDir: config.faceModelsDir }),
  );
}
