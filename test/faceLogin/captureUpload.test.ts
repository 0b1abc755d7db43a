import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CAPTURE_BYTES, MAX_CAPTURE_FRAMES, parseCaptureJson, parseCaptureUpload } from '../../src/faceLogin/captureUpload.ts';
import { SoftAuthenticator } from '../support/softAuthenticator.ts';

const NONCE = 'N'.repeat(43);
const assertion = new SoftAuthenticator({ origin: 'https://id.acme.example', rpID: 'id.acme.example' }).assert('C'.repeat(43));
const frame = (bytes = 100) => new Uint8Array(bytes).fill(1);

describe('parseCaptureUpload', () => {
  it('keeps nonce, frames and assertion together as one BoundCapture', () => {
    const frames = [frame(), Buffer.from([1, 2, 3])];
    const capture = parseCaptureUpload({ nonce: NONCE, frames, assertion });
    assert.equal(capture.nonce, NONCE);
    assert.deepEqual(capture.frames, frames);
    assert.deepEqual(capture.assertion, assertion);
  });

  it(`accepts up to ${MAX_CAPTURE_FRAMES} frames totalling up to ${MAX_CAPTURE_BYTES} bytes`, () => {
    const frames = Array.from({ length: MAX_CAPTURE_FRAMES }, () => frame(Math.floor(MAX_CAPTURE_BYTES / MAX_CAPTURE_FRAMES)));
    assert.equal(parseCaptureUpload({ nonce: NONCE, frames, assertion }).frames.length, MAX_CAPTURE_FRAMES);
  });

  it('refuses too many frames with 413 capture.too_many_frames', () => {
    const frames = Array.from({ length: MAX_CAPTURE_FRAMES + 1 }, () => frame());
    assert.throws(() => parseCaptureUpload({ nonce: NONCE, frames, assertion }), { code: 'capture.too_many_frames', status: 413 });
  });

  it('refuses more than 2 MB in total with 413 capture.too_large', () => {
    assert.equal(MAX_CAPTURE_BYTES, 2 * 1024 * 1024);
    assert.throws(() => parseCaptureUpload({ nonce: NONCE, frames: [frame(MAX_CAPTURE_BYTES), frame(1)], assertion }), { code: 'capture.too_large', status: 413 });
  });

  it('refuses no frames, and anything that is not bytes, nonce or assertion of the right type, with 400s', () => {
    assert.throws(() => parseCaptureUpload({ nonce: NONCE, frames: [], assertion }), { code: 'capture.no_frames', status: 400 });
    for (const frames of ['abc', null, [frame(), 'x'], [new Uint16Array(4)], [frame(0)], [[1, 2, 3]], { length: 1, 0: frame() }]) {
      assert.throws(() => parseCaptureUpload({ nonce: NONCE, frames, assertion }), { code: 'capture.malformed', status: 400 });
    }
    for (const nonce of [undefined, 42, 'short', 'N'.repeat(44), `${'N'.repeat(42)}=`]) {
      assert.throws(() => parseCaptureUpload({ nonce, frames: [frame()], assertion }), { code: 'capture.malformed', status: 400 });
    }
    assert.throws(() => parseCaptureUpload({ nonce: NONCE, frames: [frame()], assertion: { ...assertion, type: 'x' } }), { code: 'webauthn.malformed', status: 400 });
  });
});

describe('parseCaptureJson', () => {
  const b64u = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

  it('decodes base64url frames into the BoundCapture', () => {
    const capture = parseCaptureJson({ nonce: NONCE, frames: [b64u(frame(10)), b64u(Buffer.from([1, 2, 3]))], assertion });
    assert.deepEqual(capture.frames.map((f) => [...f]), [[...frame(10)], [1, 2, 3]]);
  });

  it('refuses padding, the standard alphabet, non-canonical trailing bits and non-strings with capture.malformed', () => {
    for (const bad of ['AQID=', 'ab+/', 'AQJ', 'A', 42, null]) {
      assert.throws(() => parseCaptureJson({ nonce: NONCE, frames: [bad], assertion }), { code: 'capture.malformed', status: 400 }, String(bad));
    }
    for (const body of [null, [], 'x', { nonce: NONCE, frames: 'AQID', assertion }]) assert.throws(() => parseCaptureJson(body), { code: 'capture.malformed' });
  });

  it('counts frames and bounds their encoded length before decoding any', () => {
    assert.throws(() => parseCaptureJson({ nonce: NONCE, frames: Array(MAX_CAPTURE_FRAMES + 1).fill('AQID'), assertion }), { code: 'capture.too_many_frames' });
    const big = 'A'.repeat(Math.ceil((MAX_CAPTURE_BYTES * 4) / 3) + 4);
    assert.throws(() => parseCaptureJson({ nonce: NONCE, frames: [big], assertion }), { code: 'capture.too_large', status: 413 });
  });
});
