/**
 * How clients authenticate at the token endpoint: the methods discovery advertises and the CLI
 * can register, and nothing else: client_secret_jwt is not offered (a client able to sign can use
 * private_key_jwt, which keeps no shared secret on our side).
 */
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** Signing algorithms accepted for private_key_jwt assertions (no HMAC: no client_secret_jwt). */
export const CLIENT_ASSERTION_ALGS = ['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'];

export function isClientAuthMethod(value: unknown): value is ClientAuthMethod {
  return typeof value === 'string' && (CLIENT_AUTH_METHODS as readonly string[]).includes(value);
}

/** Methods that authenticate with a shared secret, which is then generated and shown once. */
export function usesClientSecret(method: ClientAuthMethod): boolean {
  return method === 'client_secret_basic' || method === 'client_secret_post';
}
