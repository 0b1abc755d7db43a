/**
 * The provider's requests to a separate custodian over its endpoint (channel.ts): https:// with
 * this side's client certificate, trusting only the configured CA and checking the certificate is
 * for the URL's host name; a Unix socket; or plain http:// (loopback in production). node:https
 * rather than fetch: fetch cannot present a client certificate without undici, which is not a
 * dependency. Any failure to get an answer — refused, timed out, a handshake that fails — is
 * `custodian.unavailable`: there is no fallback to a less protected channel.
 */
import http from 'node:http';
import https from 'node:https';
import { ConfigError, FacegateError } from '../errors.ts';
import { CUSTODIAN_TLS_VERSION, type CustodianEndpoint } from './channel.ts';

export type CustodianReply = { status: number; json: Record<string, unknown>; retryAfter: string | undefined };
export type CustodianPost = (path: string, headers: Record<string, string>, body: string) => Promise<CustodianReply>;

function unavailable(cause: unknown): FacegateError {
  const error = new FacegateError('custodian.unavailable', 'the custodian service is unreachable', 503);
  error.cause = cause;
  return error;
}

export function custodianPost(endpoint: CustodianEndpoint, timeoutMs: number): CustodianPost {
  const target = 'socket' in endpoint ? undefined : new URL(endpoint.url);
  const secure = target?.protocol === 'https:';
  const tls = 'socket' in endpoint ? undefined : endpoint.tls;
  if (secure && !tls) throw new ConfigError('an https:// custodian URL needs a client certificate, its key and the CA');
  // Keep-alive as fetch did: a TLS handshake per decision would cost more than the decision
  // (measured ~5 ms CPU per new connection vs ~0.5 ms for TLS on a reused one). The agent drops an
  // idle connection a second before the server's Keep-Alive timeout hint, so it does not send on
  // one the server is closing.
  // `ca` replaces the system's roots: only the custodian's CA is trusted. The host name check is
  // node's default (checkServerIdentity against the URL's host).
  const agent = secure ? new https.Agent({ keepAlive: true, ...tls, minVersion: CUSTODIAN_TLS_VERSION }) : new http.Agent({ keepAlive: true });
  const base = target ? target.pathname.replace(/\/+$/, '') : '';

  return (path, headers, body) =>
    new Promise((resolve, reject) => {
      const options: http.RequestOptions = {
        agent,
        method: 'POST',
        path: `${base}${path}`,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal: AbortSignal.timeout(timeoutMs),
        ...(target ? { hostname: target.hostname.replace(/^\[|\]$/g, ''), port: target.port || undefined } : { socketPath: (endpoint as { socket: string }).socket }),
      };
      const req = (secure ? https : http).request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (e) => reject(unavailable(e)));
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
            if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
          } catch {
            // a body that is not JSON: the status alone says what happened
          }
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 502, json, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined });
        });
      });
      req.on('error', (e) => reject(unavailable(e)));
      req.end(body);
    });
}
