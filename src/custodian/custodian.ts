/**
 * The custodian's whole surface. It holds the per-user BFV secret keys and answers one
 * question — does a masked match result say accept or reject — plus key and passkey lifecycle.
 * There is deliberately no call that decrypts an arbitrary ciphertext, returns a number, or
 * exports a key, and the one decryption needs a live attempt: a nonce the custodian issued, used
 * once, signed (with the frames' hashes) by a passkey the custodian itself registered for that user.
 */
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';

export type MatchDecision = 'accept' | 'reject';

/** What proves a decision request comes from a live, user-verified capture. */
export type CaptureAttempt = {
  /** The nonce from `issueCaptureNonce`, for this tenant and user; opens one decryption. */
  nonce: string;
  /** SHA-256 of each frame as uploaded, in upload order (1–12, 32 bytes each). */
  frameHashes: Uint8Array[];
  /** The passkey assertion over captureChallenge(nonce, frames) (faceLogin/captureChallenge.ts). */
  assertion: AuthenticationResponseJSON;
};

/** What a decision is asked about: the match result and the live attempt it belongs to. */
export type DecisionRequest = {
  /** A match result from matcher.ts's decisionMatch, made for this user's current public key. */
  ciphertext: Uint8Array;
  attempt: CaptureAttempt;
};

/** A passkey as the provider verified it at registration: its id, COSE public key and counter. */
export type CustodianPasskey = { credentialId: string; publicKey: Uint8Array; signCount: number };

export type Custodian = {
  /** Creates (or replaces) the user's key pair, with a fresh attempt budget; returns the serialized public key. */
  createUserKey(tenantId: string, userId: string): Promise<Uint8Array>;
  /**
   * Records a passkey the user registered. Attempts must be signed by one of the user's passkeys
   * registered before their current key was created (`custodian.passkey_not_eligible` otherwise):
   * one registered after an enrollment signs only once the user enrolls again.
   */
  registerPasskey(tenantId: string, userId: string, passkey: CustodianPasskey): Promise<void>;
  /** A fresh single-use capture nonce for this user (43 base64url characters). */
  issueCaptureNonce(tenantId: string, userId: string): Promise<{ nonce: string; expiresAt: number }>;
  /**
   * Decrypts a masked match result and answers only the sign of its score coefficient
   * (a·(score − θ) + b ≥ 0 ⟺ accept) — only for a live attempt (see CaptureAttempt), once per
   * nonce, within the enrollment's attempt budget. Refuses a ciphertext that is not masked (a
   * template, a probe) or not made for the user's current key.
   */
  decideMatch(tenantId: string, userId: string, request: DecisionRequest): Promise<MatchDecision>;
  /** Deletes the user's secret key (crypto-shredding); false when there was none. */
  shredUserKey(tenantId: string, userId: string): Promise<boolean>;
};

/** The method names above, for the surface check of the HTTP server and tests. */
export const CUSTODIAN_METHODS = ['createUserKey', 'registerPasskey', 'issueCaptureNonce', 'decideMatch', 'shredUserKey'] as const;
