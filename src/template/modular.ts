/** Arithmetic mod the plaintext modulus t and the randomness the masking needs. */
import { getRandomValues } from 'node:crypto';
import { PLAIN_MODULUS } from './params.ts';

const T = PLAIN_MODULUS;
// Largest multiple of t below 2³²: 32-bit draws under it reduce to a uniform residue.
const LIMIT = Math.floor(2 ** 32 / T) * T;

/** a mod t in [0, t). */
export function mod(a: number): number {
  const r = a % T;
  return r < 0 ? r + T : r;
}

/** (a·b) mod t; exact because both are < 2¹⁷. */
export function mulMod(a: number, b: number): number {
  return mod(a * b);
}

/** The signed integer in (−t/2, t/2] that a residue stands for. */
export function centred(residue: number): number {
  return residue > (T - 1) / 2 ? residue - T : residue;
}

/** a⁻¹ mod t for a ≢ 0 (t is prime: a^(t−2)). */
export function inverse(a: number): number {
  let result = 1;
  let base = mod(a);
  let e = T - 2;
  while (e > 0) {
    if (e & 1) result = mulMod(result, base);
    base = mulMod(base, base);
    e >>>= 1;
  }
  return result;
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

/** A uniform residue in [1, t). */
export function randomNonZero(): number {
  for (;;) {
    const [r] = uniformResidues(1);
    if (r !== 0) return r;
  }
}
