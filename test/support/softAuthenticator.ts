/**
 * A software WebAuthn platform authenticator for tests: a P-256 key pair, authenticator data
 * built byte by byte (rpIdHash, flags, counter, attested credential data with a COSE key),
 * `none` attestation in CBOR, and ES256 (DER) signatures over authData ‖ SHA-256(clientDataJSON).
 * Its output goes through the real @simplewebauthn/server verifier. Each knob lets a test forge
 * one thing: another origin or RP ID, no user verification, a chosen counter.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const FLAG = { up: 0x01, uv: 0x04, be: 0x08, bs: 0x10, at: 0x40 } as const;

export type SoftAuthenticatorOptions = {
  /** The site the authenticator's browser is on. */
  origin: string;
  rpID: string;
  aaguid?: Uint8Array;
  /** Backup eligible/backed up, like a synced passkey. */
  synced?: boolean;
};

/** What to change in one ceremony: each defaults to an honest authenticator. */
export type Forgery = { origin?: string; rpID?: string; userVerified?: boolean; signCount?: number; type?: string; userHandle?: string };

const b64u = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  /** Counter of the next assertion; registration reports 0. Tests may set it. */
  signCount = 1;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #options: SoftAuthenticatorOptions;
  #userHandle: string | undefined;

  constructor(options: SoftAuthenticatorOptions) {
    this.#options = options;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
  }

  get id(): string {
    return b64u(this.credentialId);
  }

  /** The COSE public key, as registration reports it. */
  get publicKey(): Uint8Array {
    return this.#coseKey();
  }

  #coseKey(): Uint8Array {
    const jwk = this.#publicKey.export({ format: 'jwk' });
    // kty EC2, alg ES256, crv P-256, x, y
    return isoCBOR.encode(new Map<number, number | Uint8Array>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]));
  }

  #authData(rpID: string, userVerified: boolean, signCount: number, attested: boolean): Buffer {
    let flags = FLAG.up | (userVerified ? FLAG.uv : 0) | (this.#options.synced ? FLAG.be | FLAG.bs : 0);
    const parts: Uint8Array[] = [sha256(rpID), Buffer.of(0), uint32(signCount)];
    if (attested) {
      flags |= FLAG.at;
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(this.credentialId.length);
      parts.push(this.#options.aaguid ?? Buffer.alloc(16), idLength, this.credentialId, this.#coseKey());
    }
    parts[1] = Buffer.of(flags);
    return Buffer.concat(parts);
  }

  #clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** navigator.credentials.create() with `options`, `none` attestation. */
  register(options: PublicKeyCredentialCreationOptionsJSON, forge: Forgery = {}): RegistrationResponseJSON {
    this.#userHandle = options.user.id;
    const clientDataJSON = this.#clientData(forge.type ?? 'webauthn.create', options.challenge, forge.origin ?? this.#options.origin);
    const authData = this.#authData(forge.rpID ?? options.rp.id ?? this.#options.rpID, forge.userVerified ?? true, 0, true);
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]) as never);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: { clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject), transports: ['internal', 'hybrid'] },
    };
  }

  /** navigator.credentials.get() over `challenge` (base64url); the counter advances. */
  assert(challenge: string, forge: Forgery = {}): AuthenticationResponseJSON {
    const signCount = forge.signCount ?? this.signCount++;
    const clientDataJSON = this.#clientData(forge.type ?? 'webauthn.get', challenge, forge.origin ?? this.#options.origin);
    const authData = this.#authData(forge.rpID ?? this.#options.rpID, forge.userVerified ?? true, signCount, false);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), this.#privateKey);
    const userHandle = forge.userHandle ?? this.#userHandle;
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: { clientDataJSON: b64u(clientDataJSON), authenticatorData: b64u(authData), signature: b64u(signature), ...(userHandle ? { userHandle } : {}) },
    };
  }
}
