/**
 * Smoke test of the browser test rig before any face page exists: a tiny local page grabs three
 * frames from Chromium's fake camera (playing a real photo), encodes them as JPEG, hashes them
 * and signs the hashes with a passkey on the virtual authenticator, then uploads it all. Node
 * checks that the JPEGs hold the face, that the signed challenge is the hash of exactly the
 * uploaded bytes and that the signature verifies; and that a refused camera shows an error.
 */
import assert from 'node:assert/strict';
import { createHash, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { decodeImage } from '../../src/face/decode.ts';
import { detectDominantFace } from '../../src/face/detect.ts';
import { addVirtualAuthenticator, chromiumMissing, launchBrowser } from '../support/browser.ts';
import { FACES_DIR } from '../support/shared.ts';

/** Runs on load: camera → 3 JPEGs → SHA-256 each → passkey create, then get over their hash → upload. */
const PAGE = `<!doctype html>
<meta charset="utf-8"><title>camera smoke test</title>
<p id="status" data-state="starting">starting</p>
<video autoplay muted playsinline width="320" height="240"></video>
<script>
const status = document.getElementById('status');
const show = (state, text) => { status.dataset.state = state; status.textContent = text; };
const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)));
const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));

async function sign(challenge) {
  const cred = await navigator.credentials.get({ publicKey: { challenge, userVerification: 'required', timeout: 5000 } });
  return { id: cred.id, clientDataJSON: b64(cred.response.clientDataJSON), authenticatorData: b64(cred.response.authenticatorData), signature: b64(cred.response.signature) };
}
window.signAgain = () => sign(crypto.getRandomValues(new Uint8Array(32)));

(async () => {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  } catch (e) {
    return show('camera-error', 'Camera unavailable: ' + e.name);
  }
  const video = document.querySelector('video');
  video.srcObject = stream;
  await video.play();
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const jpegs = [];
  const nextFrame = () => new Promise((r) => video.requestVideoFrameCallback(r));
  for (let i = 0; i < 3; i++) {
    await nextFrame();
    canvas.getContext('2d').drawImage(video, 0, 0);
    jpegs.push(new Uint8Array(await (await new Promise((r) => canvas.toBlob(r, 'image/jpeg', 0.9))).arrayBuffer()));
  }
  const hashes = await Promise.all(jpegs.map(sha256));
  const challenge = await sha256(new Uint8Array(hashes.flatMap((h) => [...h])));
  const created = await navigator.credentials.create({ publicKey: {
    rp: { name: 'camera smoke test' },
    user: { id: crypto.getRandomValues(new Uint8Array(16)), name: 'camera', displayName: 'Camera' },
    challenge: crypto.getRandomValues(new Uint8Array(32)),
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    authenticatorSelection: { authenticatorAttachment: 'platform', residentKey: 'required', userVerification: 'required' },
    timeout: 5000,
  } });
  const assertion = await sign(challenge);
  const res = await fetch('/upload', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({
    frames: jpegs.map(b64), publicKey: b64(created.response.getPublicKey()), ...assertion,
  }) });
  show(res.ok ? 'done' : 'upload-error', res.ok ? 'captured and signed ' + jpegs.length + ' frames' : 'upload failed');
})().catch((e) => show('error', e.name + ': ' + e.message));
</script>`;

type Upload = { frames: string[]; publicKey: string; id: string; clientDataJSON: string; authenticatorData: string; signature: string };

let server: Server;
let origin: string;
let uploads: Upload[] = [];

before(async () => {
  server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/upload') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        uploads.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(204).end();
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // WebAuthn refuses IP addresses as relying party ids; localhost is a secure context and a valid one.
  origin = `http://localhost:${(server.address() as { port: number }).port}`;
});

after(() => new Promise<void>((r) => server.close(() => r())));

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

describe('Chromium with a fake camera and a virtual authenticator', { skip: chromiumMissing() }, () => {
  test('three captured JPEGs show the face, and the passkey signed exactly their hash', async () => {
    const browser = await launchBrowser({ camera: { photo: path.join(FACES_DIR, 'face_recognition/barack_obama_1.jpg'), focus: { x: 0.54, y: 0.24 } } });
    try {
      const authenticator = await addVirtualAuthenticator(browser.page);
      uploads = [];
      await browser.page.goto(origin);
      await browser.page.waitForSelector('#status:not([data-state="starting"])', { timeout: 15_000 });
      assert.equal(await browser.page.textContent('#status'), 'captured and signed 3 frames');
      await browser.screenshot('camera-captured');
      assert.equal(uploads.length, 1);
      const [upload] = uploads;

      const jpegs = upload.frames.map((f) => Buffer.from(f, 'base64'));
      assert.equal(new Set(jpegs.map((j) => sha256(j).toString('hex'))).size, 3, 'three different frames (the clip moves)');
      for (const jpeg of jpegs) {
        const meta = await sharp(jpeg).metadata();
        assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 640, 480]);
        const face = await detectDominantFace(await decodeImage(jpeg));
        assert.ok(face.box.w > 120 && face.box.w < 300, `a face-sized face in the frame: ${JSON.stringify(face.box)}`);
      }

      const clientDataJSON = Buffer.from(upload.clientDataJSON, 'base64');
      const clientData = JSON.parse(clientDataJSON.toString('utf8'));
      const expected = sha256(Buffer.concat(jpegs.map(sha256))).toString('base64url');
      assert.deepEqual({ type: clientData.type, origin: clientData.origin, challenge: clientData.challenge }, { type: 'webauthn.get', origin, challenge: expected });
      const authenticatorData = Buffer.from(upload.authenticatorData, 'base64');
      assert.ok(authenticatorData.subarray(0, 32).equals(sha256(Buffer.from('localhost'))), 'rpIdHash is localhost');
      assert.equal(authenticatorData[32] & 0x05, 0x05, 'user present and user verified');
      const signed = Buffer.concat([authenticatorData, sha256(clientDataJSON)]);
      const publicKey = { key: Buffer.from(upload.publicKey, 'base64'), format: 'der', type: 'spki' } as const;
      assert.ok(verify('sha256', signed, publicKey, Buffer.from(upload.signature, 'base64')), 'the assertion signature verifies');

      const creds = await authenticator.credentials();
      assert.equal(creds.length, 1);
      assert.equal(creds[0].rpId, 'localhost');
      assert.ok(creds[0].isResidentCredential);
      assert.equal(Buffer.from(creds[0].credentialId, 'base64').toString('base64url'), upload.id);

      await authenticator.setUserVerified(false);
      const refused = await browser.page.evaluate(() => (window as unknown as { signAgain(): Promise<unknown> }).signAgain().then(() => 'signed', (e: Error) => e.name));
      assert.equal(refused, 'NotAllowedError', 'no assertion when user verification fails');
    } finally {
      await browser.close();
    }
  });

  test('a refused camera shows an error state instead of capturing', async () => {
    const browser = await launchBrowser({ camera: 'denied' });
    try {
      uploads = [];
      await browser.page.goto(origin);
      await browser.page.waitForSelector('#status:not([data-state="starting"])', { timeout: 10_000 });
      assert.equal(await browser.page.getAttribute('#status', 'data-state'), 'camera-error');
      assert.equal(await browser.page.textContent('#status'), 'Camera unavailable: NotAllowedError');
      await browser.screenshot('camera-denied');
      assert.equal(uploads.length, 0, 'nothing was uploaded');
    } finally {
      await browser.close();
    }
  });
});
