/**
 * The face step's upload as one object — nonce, frames and the assertion over both — checked
 * for shape and size before anything is looked up, hashed or decoded. Limits: 1–12 frames,
 * 2 MB in total (a 640×480 JPEG is ~50–150 kB), each frame raw bytes. This same object is what
 * the custodian will verify on its own, so it travels whole. Over HTTP it arrives as JSON with
 * each frame in base64url (parseCaptureJson), checked for count and length before decoding.
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

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The encoded length of `bytes` bytes in unpadded base64url. */
const base64urlLength = (bytes: number) => Math.ceil((bytes * 4) / 3);

/**
 * The face step's JSON body `{ nonce, frames: base64url[], assertion }` as a BoundCapture:
 * frames are counted and their encoded length bounded before any is decoded, and each must be
 * canonical unpadded base64url (`capture.malformed` otherwise).
 */
export function parseCaptureJson(body: unknown): BoundCapture {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw faceLoginError('capture.malformed', 'the upload must be a JSON object');
  const { nonce, frames, assertion } = body as Record<string, unknown>;
  if (!Array.isArray(frames)) throw faceLoginError('capture.malformed', 'frames must be a list of base64url strings');
  if (frames.length > MAX_CAPTURE_FRAMES) throw faceLoginError('capture.too_many_frames', `at most ${MAX_CAPTURE_FRAMES} frames are accepted`);
  let encoded = 0;
  for (const frame of frames) {
    if (typeof frame !== 'string' || !BASE64URL.test(frame) || frame.length % 4 === 1) throw faceLoginError('capture.malformed', 'each frame must be an image in base64url');
    encoded += frame.length;
  }
  if (encoded > base64urlLength(MAX_CAPTURE_BYTES)) throw faceLoginError('capture.too_large', `the frames may total at most ${MAX_CAPTURE_BYTES} bytes`);
  const decoded = frames.map((frame: string) => {
    const bytes = new Uint8Array(Buffer.from(frame, 'base64url'));
    // Non-canonical trailing bits (two encodings of one image) are refused too.
    if (Buffer.from(bytes).toString('base64url') !== frame) throw faceLoginError('capture.malformed', 'each frame must be an image in base64url');
    return bytes;
  });
  return parseCaptureUpload({ nonce, frames: decoded, assertion });
}
