/**
 * Decision thresholds of the face step, each chosen by a stated rule on the labelled data of
 * eval/REPORT.md (regenerate with `npm run eval -- --faces ../shared/faces --out eval/report.json`).
 */

/** Cosine similarity (L2-normalised embeddings, default recognizer) at or above which two faces match: the threshold at FMR 1e-4 (DESIGN.md's target) on 30,053 impostor pairs, rounded up to 0.01; FNMR there 1.9 % (eval/REPORT.md). */
export const matchThreshold = 0.38;

/** Aggregate P(live) of the default liveness ensemble (pad-trio) at or above which a capture is live: the highest threshold with BPCER ≤ 5 % on the 5 bona fide samples, rounded down to 0.05 — a placeholder until bona fide captures of the target cameras exist (eval/REPORT.md). */
export const livenessThreshold = 0.85;

/**
 * Cosine similarity at or above which a loa 3 face step matches (DESIGN.md §4's strict threshold).
 * Rule: above every impostor pair of the labelled set by the largest int8 quantization error seen
 * on its pairs (the custodian compares quantized scores), rounded up to 0.01: highest impostor
 * 0.4519 + 0.0145 (largest |quantized − float| cosine over the 31,125 pairs; rms 0.0033) = 0.4664
 * → 0.47. At 0.47: 0 of the 30,053 impostor pairs (FMR ≤ 1.0e-4 one-sided 95 %, rule of three —
 * DESIGN.md's target bounded by the data, where matchThreshold's FMR 1e-4 rests on 3 events; a
 * threshold at ≥ 30 events, FMR 1e-3, lies at 0.32, below matchThreshold), FNMR 8.3 % (89/1,072;
 * 95 % CI 6.7–10.1 %), on photos of every pose: frontal capture frames should fare better.
 */
export const strictMatchThreshold = 0.47;
