/**
 * Strict shapes of the WebAuthn JSON a browser sends (PublicKeyCredential.toJSON()): untrusted
 * input is checked field by field, with size limits, and copied into a fresh object of known
 * fields before the verifier sees it, so nothing unexpected reaches it.
 */
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { faceLoginError } from '../errors.ts';

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);
// Credential ids are at most 1023 bytes (WebAuthn §5.8.3); the rest are generous bounds for
// real authenticators (attestation certificate chains, post-quantum signatures).
const MAX_CHARS = { id: 1366, clientDataJSON: 4096, authenticatorData: 4096, signature: 8192, userHandle: 86, attestationObject: 65536 };

type Obj = Record<string, unknown>;

function malformed(what: string): never {
  throw faceLoginError('webauthn.malformed', `WebAuthn response: ${what}`);
}

function object(value: unknown, what: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) malformed(`${what} must be an object`);
  return value as Obj;
}

function base64url(value: unknown, what: keyof typeof MAX_CHARS, required = true): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_CHARS[what] || !BASE64URL.test(value)) {
    malformed(`${what} must be a base64url string of at most ${MAX_CHARS[what]} characters`);
  }
  return value;
}

function credentialHeader(value: unknown): { id: string; authenticatorAttachment?: 'platform' | 'cross-platform'; response: Obj } {
  const o = object(value, 'the credential');
  const id = base64url(o.id, 'id')!;
  if (o.rawId !== id) malformed('rawId must equal id');
  if (o.type !== 'public-key') malformed('type must be "public-key"');
  if (o.clientExtensionResults !== undefined) object(o.clientExtensionResults, 'clientExtensionResults');
  const attachment = o.authenticatorAttachment;
  if (attachment !== undefined && attachment !== null && attachment !== 'platform' && attachment !== 'cross-platform') {
    malformed('authenticatorAttachment must be "platform" or "cross-platform"');
  }
  return { id, ...(typeof attachment === 'string' ? { authenticatorAttachment: attachment } : {}), response: object(o.response, 'response') };
}

/** The assertion of navigator.credentials.get(), or InputError `webauthn.malformed`. */
export function parseAssertionJson(value: unknown): AuthenticationResponseJSON {
  const { id, authenticatorAttachment, response: r } = credentialHeader(value);
  const userHandle = r.userHandle === null ? undefined : base64url(r.userHandle, 'userHandle', false);
  return {
    id,
    rawId: id,
    type: 'public-key',
    ...(authenticatorAttachment ? { authenticatorAttachment } : {}),
    // Extension outputs are not used: the verifier gets none to interpret.
    clientExtensionResults: {},
    response: {
      clientDataJSON: base64url(r.clientDataJSON, 'clientDataJSON')!,
      authenticatorData: base64url(r.authenticatorData, 'authenticatorData')!,
      signature: base64url(r.signature, 'signature')!,
      ...(userHandle ? { userHandle } : {}),
    },
  };
}

/** The attestation of navigator.credentials.create(), or InputError `webauthn.malformed`. */
export function parseRegistrationJson(value: unknown): RegistrationResponseJSON {
  const { id, authenticatorAttachment, response: r } = credentialHeader(value);
  const transports = r.transports ?? [];
  if (!Array.isArray(transports) || transports.length > TRANSPORTS.size || !transports.every((t) => typeof t === 'string' && TRANSPORTS.has(t))) {
    malformed(`transports must be a list of ${[...TRANSPORTS].join(', ')}`);
  }
  return {
    id,
    rawId: id,
    type: 'public-key',
    ...(authenticatorAttachment ? { authenticatorAttachment } : {}),
    clientExtensionResults: {},
    response: {
      clientDataJSON: base64url(r.clientDataJSON, 'clientDataJSON')!,
      attestationObject: base64url(r.attestationObject, 'attestationObject')!,
      transports: [...new Set(transports as string[])],
    },
  };
}
