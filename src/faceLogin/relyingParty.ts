/**
 * Who the passkeys belong to: the WebAuthn RP ID and origin, both derived from PUBLIC_URL so
 * that a credential registered on the public site only ever signs for that site. Behind a
 * TLS-terminating proxy this is still the public URL, never the internal one.
 */
import { ConfigError } from '../errors.ts';

export type RelyingParty = {
  /** Registrable domain the credentials are scoped to (the public URL's hostname). */
  rpID: string;
  /** Exact origin the browser reports in clientDataJSON (scheme://host[:port]). */
  origin: string;
  /** Name the authenticator shows when creating a passkey. */
  name: string;
};

export function relyingPartyFrom(publicUrl: string, name = 'facegate'): RelyingParty {
  const url = new URL(publicUrl);
  // WebAuthn runs only in secure contexts: https, or http on localhost for development.
  if (url.protocol !== 'https:' && url.hostname !== 'localhost') {
    throw new ConfigError(`PUBLIC_URL must be https (or http://localhost) for passkeys, got ${url.origin}`);
  }
  return { rpID: url.hostname, origin: url.origin, name };
}
