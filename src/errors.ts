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

/** Over capacity right now (503): the work was refused, not started; retry after the seconds given. */
export class BusyError extends FacegateError {
  readonly retryAfterSeconds: number;
  constructor(code: string, message: string, retryAfterSeconds: number) {
    super(code, message, 503);
    this.name = 'BusyError';
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

/**
 * The face sign-in's codes (src/faceLogin/), each with its status, in one closed list: the
 * boundary renders them and the browser branches on them. 4xx only: each is something the
 * caller sent or a check that refused it.
 */
export const FACE_LOGIN_ERRORS = {
  /** The upload is not frames + nonce + assertion of the expected types. */
  'capture.malformed': 400,
  'capture.no_frames': 400,
  'capture.too_many_frames': 413,
  'capture.too_large': 413,
  /** The capture nonce was already used, has expired, or was never issued. */
  'capture.replayed': 409,
  /** The nonce was issued for another tenant, interaction, user or purpose. */
  'capture.nonce_mismatch': 403,
  /** A WebAuthn response that is not the JSON shape browsers send (wrong types, oversized fields). */
  'webauthn.malformed': 400,
  /** The assertion's challenge is not the one computed from this nonce and these frames. */
  'webauthn.challenge_mismatch': 401,
  /** Not a passkey registered to this user (unknown, or another user's). */
  'webauthn.unknown_credential': 401,
  /** Origin, RP ID, user verification, type or signature refused by the verifier. */
  'webauthn.assertion_invalid': 401,
  /** The signature counter did not increase: a cloned authenticator or a replayed assertion. */
  'webauthn.counter_regressed': 401,
  /** No pending registration for this challenge (used, expired, or for someone else). */
  'webauthn.registration_expired': 400,
  'webauthn.registration_invalid': 400,
  'webauthn.credential_exists': 409,
  'webauthn.invalid_name': 400,
  'consent.required': 403,
  /** The consent form showed a text version that is no longer current. */
  'consent.outdated_text': 409,
  /** Face sign-in is not set up for this account (no passkey, template or consent), or not in this deployment. */
  'face.unavailable': 403,
  /** The passkey was registered after the face enrollment: the custodian answers no attempt it signs (faceLogin/facePasskeys.ts). */
  'face.passkey_not_enrolled': 403,
  /** The verified capture did not match the enrolled face or was not live (which one is said, never a score). */
  'face.rejected': 401,
  /** An enrollment capture whose liveness check did not pass. */
  'face.not_live': 422,
  /** Setting up face sign-in needs a PIN or TOTP sign-in in this interaction within the last 5 minutes. */
  'enroll.signin_required': 403,
  /** The account already has a face template: a PIN sign-in may not replace it. */
  'enroll.already_enrolled': 409,
} as const satisfies Record<string, 400 | 401 | 403 | 409 | 413 | 422>;

export type FaceLoginCode = keyof typeof FACE_LOGIN_ERRORS;

/** A face sign-in error with its listed status: AuthError when a check refused, else InputError. */
export function faceLoginError(code: FaceLoginCode, message: string, cause?: unknown): InputError | AuthError {
  const status = FACE_LOGIN_ERRORS[code];
  const error = status === 401 || status === 403 ? new AuthError(code, message, status) : new InputError(code, message, status);
  if (cause !== undefined) error.cause = cause;
  return error;
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
