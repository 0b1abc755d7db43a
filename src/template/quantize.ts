/**
 * Embedding → int8 vector at a fixed scale. The input is L2-normalised again here, because the
 * no-wrap bound of params.ts holds only for unit vectors.
 */
import { InputError } from '../errors.ts';
import { MAX_DIM, QUANT_SCALE } from './params.ts';

const SCALE_SQUARED = QUANT_SCALE * QUANT_SCALE;

export function quantize(embedding: Float32Array): Int8Array {
  const dim = embedding.length;
  if (dim < 1 || dim > MAX_DIM) throw new InputError('template.bad_dimension', `embedding dimension must be 1..${MAX_DIM}, got ${dim}`);
  let squared = 0;
  for (let i = 0; i < dim; i++) squared += embedding[i] * embedding[i];
  if (!Number.isFinite(squared) || squared === 0) throw new InputError('template.bad_embedding', 'embedding must be finite and non-zero');
  const norm = Math.sqrt(squared);
  const q = new Int8Array(dim);
  for (let i = 0; i < dim; i++) q[i] = Math.round((embedding[i] / norm) * QUANT_SCALE);
  return q;
}

/** Cosine estimate from an integer inner product of two quantized vectors. */
export function cosineFromScore(score: number): number {
  return score / SCALE_SQUARED;
}

/**
 * The integer θ of a cosine threshold: the smallest integer score whose cosineFromScore is
 * ≥ `cosine`, so score ≥ θ decides exactly as cosineFromScore(score) ≥ cosine did.
 */
export function scoreThreshold(cosine: number): number {
  if (!Number.isFinite(cosine) || cosine < -1 || cosine > 1) throw new InputError('template.bad_threshold', 'threshold must be a cosine in [−1, 1]');
  let theta = Math.ceil(cosine * SCALE_SQUARED);
  // Rounding of the product may be off by one either way.
  while (cosineFromScore(theta - 1) >= cosine) theta--;
  while (cosineFromScore(theta) < cosine) theta++;
  return theta;
}
