/**
 * The custodian's whole surface. It holds the per-user BFV secret keys and answers one
 * question — does a masked match result say accept or reject — plus key lifecycle. There is
 * deliberately no call that decrypts an arbitrary ciphertext, returns a number, or exports a key.
 */
export type MatchDecision = 'accept' | 'reject';

/** What a decision is asked about; an object so that the attempt binding can join the ciphertext. */
export type DecisionRequest = {
  /** A match result from matcher.ts's decisionMatch, made for this user's current public key. */
  ciphertext: Uint8Array;
};

export type Custodian = {
  /** Creates (or replaces) the user's key pair; returns the serialized public key. */
  createUserKey(tenantId: string, userId: string): Promise<Uint8Array>;
  /**
   * Decrypts a masked match result and answers only the sign of its score coefficient
   * (a·(score − θ) + b ≥ 0 ⟺ accept). Refuses a ciphertext that is not masked (a template, a probe)
   * or not made for the user's current key.
   */
  decideMatch(tenantId: string, userId: string, request: DecisionRequest): Promise<MatchDecision>;
  /** Deletes the user's secret key (crypto-shredding); false when there was none. */
  shredUserKey(tenantId: string, userId: string): Promise<boolean>;
};

/** The method names above, for the surface check of the HTTP server and tests. */
export const CUSTODIAN_METHODS = ['createUserKey', 'decideMatch', 'shredUserKey'] as const;
