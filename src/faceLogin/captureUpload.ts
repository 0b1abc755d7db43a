/**
 * The face step's upload as one object — nonce, frames and the assertion over both — checked
 * for shape and size before anything is looked up, hashed or decoded. Limits: 1–12 frames,
 * 2 MB in total (a 640×480 JPEG is ~50–150 kB), each frame raw bytes. This same object is what
 * the custodian will verify on its own, so it travels whole.
 */
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { faceLoginError } from '../errors.ts';
import { CAPTURE_NONCE } from './captureNonce.ts';
import { parseAssertionJson } from './webauthnJson.ts';

export const MAX_CAPTURE_FRAMES = 12;
export const MAX_CAPTURE_BYTES = 2 * 1024 * 1024;

export type BoundCapture = {
  /** The capture nonce the server issued. */
  nonce: string;
  /** Encoded images (JPEG/PNG), in the order their hashes enter the challenge. */
  frames: Uint8Array[];
  /** The passkey assertion whose challenge is captureChallenge(nonce, frames). */
  assertion: AuthenticationResponseJSON;
};

/** A BoundCapture from untrusted parts, or a 4xx InputError naming what is wrong. */
export function parseCaptureUpload(upload: { nonce: unknown; frames: unknown; assertion: unknown }): BoundCapture {
  const { nonce, frames } = upload;
  if (typeof nonce !== 'string' || !CAPTURE_NONCE.test(nonce)) throw faceLoginError('capture.malformed', 'the capture nonce must be the 43-character value the server issued');
  if (!Array.isArray(frames)) throw faceLoginError('capture.malformed', 'frames must be a list of images');
  if (frames.length === 0) throw faceLoginError('capture.no_frames', 'the capture has no frames');
  if (frames.length > MAX_CAPTURE_FRAMES) throw faceLoginError('capture.too_many_frames', `at most ${MAX_CAPTURE_FRAMES} frames are accepted`);
  let total = 0;
  for (const frame of frames) {
    if (!(frame instanceof Uint8Array) || frame.length === 0) throw faceLoginError('capture.malformed', 'each frame must be the non-empty bytes of an image');
    total += frame.length;
  }
  if (total > MAX_CAPTURE_BYTES) throw faceLoginError('capture.too_large', `the frames may total at most ${MAX_CAPTURE_BYTES} bytes`);
  return { nonce, frames: frames as Uint8Array[], assertion: parseAssertionJson(upload.assertion) };
}
