/**
 * The custodian's whole surface. It holds the per-user BFV secret keys and answers one
 * question — the masked score of a match — plus key lifecycle. There is deliberately no call
 * that decrypts an arbitrary ciphertext or exports a key.
 */
export type Custodian = {
  /** Creates (or replaces) the user's key pair; returns the serialized public key. */
  createUserKey(tenantId: string, userId: string): Promise<Uint8Array>;
  /**
   * Decrypts a masked match result and returns only its score coefficient: r·score mod t, an
   * integer in [0, t). Refuses a ciphertext that is not masked (a template, a probe).
   */
  decryptMaskedScore(tenantId: string, userId: string, ciphertext: Uint8Array): Promise<number>;
  /** Deletes the user's secret key (crypto-shredding); false when there was none. */
  shredUserKey(tenantId: string, userId: string): Promise<boolean>;
};

/** The method names above, for the surface check of the HTTP server and tests. */
export const CUSTODIAN_METHODS = ['createUserKey', 'decryptMaskedScore', 'shredUserKey'] as const;
