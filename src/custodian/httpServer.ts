/**
 * The custodian as a separate service: JSON over HTTPS with a required client certificate from the
 * configured CA (channel.ts; plain HTTP only on loopback or a Unix socket), each request carrying a
 * bearer token (compared in constant time) for the route's scope — `attempt` (nonces and
 * decryptions), `enroll` (keys and passkeys), `shred` — so a holder of one cannot use the others.
 * It exposes exactly the Custodian calls — no key export, no general decryption — and maps typed
 * errors to statuses.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { FacegateError, InputError, RateLimitError } from '../errors.ts';
import { CUSTODIAN_TLS_VERSION, type CustodianTls } from './channel.ts';
import type { Custodian, DecisionRequest } from './custodian.ts';

// A match result is ~262 KB, ~350 KB in base64.
const MAX_BODY_BYTES = 1 << 20;

const digest = (s: string) => createHash('sha256').update(s).digest();

export type CustodianScope = 'attempt' | 'enroll' | 'shred';
/** One token per scope; one string stands for all three. */
export type CustodianTokens = Record<CustodianScope, string>;

const SCOPES: CustodianScope[] = ['attempt', 'enroll', 'shred'];

/** The scopes the request's bearer token holds (empty: unknown token). */
function scopesOf(req: IncomingMessage, expected: Record<CustodianScope, Buffer>): Set<CustodianScope> {
  const header = req.headers.authorization ?? '';
  const given = digest(header.startsWith('Bearer ') ? header.slice(7) : '');
  // Hashing first gives equal lengths, so the comparison time says nothing about the token;
  // every scope is compared, so neither does which one matched.
  return new Set(SCOPES.filter((s) => timingSafeEqual(given, expected[s])));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new InputError('custodian.body_too_large', 'request body too large', 413);
    chunks.push(chunk as Buffer);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // fall through to the typed error
  }
  throw new InputError('custodian.bad_request', 'body must be a JSON object');
}

function bytesField(body: Record<string, unknown>, name: string): Uint8Array {
  const value = body[name];
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new InputError('custodian.bad_request', `${name} must be base64`);
  return new Uint8Array(Buffer.from(value, 'base64'));
}

function bytesList(body: Record<string, unknown>, name: string): Uint8Array[] {
  const value = body[name];
  if (!Array.isArray(value) || value.length > 64) throw new InputError('custodian.bad_request', `${name} must be a list of base64 strings`);
  return value.map((_, i) => bytesField(value as unknown as Record<string, unknown>, String(i)));
}

/** The attempt as JSON (`{ nonce, frameHashes: base64[], assertion }`); its content is checked by verifyAttempt. */
function attemptField(body: Record<string, unknown>): unknown {
  const a = body.attempt;
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return undefined;
  const attempt = a as Record<string, unknown>;
  return { nonce: attempt.nonce, frameHashes: bytesList(attempt, 'frameHashes'), assertion: attempt.assertion };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

export type CustodianServerOptions = {
  /** Hears errors that are not typed (bugs, database down); it gets no request data. */
  onUnexpected?: (e: unknown) => void;
  /** Serve HTTPS with this certificate, and accept only clients with a certificate from `tls.ca`. */
  tls?: CustodianTls;
};

export function createCustodianHttpServer(custodian: Custodian, tokens: string | CustodianTokens, options: CustodianServerOptions = {}): Server | TlsServer {
  const { onUnexpected = () => {}, tls } = options;
  const all = typeof tokens === 'string' ? { attempt: tokens, enroll: tokens, shred: tokens } : tokens;
  const expected = { attempt: digest(all.attempt), enroll: digest(all.enroll), shred: digest(all.shred) };
  const scopeOf: Record<string, CustodianScope> = { '/v1/keys': 'enroll', '/v1/passkeys': 'enroll', '/v1/nonces': 'attempt', '/v1/decide': 'attempt', '/v1/shred': 'shred' };
  const routes: Record<string, (body: Record<string, unknown>) => Promise<unknown>> = {
    '/v1/keys': async (body) => {
      const publicKey = await custodian.createUserKey(body.tenant as string, body.user as string);
      return { publicKey: Buffer.from(publicKey).toString('base64') };
    },
    '/v1/passkeys': async (body) => {
      await custodian.registerPasskey(body.tenant as string, body.user as string, {
        credentialId: body.credentialId as string,
        publicKey: bytesField(body, 'publicKey'),
        signCount: body.signCount as number,
      });
      return { registered: true };
    },
    '/v1/nonces': async (body) => custodian.issueCaptureNonce(body.tenant as string, body.user as string),
    // The answer is one of two fixed strings: the decision is the whole of what leaves.
    '/v1/decide': async (body) => ({
      decision: await custodian.decideMatch(body.tenant as string, body.user as string, {
        ciphertext: bytesField(body, 'ciphertext'),
        attempt: attemptField(body) as DecisionRequest['attempt'],
      }),
    }),
    '/v1/shred': async (body) => ({ shredded: await custodian.shredUserKey(body.tenant as string, body.user as string) }),
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      // TLS already dropped a client without a certificate from the CA before any request; this
      // only makes sure no configuration path lets one through.
      if (tls && !(req.socket as TLSSocket).authorized) return send(res, 401, { error: 'custodian.unauthorized' });
      const scopes = scopesOf(req, expected);
      if (scopes.size === 0) return send(res, 401, { error: 'custodian.unauthorized' }, { 'www-authenticate': 'Bearer' });
      const route = req.method === 'POST' && Object.hasOwn(routes, req.url ?? '') ? routes[req.url!] : undefined;
      if (!route) return send(res, 404, { error: 'custodian.not_found' });
      if (!scopes.has(scopeOf[req.url!])) return send(res, 403, { error: 'custodian.forbidden', message: `this token may not call ${req.url}` });
      send(res, 200, await route(await readJson(req)));
    } catch (e) {
      if (e instanceof RateLimitError) return send(res, 429, { error: e.code }, { 'retry-after': String(e.retryAfterSeconds) });
      // Messages of typed errors carry no secrets; anything else is reported without detail.
      if (e instanceof FacegateError) return send(res, e.status, { error: e.code, message: e.message });
      onUnexpected(e);
      send(res, 500, { error: 'custodian.internal' });
    }
  };
  if (!tls) return createServer(handle);
  return createTlsServer({ ...tls, requestCert: true, rejectUnauthorized: true, minVersion: CUSTODIAN_TLS_VERSION }, handle);
}
