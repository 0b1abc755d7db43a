/**
 * Typed errors with stable codes. Every layer throws these; the HTTP boundary maps them to a
 * status once (see `httpStatusOf`). Messages never carry secrets or biometric data.
 */
export class FacegateError extends Error {
  /** Stable, machine-readable code, e.g. `image.too_large`. */
  readonly code: string;
  /** HTTP status the boundary answers with. */
  readonly status: number;

  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = 'FacegateError';
    this.code = code;
    this.status = status;
  }
}

/** Input the caller can fix (400/413/415/422). */
export class InputError extends FacegateError {
  constructor(code: string, message: string, status = 400) {
    super(code, message, status);
    this.name = 'InputError';
  }
}

/** The caller is not allowed, or the credential is wrong (401/403). */
export class AuthError extends FacegateError {
  constructor(code: string, message: string, status = 401) {
    super(code, message, status);
    this.name = 'AuthError';
  }
}

/** Too many attempts (429), with the seconds to wait. */
export class RateLimitError extends FacegateError {
  readonly retryAfterSeconds: number;
  constructor(code: string, message: string, retryAfterSeconds: number) {
    super(code, message, 429);
    this.name = 'RateLimitError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A thing that does not exist (or is not visible to this tenant). */
export class NotFoundError extends FacegateError {
  constructor(code: string, message: string) {
    super(code, message, 404);
    this.name = 'NotFoundError';
  }
}

/** A conflicting write, e.g. a duplicate name (409). */
export class ConflictError extends FacegateError {
  constructor(code: string, message: string) {
    super(code, message, 409);
    this.name = 'ConflictError';
  }
}

/** Startup misconfiguration: missing/invalid config, missing or altered model file. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function isFacegateError(e: unknown): e is FacegateError {
  return e instanceof FacegateError;
}
