/**
 * The pino logger factory. Secret-ish fields are censored at any depth of a log object, so a
 * careless `log.info({ body })` cannot leak a PIN, a code, a cookie or biometric data.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.ts';

/** Field names (case-insensitive) whose values never reach a log line. */
export const REDACTED_KEYS: ReadonlySet<string> = new Set([
  'pin', 'code', 'otp', 'totp', 'password', 'secret', 'client_secret', 'token', 'access_token',
  'refresh_token', 'id_token', 'cookie', 'authorization', 'set-cookie', 'embedding', 'template',
  'frames', 'frame', 'image', 'images', 'assertion', 'kek',
]);
export const CENSOR = '[redacted]';
const MAX_DEPTH = 8;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Returns `value` with every redacted key censored; untouched branches are shared, not copied.
 * A walker rather than pino's path-based `redact`: wildcard paths only reach a fixed depth and
 * cost ~10× more per line at the depths we need.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const r = redact(value[i], depth + 1);
      if (r !== value[i]) (copy ??= value.slice())[i] = r;
    }
    return copy ?? value;
  }
  if (!isPlainObject(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const v = value[key];
    const r = REDACTED_KEYS.has(key.toLowerCase()) ? CENSOR : redact(v, depth + 1);
    if (r !== v) (copy ??= { ...value })[key] = r;
  }
  return copy ?? value;
}

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  const options = {
    level: config.logLevel,
    formatters: { log: (object: Record<string, unknown>) => redact(object) as Record<string, unknown> },
    // pino bypasses the log formatter for `child({...})` bindings; its path redaction covers
    // their top-level keys (plain paths cost next to nothing, unlike wildcards).
    redact: { paths: [...REDACTED_KEYS].map((k) => (/^[a-z_]+$/.test(k) ? k : `["${k}"]`)), censor: CENSOR },
  };
  return destination ? pino(options, destination) : pino(options);
}
