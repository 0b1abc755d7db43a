/**
 * Decision thresholds of the face step, each chosen by a stated rule on the labelled data of
 * eval/REPORT.md (regenerate with `npm run eval -- --faces ../shared/faces --out eval/report.json`).
 */

/** Cosine similarity (L2-normalised embeddings, default recognizer) at or above which two faces match: the threshold at FMR 1e-4 (DESIGN.md's target) on 30,053 impostor pairs, rounded up to 0.01; FNMR there 1.9 % (eval/REPORT.md). */
export const matchThreshold = 0.38;

/** Aggregate P(live) of the default liveness ensemble (pad-trio) at or above which a capture is live: the highest threshold with BPCER ≤ 5 % on the 5 bona fide samples, rounded down to 0.05 — a placeholder until bona fide captures of the target cameras exist (eval/REPORT.md). */
export const livenessThreshold = 0.85;
