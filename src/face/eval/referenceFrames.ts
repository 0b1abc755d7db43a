/**
 * A labelled photo as a login would see it — the first 640×480 JPEG frame of the capture burst
 * captureBurst.ts makes from it — through the project's login stages (decode → detect with the first
 * look the login uses for the frames it embeds → the capture
 * policy's face → align → embed) and through issue 12's plain reference, so the report shows whether
 * the stages keep their advantage on webcam frames while matching the reference on photos.
 */
import { isFacegateError } from '../../errors.ts';
import { alignFace } from '../align.ts';
import { decodeImage } from '../decode.ts';
import { detectFaces, dominantFace } from '../detect.ts';
import type { Recognizer } from '../embed.ts';
import { firstLookSize } from '../frame.ts';
import { captureBurst } from './captureBurst.ts';
import { notCameraLike } from './livenessSources.ts';
import type { PlainReference } from './plainReference.ts';
import type { ComparedPhoto } from './referenceComparison.ts';

/** Kinds of frame: like a webcam's (colour, the face not enlarged > 2×) or not (liveness calibration's rule). */
export const FRAME_KINDS = ['webcam-like', 'other'] as const;

async function attempt<T>(f: () => Promise<T>): Promise<T | { failure: string }> {
  try {
    return await f();
  } catch (e) {
    if (isFacegateError(e)) return { failure: e.code };
    throw e;
  }
}

/** The photo's frame through both pipelines; when no frame can be made (no face to place the window), both fail. */
export async function frameThroughBoth(photo: Uint8Array, identity: string, file: string, plain: PlainReference, recognizer: Recognizer): Promise<ComparedPhoto> {
  const burst = await attempt(() => captureBurst(photo));
  if ('failure' in burst) return { identity, file, kind: 'other', project: null, reference: burst };
  const kind = notCameraLike(burst) === null ? 'webcam-like' : 'other';
  const frame = await decodeImage(burst.frames[0]);
  const project = await attempt(async () => recognizer.embed(alignFace(frame, dominantFace(await detectFaces(frame, { fastInputSize: firstLookSize })).landmarks)));
  const reference = await attempt(async () => ({ embedding: (await plain.run(frame)).embedding }));
  return { identity, file, kind, project: 'failure' in project ? null : project, reference };
}
