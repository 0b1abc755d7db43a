/**
 * How the provider and a separate custodian reach each other. Between hosts: mutual TLS, each
 * side holding a certificate from one private CA — a caller without the provider's certificate is
 * refused at the handshake, and the provider talks to nothing but a certificate for the
 * custodian's name from that CA. On one host: a Unix socket, whose file mode is the access
 * control. The scoped bearer tokens (httpServer.ts) ride on top of either. Production refuses
 * plain HTTP off loopback, where anyone on the path could read the tokens or answer in the
 * custodian's place.
 */
import { isIPv4 } from 'node:net';
import { ConfigError } from '../errors.ts';

/** PEM contents: this side's certificate and key, and the CA both sides' certificates come from. */
export type CustodianTls = { cert: Buffer; key: Buffer; ca: Buffer };

/** Where the provider finds the custodian: a URL (https:// with this client's certificate) or a Unix socket. */
export type CustodianEndpoint = { url: string; tls?: CustodianTls } | { socket: string };

/**
 * TLS 1.3 only: both ends are facegate, so there is no older peer to accept (and 1.3 encrypts the
 * client's certificate).
 */
export const CUSTODIAN_TLS_VERSION = 'TLSv1.3';

/** localhost, 127.0.0.0/8 or ::1 (a URL's bracketed form too): traffic that never leaves the host. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || (isIPv4(h) && h.startsWith('127.'));
}

/** Production: a plain http:// custodian URL must stay on the host. */
export function refusePlainUrl(url: string, production: boolean): void {
  const u = new URL(url);
  if (production && u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
    throw new ConfigError(`CUSTODIAN_URL ${u.origin} is plain HTTP to another host: in production use https:// with CUSTODIAN_CLIENT_CERT, CUSTODIAN_CLIENT_KEY and CUSTODIAN_TLS_CA, or CUSTODIAN_SOCKET on one host`);
  }
}

/** Production: the custodian listens in plain HTTP on loopback only (else TLS or a Unix socket). */
export function refusePlainListen(host: string, production: boolean): void {
  if (production && !isLoopbackHost(host)) {
    throw new ConfigError(`the custodian would listen in plain HTTP on ${host}: in production set CUSTODIAN_TLS_CERT, CUSTODIAN_TLS_KEY and CUSTODIAN_TLS_CA, or CUSTODIAN_SOCKET on one host`);
  }
}
