/**
 * Quality gates on one detected, aligned face: size, pose, blur, exposure. Each gate returns its
 * measured score and, when it fails, a stable reason code; thresholds come in two presets,
 * strict for enrollment (the template must be good) and lenient for verification.
 */
import { InputError } from '../errors.ts';
import type { Detection, RgbImage } from './types.ts';

export type QualityThresholds = {
  /** Minimum distance between the eye landmarks, in source-image pixels. */
  minEyeDistancePx: number;
  /** Maximum |yaw| estimated from the landmarks, in degrees. */
  maxYawDeg: number;
  /** Maximum |roll| (tilt of the eye line), in degrees. */
  maxRollDeg: number;
  /** Minimum variance of the Laplacian of the aligned face's luma (sharpness). */
  minSharpness: number;
  /** Accepted range of the inner face's mean luma (0..255). */
  minMeanLuma: number;
  maxMeanLuma: number;
  /** Maximum fraction of the inner face's pixels at ≤ 5 or ≥ 250 luma. */
  maxClippedFraction: number;
};

export type QualityCode = 'quality.face_too_small' | 'quality.pose' | 'quality.blur' | 'quality.exposure';

export type GateResult = { score: number; pass: boolean; reason: QualityCode | null };

export type QualityReport = {
  pass: boolean;
  /** Codes of the failed gates, in gate order. */
  reasons: QualityCode[];
  faceSize: GateResult & { eyeDistancePx: number };
  pose: GateResult & { yawDeg: number; rollDeg: number };
  blur: GateResult & { sharpness: number };
  exposure: GateResult & { meanLuma: number; clippedFraction: number };
};

/**
 * Chosen on the 249 faces detected in the labelled photos of ../shared/faces: `verify` passes
 * 99.6% of them (one face turned 57° fails), `enroll` 85.5% (turned > 25°, eyes < 40 px apart,
 * soft or badly lit faces fail). Blur limits: a Gaussian blur of σ ≈ 2.5 px (verify) or 1.5 px
 * (enroll) on the aligned face; the sharpest photos measure 600–2000, webcam frames 150–600.
 */
export const qualityPresets: { enroll: QualityThresholds; verify: QualityThresholds } = {
  enroll: { minEyeDistancePx: 40, maxYawDeg: 25, maxRollDeg: 20, minSharpness: 50, minMeanLuma: 60, maxMeanLuma: 200, maxClippedFraction: 0.1 },
  verify: { minEyeDistancePx: 20, maxYawDeg: 45, maxRollDeg: 35, minSharpness: 25, minMeanLuma: 40, maxMeanLuma: 220, maxClippedFraction: 0.3 },
};

/** Depth of the nose tip in front of the eye line, as a fraction of the eye distance (average adult head). */
const noseDepthRatio = 0.5;

function gate(score: number, pass: boolean, code: QualityCode): GateResult {
  return { score, pass, reason: pass ? null : code };
}

export function faceSizeGate(d: Detection, t: QualityThresholds): QualityReport['faceSize'] {
  const [re, le] = d.landmarks;
  const eyeDistancePx = Math.hypot(le[0] - re[0], le[1] - re[1]);
  return { ...gate(eyeDistancePx, eyeDistancePx >= t.minEyeDistancePx, 'quality.face_too_small'), eyeDistancePx };
}

/**
 * Roll from the eye line; yaw from how far the nose tip sits off the eye–mouth midline, measured
 * across that line: offset / eye distance = (nose depth / eye distance) · tan(yaw).
 */
export function estimatePose(d: Detection): { yawDeg: number; rollDeg: number } {
  const [re, le, nose, rm, lm] = d.landmarks;
  const ex = le[0] - re[0], ey = le[1] - re[1];
  const eyeDist = Math.hypot(ex, ey) || 1;
  const rollDeg = (Math.atan2(ey, ex) * 180) / Math.PI;
  const ux = ex / eyeDist, uy = ey / eyeDist;
  const eyeMid = [(re[0] + le[0]) / 2, (re[1] + le[1]) / 2];
  const mouthMid = [(rm[0] + lm[0]) / 2, (rm[1] + lm[1]) / 2];
  const mid = [(eyeMid[0] + mouthMid[0]) / 2, (eyeMid[1] + mouthMid[1]) / 2];
  const offset = (nose[0] - mid[0]) * ux + (nose[1] - mid[1]) * uy;
  const yawDeg = (Math.atan(offset / eyeDist / noseDepthRatio) * 180) / Math.PI;
  return { yawDeg, rollDeg };
}

export function poseGate(d: Detection, t: QualityThresholds): QualityReport['pose'] {
  const { yawDeg, rollDeg } = estimatePose(d);
  const worst = Math.max(Math.abs(yawDeg) / t.maxYawDeg, Math.abs(rollDeg) / t.maxRollDeg);
  return { ...gate(worst, worst <= 1, 'quality.pose'), yawDeg, rollDeg };
}

/**
 * The inner face of an aligned 112×112 crop (eyebrows to chin, cheek to cheek). Blur and exposure
 * are measured here only: the crop's corners show background, or black where the face was cut
 * by the image edge, and would count as sharp edges or clipped pixels.
 */
export const innerFace = { x0: 24, y0: 32, x1: 88, y1: 104 };

function luma(face: RgbImage): Float32Array {
  const n = face.width * face.height;
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = 0.299 * face.data[3 * i] + 0.587 * face.data[3 * i + 1] + 0.114 * face.data[3 * i + 2];
  return y;
}

/** Variance of the 4-neighbour Laplacian of the luma, over the inner face. */
export function laplacianVariance(face: RgbImage): number {
  const w = face.width;
  const y = luma(face);
  const { x0, y0, x1, y1 } = innerRegion(face);
  let sum = 0, sq = 0, n = 0;
  for (let r = Math.max(1, y0); r < Math.min(face.height - 1, y1); r++) {
    for (let c = Math.max(1, x0); c < Math.min(w - 1, x1); c++) {
      const i = r * w + c;
      const l = y[i - 1] + y[i + 1] + y[i - w] + y[i + w] - 4 * y[i];
      sum += l; sq += l * l; n++;
    }
  }
  return n ? sq / n - (sum / n) ** 2 : 0;
}

/** The inner face scaled to the crop's size (the constants are for 112×112). */
function innerRegion(face: RgbImage) {
  const sx = face.width / 112, sy = face.height / 112;
  return { x0: Math.round(innerFace.x0 * sx), y0: Math.round(innerFace.y0 * sy), x1: Math.round(innerFace.x1 * sx), y1: Math.round(innerFace.y1 * sy) };
}

export function blurGate(aligned: RgbImage, t: QualityThresholds): QualityReport['blur'] {
  const sharpness = laplacianVariance(aligned);
  return { ...gate(sharpness, sharpness >= t.minSharpness, 'quality.blur'), sharpness };
}

export function exposureGate(aligned: RgbImage, t: QualityThresholds): QualityReport['exposure'] {
  const y = luma(aligned);
  const { x0, y0, x1, y1 } = innerRegion(aligned);
  let sum = 0, clipped = 0;
  for (let r = y0; r < y1; r++) {
    for (let c = x0; c < x1; c++) {
      const v = y[r * aligned.width + c];
      sum += v;
      if (v <= 5 || v >= 250) clipped++;
    }
  }
  const n = (y1 - y0) * (x1 - x0);
  const meanLuma = sum / n;
  const clippedFraction = clipped / n;
  const pass = meanLuma >= t.minMeanLuma && meanLuma <= t.maxMeanLuma && clippedFraction <= t.maxClippedFraction;
  return { ...gate(meanLuma, pass, 'quality.exposure'), meanLuma, clippedFraction };
}

/** Every gate on one face: the detection (in source pixels) and its aligned 112×112 crop. */
export function assessQuality(d: Detection, aligned: RgbImage, t: QualityThresholds): QualityReport {
  const faceSize = faceSizeGate(d, t);
  const pose = poseGate(d, t);
  const blur = blurGate(aligned, t);
  const exposure = exposureGate(aligned, t);
  const reasons = [faceSize, pose, blur, exposure].map((g) => g.reason).filter((r): r is QualityCode => r !== null);
  return { pass: reasons.length === 0, reasons, faceSize, pose, blur, exposure };
}

/**
 * A failed quality gate, as a 422. It carries the face's yaw — a head pose, not biometric data —
 * so a burst can still report the pose of a frame it left out (the head-turn challenge reads it).
 */
export class QualityError extends InputError {
  readonly yawDeg: number;
  constructor(code: QualityCode, message: string, yawDeg: number) {
    super(code, message, 422);
    this.yawDeg = yawDeg;
  }
}

/** Throws the first failed gate's code as a QualityError. */
export function requireQuality(report: QualityReport): void {
  if (report.pass) return;
  const messages: Record<QualityCode, string> = {
    'quality.face_too_small': 'the face is too small; come closer to the camera',
    'quality.pose': 'the face is turned or tilted; look straight at the camera',
    'quality.blur': 'the image is blurred; hold still',
    'quality.exposure': 'the face is too dark or too bright',
  };
  const code = report.reasons[0];
  throw new QualityError(code, messages[code], report.pose.yawDeg);
}
