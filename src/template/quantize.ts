/**
 * Embedding → int8 vector at a fixed scale. The input is L2-normalised again here, because the
 * no-wrap bound of params.ts holds only for unit vectors.
 */
import { InputError } from '../errors.ts';
import { MAX_DIM, QUANT_SCALE } from './params.ts';

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
  return score / (QUANT_SCALE * QUANT_SCALE);
}
