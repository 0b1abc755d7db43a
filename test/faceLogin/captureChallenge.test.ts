import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { captureChallenge } from '../../src/faceLogin/captureChallenge.ts';

const NONCE = 'A'.repeat(43);
const FRAMES = [new TextEncoder().encode('frame-1'), new TextEncoder().encode('frame-2')];

/** What the browser does, with crypto.subtle only (the same code runs in a page). */
async function browserChallenge(nonce: string, frames: Uint8Array[]): Promise<Uint8Array> {
  const hashes = await Promise.all(frames.map(async (f) => new Uint8Array(await crypto.subtle.digest('SHA-256', f as Uint8Array<ArrayBuffer>))));
  const message = new Uint8Array([...new TextEncoder().encode(nonce), ...hashes.flatMap((h) => [...h])]);
  return new Uint8Array(await crypto.subtle.digest('SHA-256', message));
}

describe('captureChallenge', () => {
  it('is base64url(SHA-256(UTF-8(nonce) ‖ SHA-256(frame₁) ‖ … )) — a fixed vector for the browser side', () => {
    assert.equal(captureChallenge(NONCE, FRAMES), 'fWrM28-LVWvege4nOW3ahKFXtjFHmZma5Oa5rJGyfTg');
  });

  it('equals what a browser computes with crypto.subtle and hands to the authenticator as raw bytes', async () => {
    const raw = await browserChallenge(NONCE, FRAMES);
    assert.equal(Buffer.from(raw).toString('base64url'), captureChallenge(NONCE, FRAMES));
  });

  it('changes with any byte of any frame, with the frame order, and with the nonce', () => {
    const base = captureChallenge(NONCE, FRAMES);
    const flipped = FRAMES.map((f) => new Uint8Array(f));
    flipped[1][3] ^= 1;
    assert.notEqual(captureChallenge(NONCE, flipped), base);
    assert.notEqual(captureChallenge(NONCE, [FRAMES[1], FRAMES[0]]), base);
    assert.notEqual(captureChallenge(NONCE, [FRAMES[0]]), base);
    assert.notEqual(captureChallenge('B'.repeat(43), FRAMES), base);
  });
});
