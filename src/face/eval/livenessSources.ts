/**
 * Which photos of an evaluation layout become liveness captures: bona fide are the labelled photos
 * of identities/<id>/* (real camera photos) and pad/live/*; attacks are pad/<species>/* for every
 * other species. A bona fide capture must look like what a webcam delivers (notCameraLike): the
 * others are still scored, but kept out of the calibration and counted. A layout that cannot give
 * both bona fide and attack captures is a one-line `eval.layout` error.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../errors.ts';
import type { CaptureBurst } from './captureBurst.ts';

export interface CaptureSource {
  /** Path relative to the layout root. */
  id: string;
  file: string;
  /** `live` (bona fide) or the attack species. */
  species: string;
  origin: 'labelled photo' | 'pad';
}

/**
 * Most a photo's capture window may be enlarged and still pass for a 640×480 webcam frame: a round
 * bound (a window of 320 px or more), past which the frame is visibly soft; eval/LIVENESS.md also
 * gives the threshold with every photo kept, so what the bound changes stays visible.
 */
export const maxUpscale = 2;

/**
 * Why a bona fide burst is not like a webcam's, or null: a webcam frame is in colour and has
 * its own pixels, so greyscale pictures (the 150 px grey face crops) and photos enlarged more than
 * maxUpscale× to fill the frame (tight face crops, small faces in small photos) are not
 * bona fide captures of the kind the threshold is for. Attacks are kept whatever they look like.
 */
export function notCameraLike(burst: Pick<CaptureBurst, 'upscale' | 'greyscale'>): string | null {
  if (burst.greyscale) return 'greyscale';
  if (burst.upscale > maxUpscale) return `upscaled > ${maxUpscale}×`;
  return null;
}

const imageFile = /\.(jpe?g|png|webp)$/i;
const layoutError = (message: string) => new InputError('eval.layout', message);

function subdirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() || (d.isSymbolicLink() && statSync(path.join(dir, d.name)).isDirectory()))
    .map((d) => d.name)
    .sort();
}

function images(dir: string): string[] {
  return readdirSync(dir).filter((f) => imageFile.test(f)).sort();
}

/** `shownAs`: how errors name the layout (the collection it was built from, not a scratch folder). */
export function listLivenessSources(data: string, shownAs = data): CaptureSource[] {
  if (!existsSync(data) || !statSync(data).isDirectory()) throw layoutError(`${shownAs} is not a directory`);
  const padDir = path.join(data, 'pad');
  if (!existsSync(padDir) || !statSync(padDir).isDirectory()) throw layoutError(`${shownAs} has no pad/ (pad/live/* and pad/<attack species>/* are needed for liveness)`);
  const sources: CaptureSource[] = [];
  const identities = path.join(data, 'identities');
  if (existsSync(identities)) {
    for (const id of subdirs(identities)) {
      for (const f of images(path.join(identities, id))) {
        const file = path.join(identities, id, f);
        sources.push({ id: path.relative(data, file), file, species: 'live', origin: 'labelled photo' });
      }
    }
  }
  for (const species of subdirs(padDir)) {
    for (const f of images(path.join(padDir, species))) {
      const file = path.join(padDir, species, f);
      sources.push({ id: path.relative(data, file), file, species, origin: 'pad' });
    }
  }
  if (!sources.some((s) => s.species === 'live')) throw layoutError(`${shownAs} has no bona fide photos (identities/<id>/* or pad/live/*)`);
  if (!sources.some((s) => s.species !== 'live')) throw layoutError(`${shownAs} has no attack samples (pad/<species>/* besides live/)`);
  return sources;
}
