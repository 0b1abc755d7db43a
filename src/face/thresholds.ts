/**
 * Decision thresholds of the face step. PROVISIONAL values until eval/REPORT.md is measured:
 * they are replaced by the measured ones (see eval/REPORT.md for how each was chosen).
 */

/** Cosine similarity (L2-normalised embeddings, default recognizer) at or above which two faces match; provisional, to be set at FMR 1e-3 on the impostor pairs of eval/REPORT.md. */
export const matchThreshold = 0.45;

/** Aggregate P(live) of the default liveness ensemble at or above which a capture is live; provisional, to be set for the BPCER target in eval/REPORT.md. */
export const livenessThreshold = 0.5;
