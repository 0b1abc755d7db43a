/**
 * The WebAuthn challenge that binds a burst of frames to its capture nonce (DESIGN.md §3.2):
 *
 *   digest    = SHA-256( UTF-8(nonce) ‖ SHA-256(frame₁) ‖ SHA-256(frame₂) ‖ … ‖ SHA-256(frameₙ) )
 *   challenge = base64url(digest), no padding (how clientDataJSON.challenge carries it)
 *
 * - `nonce` is the 43-character base64url string the server issued, taken as its 43 ASCII bytes
 *   (not base64-decoded): `new TextEncoder().encode(nonce)` in the browser.
 * - `frameᵢ` is each frame's bytes exactly as uploaded (the encoded JPEG/PNG file, not decoded
 *   pixels), in upload order; each SHA-256 is its raw 32 bytes, not hex.
 * - Every part has a fixed length (43 + 32·n bytes), so the concatenation is unambiguous.
 *
 * The browser passes the raw 32-byte digest as `publicKey.challenge` to navigator.credentials.get;
 * the authenticator's clientDataJSON then holds its base64url form, which the server recomputes
 * from what it received and compares.
 */
import { createHash } from 'node:crypto';

export function captureChallenge(nonce: string, frames: readonly Uint8Array[]): string {
  return challengeFromFrameHashes(nonce, frameHashes(frames));
}

/** SHA-256 of each frame: what the custodian receives instead of the frames. */
export function frameHashes(frames: readonly Uint8Array[]): Uint8Array[] {
  return frames.map((frame) => new Uint8Array(createHash('sha256').update(frame).digest()));
}

/** The same challenge from the frames' hashes (the custodian never sees a frame). */
export function challengeFromFrameHashes(nonce: string, hashes: readonly Uint8Array[]): string {
  const outer = createHash('sha256').update(nonce, 'utf8');
  for (const hash of hashes) outer.update(hash);
  return outer.digest('base64url');
}
