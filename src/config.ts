/**
 * The one place that reads `process.env`. Everything else receives a `Config`.
 * Missing or invalid values fail at startup with a message naming the variable.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.ts';
import { isTenantId, TENANT_ID_PATTERN } from './ids.ts';
import type { CustodianTokens } from './custodian/httpServer.ts';
import { refusePlainUrl, type CustodianEndpoint, type CustodianTls } from './custodian/channel.ts';
import { parseRootKeys, type RootKey } from './store/dataKey.ts';

export type Config = {
  /** HTTP port the provider listens on. */
  port: number;
  /** Public base URL; tenant issuers are `${publicUrl}/t/<tenant>`. */
  publicUrl: string;
  /** Postgres connection string; absent → embedded PGlite in `dataDir`. Production: a login role in facegate_app, not the owner. */
  databaseUrl: string | undefined;
  /** The schema owner's connection string, used only by `facegate migrate`; absent → databaseUrl. */
  databaseOwnerUrl: string | undefined;
  /** Directory where each tenant's newest audit head is anchored (audit/anchor.ts); embedded default `<dataDir>/audit-head`. */
  auditAnchorDir: string | undefined;
  /** Redis connection string; absent → in-process store. */
  redisUrl: string | undefined;
  /** Where embedded data (PGlite, generated secrets) lives. */
  dataDir: string;
  /** Keys for signed cookies (first signs, all verify); empty → generated and kept in dataDir. */
  cookieKeys: string[];
  /** Tenant created for the quick start. */
  defaultTenant: string;
  /** Directory searched first for model files. */
  faceModelsDir: string | undefined;
  /** Key-encryption keys for custodian secret keys: id → 32-byte key; first is current. */
  kek: { id: string; key: Buffer }[];
  /**
   * The custodian's private key store (custodian/kekStore.ts): a directory only the custodian's OS
   * user can read, never backed up; absent → `<dataDir>/custodian-keys` (embedded; the separate
   * custodian requires it in production).
   */
  custodianKeyDir: string | undefined;
  /** Days between KEK rotations (custodian/kekRotation.ts). */
  kekEpochDays: number;
  /** Root keys for the provider's own secrets at rest and keyed hashes (store/dataKey.ts); empty → embedded key in dataDir. */
  dataKeys: RootKey[];
  /**
   * 'inprocess', or where a separate custodian service is (custodian/channel.ts): CUSTODIAN_URL
   * (https:// with CUSTODIAN_CLIENT_CERT, CUSTODIAN_CLIENT_KEY, CUSTODIAN_TLS_CA) or CUSTODIAN_SOCKET.
   */
  custodian: { mode: 'inprocess' } | { mode: 'remote'; endpoint: CustodianEndpoint; token: CustodianTokens };
  /**
   * The separate custodian's own connection (only read by the custodian service): a login role in
   * facegate_custodian, which reads keys but no template. Required there in production.
   */
  custodianDatabaseUrl: string | undefined;
  /**
   * Bearer tokens of a separate custodian, one per scope: CUSTODIAN_TOKEN (attempts: nonces and
   * decryptions), CUSTODIAN_ENROLL_TOKEN (keys, passkeys) and CUSTODIAN_SHRED_TOKEN; the last two
   * default to CUSTODIAN_TOKEN. Undefined without CUSTODIAN_TOKEN.
   */
  custodianToken: CustodianTokens | undefined;
  /** Port of the separate custodian service. */
  custodianPort: number;
  /** Address it listens on: loopback unless it runs in its own container or host. */
  custodianHost: string;
  /**
   * The custodian service's own certificate, key and the CA its clients' certificates must come
   * from (CUSTODIAN_TLS_CERT, CUSTODIAN_TLS_KEY, CUSTODIAN_TLS_CA): with them it serves HTTPS and
   * requires a client certificate.
   */
  custodianTls: CustodianTls | undefined;
  /**
   * CUSTODIAN_SOCKET: the Unix socket the custodian listens on instead of host and port, and the
   * provider connects to, when both run on one host; its mode is CUSTODIAN_SOCKET_MODE (0600, or
   * 0660 when the provider runs as another user of the socket's group).
   */
  custodianSocket: { path: string; mode: 0o600 | 0o660 } | undefined;
  /** Provider processes sharing the port (node:cluster); > 1 needs Postgres and Redis. */
  workers: number;
  /** Trust X-Forwarded-* (behind a TLS-terminating load balancer). */
  trustProxy: boolean;
  /** Log level for pino. */
  logLevel: string;
  /** true when NODE_ENV=production: secrets must be given explicitly. */
  production: boolean;
};

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function url(env: Env, name: string, fallback?: string): string | undefined {
  const raw = env[name] || fallback;
  if (raw === undefined) return undefined;
  try {
    new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}

/** `FACEGATE_KEK` = `id1:base64key,id2:base64key` (first is current). */
function parseKek(raw: string | undefined, production: boolean): Config['kek'] {
  if (!raw) {
    if (production) throw new ConfigError('FACEGATE_KEK is required in production (id:base64-32-bytes[,…])');
    // Embedded quick start: a process-local KEK is useless across restarts, so the dev default
    // is derived and stored by the custodian store on first start (see custodian/kek.ts).
    return [];
  }
  return raw.split(',').map((part) => {
    const [id, b64] = part.split(':');
    if (!id || !b64 || !/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new ConfigError('FACEGATE_KEK entries must be id:base64key');
    const key = Buffer.from(b64, 'base64');
    if (key.length !== 32) throw new ConfigError(`FACEGATE_KEK key "${id}" must decode to 32 bytes`);
    return { id, key };
  });
}

type TlsNames = Record<keyof CustodianTls, string>;

/** The PEM files the variables in `names` point to (read now, so a bad path fails at startup), or undefined when `names.cert` and `names.key` are unset. */
function tlsFiles(env: Env, names: TlsNames): CustodianTls | undefined {
  if (!env[names.cert] && !env[names.key]) return undefined;
  const missing = Object.values(names).filter((name) => !env[name]);
  if (missing.length) throw new ConfigError(`${Object.values(names).join(', ')} go together: ${missing.join(' and ')} missing`);
  const read = (name: string) => {
    const file = path.resolve(env[name]!);
    try {
      return readFileSync(file);
    } catch (e) {
      throw new ConfigError(`${name}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
  };
  return { cert: read(names.cert), key: read(names.key), ca: read(names.ca) };
}

const custodianServerTls = (env: Env) => tlsFiles(env, { cert: 'CUSTODIAN_TLS_CERT', key: 'CUSTODIAN_TLS_KEY', ca: 'CUSTODIAN_TLS_CA' });

function custodianSocketOf(env: Env): Config['custodianSocket'] {
  const socket = env.CUSTODIAN_SOCKET;
  if (!socket) return undefined;
  const mode = env.CUSTODIAN_SOCKET_MODE || '0600';
  if (mode !== '0600' && mode !== '0660') throw new ConfigError(`CUSTODIAN_SOCKET_MODE must be 0600 or 0660, got "${mode}"`);
  return { path: path.resolve(socket), mode: mode === '0600' ? 0o600 : 0o660 };
}

/** The provider's way to a separate custodian, if any: the URL (with its client certificate) or the socket. */
function custodianEndpointOf(env: Env, custodianUrl: string | undefined, socket: string | undefined, production: boolean): CustodianEndpoint | undefined {
  const clientTls = tlsFiles(env, { cert: 'CUSTODIAN_CLIENT_CERT', key: 'CUSTODIAN_CLIENT_KEY', ca: 'CUSTODIAN_TLS_CA' });
  if (custodianUrl && socket) throw new ConfigError('set CUSTODIAN_URL or CUSTODIAN_SOCKET, not both');
  if (!custodianUrl) return socket ? { socket } : undefined;
  const protocol = new URL(custodianUrl).protocol;
  if (protocol !== 'http:' && protocol !== 'https:') throw new ConfigError(`CUSTODIAN_URL must be http:// or https://, got "${protocol}"`);
  // The custodian requires a client certificate over TLS; a certificate next to http:// would go unused.
  if (protocol === 'https:' && !clientTls) throw new ConfigError('an https:// CUSTODIAN_URL needs CUSTODIAN_CLIENT_CERT, CUSTODIAN_CLIENT_KEY and CUSTODIAN_TLS_CA');
  if (protocol === 'http:' && clientTls) throw new ConfigError('CUSTODIAN_CLIENT_CERT is set but CUSTODIAN_URL is http://: use https://');
  refusePlainUrl(custodianUrl, production);
  return { url: custodianUrl, tls: clientTls };
}

/**
 * `service`: which process reads it. The custodian service (custodian/server.ts) needs no cookie
 * keys — and should not hold the provider's — but always its KEK in production, even when it
 * shares CUSTODIAN_SOCKET with the provider.
 */
export function loadConfig(env: Env = process.env, service: 'provider' | 'custodian' = 'provider'): Config {
  const production = env.NODE_ENV === 'production';
  const port = int(env, 'PORT', 3000, 0, 65535);
  const publicUrl = url(env, 'PUBLIC_URL', `http://localhost:${port}`)!;
  const cookieKeysRaw = env.COOKIE_KEYS;
  if (production && !cookieKeysRaw && service === 'provider') throw new ConfigError('COOKIE_KEYS is required in production (comma-separated, ≥ 32 chars each)');
  // Empty means "embedded": the server generates keys once and keeps them in DATA_DIR.
  const cookieKeys = cookieKeysRaw ? cookieKeysRaw.split(',') : [];
  if (cookieKeys.some((k) => k.length < 32)) throw new ConfigError('each COOKIE_KEYS entry must be at least 32 characters');
  const defaultTenant = env.DEFAULT_TENANT || 'default';
  if (!isTenantId(defaultTenant)) throw new ConfigError(`DEFAULT_TENANT must match ${TENANT_ID_PATTERN}`);
  if (production && !env.FACEGATE_DATA_KEY) throw new ConfigError('FACEGATE_DATA_KEY is required in production (id:base64-32-bytes[,…])');
  const dataKeys = env.FACEGATE_DATA_KEY ? parseRootKeys(env.FACEGATE_DATA_KEY) : [];
  const custodianUrl = url(env, 'CUSTODIAN_URL');
  const custodianSocket = custodianSocketOf(env);
  const custodianEndpoint = custodianEndpointOf(env, custodianUrl, custodianSocket?.path, production);
  const attemptToken = env.CUSTODIAN_TOKEN || undefined;
  if (custodianEndpoint && !attemptToken) throw new ConfigError(`${custodianUrl ? 'CUSTODIAN_URL' : 'CUSTODIAN_SOCKET'} needs CUSTODIAN_TOKEN`);
  for (const name of ['CUSTODIAN_TOKEN', 'CUSTODIAN_ENROLL_TOKEN', 'CUSTODIAN_SHRED_TOKEN']) {
    const value = env[name];
    if (value && value.length < 32) throw new ConfigError(`${name} must be at least 32 characters`);
  }
  if (!attemptToken && (env.CUSTODIAN_ENROLL_TOKEN || env.CUSTODIAN_SHRED_TOKEN)) throw new ConfigError('CUSTODIAN_ENROLL_TOKEN and CUSTODIAN_SHRED_TOKEN need CUSTODIAN_TOKEN');
  const custodianToken: CustodianTokens | undefined = attemptToken
    ? { attempt: attemptToken, enroll: env.CUSTODIAN_ENROLL_TOKEN || attemptToken, shred: env.CUSTODIAN_SHRED_TOKEN || attemptToken }
    : undefined;
  const workers = int(env, 'WORKERS', 1, 1, 64);
  if (workers > 1 && (!env.DATABASE_URL || !env.REDIS_URL)) {
    throw new ConfigError('WORKERS > 1 needs DATABASE_URL and REDIS_URL: processes share no memory');
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new ConfigError(`LOG_LEVEL invalid: ${logLevel}`);
  const databaseUrl = url(env, 'DATABASE_URL');
  const dataDir = path.resolve(env.DATA_DIR || 'data');
  return {
    port,
    publicUrl,
    databaseUrl,
    databaseOwnerUrl: url(env, 'DATABASE_OWNER_URL'),
    auditAnchorDir: env.AUDIT_ANCHOR_DIR ? path.resolve(env.AUDIT_ANCHOR_DIR) : databaseUrl ? undefined : path.join(dataDir, 'audit-head'),
    redisUrl: url(env, 'REDIS_URL'),
    dataDir,
    cookieKeys,
    defaultTenant,
    faceModelsDir: env.FACE_MODELS_DIR || undefined,
    // The provider needs no KEK when a separate custodian holds the secret keys.
    kek: parseKek(env.FACEGATE_KEK, production && (service === 'custodian' || !custodianEndpoint)),
    custodianKeyDir: env.CUSTODIAN_KEY_DIR ? path.resolve(env.CUSTODIAN_KEY_DIR) : undefined,
    // 30 days: a deleted user's sealed key in a backup becomes unopenable at the next rotation,
    // so within a month — GDPR Art. 12(3)'s time to act on an erasure request. Shorter epochs
    // shrink that window but make more restores lose face enrollments (a restore from before the
    // last rotation loses them); one rotation rewraps every key (~11 ms CPU each, measured).
    kekEpochDays: int(env, 'KEK_EPOCH_DAYS', 30, 1, 365),
    dataKeys,
    custodian: custodianEndpoint ? { mode: 'remote', endpoint: custodianEndpoint, token: custodianToken! } : { mode: 'inprocess' },
    custodianDatabaseUrl: url(env, 'CUSTODIAN_DATABASE_URL'),
    custodianToken,
    custodianPort: int(env, 'CUSTODIAN_PORT', 3100, 0, 65535),
    custodianHost: env.CUSTODIAN_HOST || '127.0.0.1',
    custodianTls: custodianServerTls(env),
    custodianSocket,
    workers,
    trustProxy: env.TRUST_PROXY === 'true',
    logLevel,
    production,
  };
}
