// The face step in the browser: camera → a short burst of JPEG frames → a WebAuthn assertion
// (or, when enrolling, a passkey registration first) whose challenge hashes the nonce and every
// frame → one upload. The server recomputes the challenge from the bytes it receives, so frames
// cannot be swapped after the user verified on their device. No framework, no inline script
// (the page's CSP allows only 'self'); every camera state has a text for screen readers.
// Routes and JSON shapes: src/interaction/faceRoutes.ts (sign-in), enrollRoutes.ts (setup).
// For loa 3 the start answers ~10 frames and a prompt per frame (look straight, turn left/right).
(() => {
  'use strict';
  const root = document.getElementById('face-step');
  if (!root) return;
  const cfg = root.dataset;
  const video = document.getElementById('face-video');
  const status = document.getElementById('face-status');
  const startButton = document.getElementById('face-start');
  const fallback = document.getElementById('face-fallback');
  const FRAME_W = 640;
  const FRAME_H = 480;
  // Mean luma below this (0–255) is too dark for the detector's quality gate to pass.
  const TOO_DARK = 40;

  const b64u = {
    encode(buf) {
      const bytes = new Uint8Array(buf);
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    },
    decode(text) {
      const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
      const out = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
      return out;
    },
  };

  function say(state, text) {
    root.dataset.state = state;
    status.textContent = text;
  }

  function showFallback() {
    if (fallback) fallback.hidden = false;
  }

  async function post(url, body) {
    const res = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ csrf: cfg.csrf, ...body }),
    });
    let json = {};
    try {
      json = await res.json();
    } catch {
      json = { error: 'request.failed', error_description: 'The server did not answer as expected.' };
    }
    return { status: res.status, json, retryAfter: res.headers.get('retry-after') };
  }

  async function openCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say('no-camera', 'This browser cannot use a camera here. Use your PIN or authenticator code instead.');
      showFallback();
      return false;
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: FRAME_W, height: FRAME_H, facingMode: 'user' }, audio: false });
      video.srcObject = stream;
      await video.play();
      say('ready', 'Camera ready. Look straight at the camera, with your face inside the oval, then press the button.');
      startButton.disabled = false;
      return true;
    } catch (e) {
      if (e && (e.name === 'NotAllowedError' || e.name === 'SecurityError')) {
        say('permission-denied', 'Camera permission was denied. Allow the camera in your browser settings, or use your PIN or authenticator code.');
      } else {
        say('no-camera', 'No camera was found. Use your PIN or authenticator code instead.');
      }
      showFallback();
      return false;
    }
  }

  function meanLuma(ctx) {
    const { data } = ctx.getImageData(0, 0, FRAME_W, FRAME_H);
    let sum = 0;
    // Every 16th pixel is plenty for a brightness check.
    for (let i = 0; i < data.length; i += 64) sum += 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
    return sum / (data.length / 64);
  }

  async function captureFrames(count, intervalMs, prompts) {
    const canvas = document.createElement('canvas');
    canvas.width = FRAME_W;
    canvas.height = FRAME_H;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const frames = [];
    let luma = 0;
    for (let i = 0; i < count; i++) {
      // loa 3: the head turn (or look straight) the server asked for, shown before the frame is taken.
      if (prompts && prompts[i]) say('capturing', prompts[i]);
      await new Promise((r) => setTimeout(r, intervalMs));
      // A frame the camera has delivered since the last draw (a busy machine may fire the timer
      // before a new frame arrives, and the burst would hold the same picture twice); bounded so
      // a browser that never calls back still captures.
      if (video.requestVideoFrameCallback) await Promise.race([new Promise((r) => video.requestVideoFrameCallback(r)), new Promise((r) => setTimeout(r, 500))]);
      // The stream as the camera records it: the preview's CSS mirror does not reach the canvas,
      // and the server reads the turns from unmirrored frames (src/faceLogin/headTurn.ts).
      ctx.drawImage(video, 0, 0, FRAME_W, FRAME_H);
      luma += meanLuma(ctx);
      const blob = await new Promise((r) => canvas.toBlob(r, 'image/jpeg', 0.9));
      frames.push(new Uint8Array(await blob.arrayBuffer()));
    }
    return { frames, luma: luma / count };
  }

  // challenge = SHA-256(UTF-8(nonce) ‖ SHA-256(frame₁) ‖ … ‖ SHA-256(frameₙ)) — the layout of
  // src/faceLogin/captureChallenge.ts.
  async function challengeOf(nonce, frames) {
    const parts = [new TextEncoder().encode(nonce)];
    for (const f of frames) parts.push(new Uint8Array(await crypto.subtle.digest('SHA-256', f)));
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  }

  function assertionJson(cred) {
    const r = cred.response;
    return {
      id: cred.id,
      rawId: b64u.encode(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: b64u.encode(r.clientDataJSON),
        authenticatorData: b64u.encode(r.authenticatorData),
        signature: b64u.encode(r.signature),
        userHandle: r.userHandle ? b64u.encode(r.userHandle) : undefined,
      },
      clientExtensionResults: {},
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
    };
  }

  function registrationJson(cred) {
    const r = cred.response;
    return {
      id: cred.id,
      rawId: b64u.encode(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: b64u.encode(r.clientDataJSON),
        attestationObject: b64u.encode(r.attestationObject),
        transports: typeof r.getTransports === 'function' ? r.getTransports() : [],
      },
      clientExtensionResults: {},
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
    };
  }

  async function registerPasskey() {
    say('passkey', 'Create a passkey on this device: confirm with your fingerprint, face unlock or device PIN.');
    const { status: code, json } = await post(cfg.passkeyOptionsUrl, {});
    if (code !== 200) throw Object.assign(new Error(json.error_description), { code: json.error });
    const o = json.options;
    const cred = await navigator.credentials.create({
      publicKey: {
        ...o,
        challenge: b64u.decode(o.challenge),
        user: { ...o.user, id: b64u.decode(o.user.id) },
        excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: b64u.decode(c.id) })),
      },
    });
    const done = await post(cfg.passkeyVerifyUrl, { credential: registrationJson(cred) });
    if (done.status !== 200) throw Object.assign(new Error(done.json.error_description), { code: done.json.error });
    // A retry after a failed capture reuses the passkey just made.
    cfg.needsPasskey = 'false';
  }

  async function run() {
    startButton.disabled = true;
    try {
      if (cfg.purpose === 'enroll' && cfg.needsPasskey === 'true') await registerPasskey();
      // A fresh sign-in names the user; a step-up or an enrollment is for the signed-in account.
      const start = await post(cfg.startUrl, cfg.username ? { username: cfg.username } : {});
      if (start.status !== 200) {
        say('error', start.json.error_description || 'Face sign-in is not available now.');
        showFallback();
        return;
      }
      const { nonce, frames: count, intervalMs, prompts, rpId, allowCredentials } = start.json;
      say('capturing', 'Hold still…');
      const { frames, luma } = await captureFrames(count, intervalMs, prompts);
      if (luma < TOO_DARK) {
        say('too-dark', 'It is too dark to see your face. Turn towards a light and try again.');
        startButton.disabled = false;
        return;
      }
      say('confirm', 'Confirm on your device (fingerprint, face unlock or device PIN).');
      const challenge = await challengeOf(nonce, frames);
      const cred = await navigator.credentials.get({
        publicKey: {
          challenge,
          rpId,
          userVerification: 'required',
          timeout: 60000,
          allowCredentials: (allowCredentials || []).map((c) => ({ type: 'public-key', id: b64u.decode(c.id), transports: c.transports })),
        },
      });
      say('checking', 'Checking…');
      const upload = await post(cfg.uploadUrl, { nonce, frames: frames.map(b64u.encode), assertion: assertionJson(cred) });
      if (upload.status === 200 && upload.json.redirect) {
        say('done', upload.json.message || 'Done.');
        window.location.assign(upload.json.redirect);
        return;
      }
      say(upload.json.state || 'rejected', upload.json.error_description || 'That did not work. Try again.');
      if (upload.status === 429 || upload.json.fallback) showFallback();
      startButton.disabled = upload.status === 429 && !upload.retryAfter;
    } catch (e) {
      if (e && e.name === 'NotAllowedError') say('cancelled', 'The device confirmation was cancelled or timed out. Try again, or use your PIN.');
      else say('error', (e && e.message) || 'Something went wrong. Try again, or use your PIN.');
      showFallback();
      startButton.disabled = false;
    }
  }

  startButton.addEventListener('click', () => void run());
  startButton.disabled = true;
  void openCamera();
})();
