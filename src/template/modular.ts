/** Arithmetic mod the plaintext modulus t (≈ 2^30) and the randomness the masking needs. */
import { getRandomValues } from 'node:crypto';
import { PLAIN_MODULUS } from './params.ts';

const T = PLAIN_MODULUS;
// Largest multiple of t below 2³²: 32-bit draws under it reduce to a uniform residue.
const LIMIT = Math.floor(2 ** 32 / T) * T;
const TWO_15 = 2 ** 15;

/** a mod t in [0, t). */
export function mod(a: number): number {
  const r = a % T;
  return r < 0 ? r + T : r;
}

/**
 * (a·b) mod t for |a|, |b| < 2^31. The product can reach 2^62, beyond doubles, so b is split in
 * 15-bit halves: every intermediate stays below 2^46.
 */
export function mulMod(a: number, b: number): number {
  const x = mod(a);
  const y = mod(b);
  const high = Math.floor(y / TWO_15);
  const low = y - high * TWO_15;
  return mod(mod(x * high) * TWO_15 + x * low);
}

/** The signed integer in (−t/2, t/2] that a residue stands for. */
export function centred(residue: number): number {
  return residue > (T - 1) / 2 ? residue - T : residue;
}

/** `count` independent uniform residues mod t, by rejection sampling of 32-bit draws. */
export function uniformResidues(count: number): Uint32Array {
  const out = new Uint32Array(count);
  let filled = 0;
  while (filled < count) {
    // getRandomValues fills at most 64 KiB per call.
    const draws = getRandomValues(new Uint32Array(Math.min(count - filled + 4, 16_384)));
    for (let i = 0; i < draws.length && filled < count; i++) if (draws[i] < LIMIT) out[filled++] = draws[i] % T;
  }
  return out;
}

/** A uniform integer in [low, high] (high − low < 2^32), by rejection sampling. */
export function randomIntIn(low: number, high: number): number {
  const span = high - low + 1;
  const limit = Math.floor(2 ** 32 / span) * span;
  for (;;) {
    const [x] = getRandomValues(new Uint32Array(1));
    if (x < limit) return low + (x % span);
  }
}
