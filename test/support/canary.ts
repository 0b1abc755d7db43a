/**
 * A canary planted in the face frames a browser uploads, to prove no frame byte is kept: an init
 * script wraps HTMLCanvasElement.prototype.toBlob so every JPEG the page encodes carries a comment
 * segment (0xFFFE) holding 16 random bytes right after its start-of-image marker. The page hashes
 * what toBlob gives it, so the planted frames are what the passkey signs and the server checks.
 * Afterwards the canary is looked for in every form a careless store or log line could hold it:
 * raw bytes, hex, base64 and base64url at each of the three byte alignments.
 */
import { randomBytes } from 'node:crypto';

export const CANARY_BYTES = 16;

/** Where something was found, and the text or bytes found there. */
export type Haystack = { where: string; text?: string; bytes?: Uint8Array };
export type Finding = { where: string; form: string };

export function newCanary(): Buffer {
  return randomBytes(CANARY_BYTES);
}

/** The COM segment (marker, big-endian length counting itself, payload) the init script inserts. */
export function canarySegment(canary: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe, 0, 2 + canary.length]), canary]);
}

/** A script for page.addInitScript: every image/jpeg from canvas.toBlob gets the canary segment after SOI. */
export function plantCanaryScript(canary: Uint8Array): string {
  return `(() => {
  const segment = new Uint8Array(${JSON.stringify([...canarySegment(canary)])});
  const toBlob = HTMLCanvasElement.prototype.toBlob;
  HTMLCanvasElement.prototype.toBlob = function (callback, type, quality) {
    return toBlob.call(this, (blob) => {
      if (!blob || type !== 'image/jpeg') return callback(blob);
      blob.arrayBuffer().then((buf) => {
        const jpeg = new Uint8Array(buf);
        callback(new Blob([jpeg.subarray(0, 2), segment, jpeg.subarray(2)], { type: 'image/jpeg' }));
      });
    }, type, quality);
  };
})();`;
}

/** True when `jpeg` starts with SOI followed by the canary's comment segment. */
export function carriesCanary(jpeg: Uint8Array, canary: Uint8Array): boolean {
  const segment = canarySegment(canary);
  return jpeg[0] === 0xff && jpeg[1] === 0xd8 && Buffer.from(jpeg.subarray(2, 2 + segment.length)).equals(segment);
}

/**
 * The canary's base64 text when it starts `shift` bytes into a longer encoded value: only the
 * characters made of canary bits alone (20–21 of them, ≥ 120 random bits) are kept.
 */
function base64Core(canary: Uint8Array, shift: number): string {
  const text = Buffer.concat([Buffer.alloc(shift), canary]).toString('base64');
  const first = Math.ceil((8 * shift) / 6);
  const end = Math.floor((8 * (shift + canary.length)) / 6);
  return text.slice(first, end);
}

/** Every text form of the canary, named. */
export function canaryTextForms(canary: Uint8Array): { form: string; text: string }[] {
  const hex = Buffer.from(canary).toString('hex');
  const forms = [
    { form: 'hex', text: hex },
    { form: 'HEX', text: hex.toUpperCase() },
  ];
  for (const shift of [0, 1, 2]) {
    const core = base64Core(canary, shift);
    forms.push({ form: `base64@${shift}`, text: core });
    forms.push({ form: `base64url@${shift}`, text: core.replace(/\+/g, '-').replace(/\//g, '_') });
  }
  return forms;
}

/** Every place in `haystacks` that holds the canary, in any of its forms. */
export function findCanary(canary: Uint8Array, haystacks: Iterable<Haystack>): Finding[] {
  const forms = canaryTextForms(canary);
  const raw = Buffer.from(canary);
  const findings: Finding[] = [];
  for (const { where, text, bytes } of haystacks) {
    if (bytes && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(raw)) findings.push({ where, form: 'raw' });
    if (text === undefined) continue;
    if (Buffer.from(text, 'latin1').includes(raw) || Buffer.from(text, 'utf8').includes(raw)) findings.push({ where, form: 'raw' });
    for (const { form, text: needle } of forms) if (text.includes(needle)) findings.push({ where, form });
  }
  return findings;
}
