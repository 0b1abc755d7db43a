/**
 * Assurance levels (DESIGN.md §4) and the rule that decides which level an authorization
 * request needs. Levels are ordered; the provider never states more than was verified.
 */
export const LOA = {
  pinOrOtp: 'urn:facegate:loa:1',
  face: 'urn:facegate:loa:2',
  faceStrict: 'urn:facegate:loa:3',
} as const;

export type Acr = (typeof LOA)[keyof typeof LOA];

export const ACR_VALUES: readonly Acr[] = [LOA.pinOrOtp, LOA.face, LOA.faceStrict];

/** RFC 8176 method references we issue. */
export type Amr = 'pin' | 'otp' | 'face' | 'hwk' | 'user' | 'mfa';

export function isAcr(value: unknown): value is Acr {
  return typeof value === 'string' && (ACR_VALUES as readonly string[]).includes(value);
}

/** Rank of a level; unknown strings rank 0 (below every level we issue). */
export function acrRank(acr: string | undefined): number {
  return acr === undefined ? 0 : ACR_VALUES.indexOf(acr as Acr) + 1;
}

export type AcrRequest = {
  /** `acr_values` request parameter, space-separated, in preference order. */
  acrValues?: string;
  /** `claims.id_token.acr` from the claims parameter. */
  essentialAcr?: { essential?: boolean; value?: string; values?: string[] };
  /** Operator-set floor for the client; the request cannot lower it. */
  clientMinAcr?: string | null;
};

/**
 * The lowest level that satisfies the request, or undefined when nothing is required.
 * Requested values are treated as requirements (not mere preferences): any listed level is
 * acceptable, so the lowest listed one is the floor; the client minimum raises it.
 * Unknown requested values are ignored, as OIDC Core allows; if only unknown values were
 * requested and they are essential, the result is `unmet`.
 */
export function requiredAcr(req: AcrRequest): Acr | undefined | 'unmet' {
  const candidates: string[] = [];
  if (req.acrValues) candidates.push(...req.acrValues.split(' ').filter(Boolean));
  const ess = req.essentialAcr;
  const essentialValues = ess?.essential ? [...(ess.values ?? []), ...(ess.value ? [ess.value] : [])] : [];
  let floor = 0;
  const known = candidates.filter(isAcr);
  if (known.length > 0) floor = Math.min(...known.map(acrRank));
  if (essentialValues.length > 0) {
    const knownEssential = essentialValues.filter(isAcr);
    if (knownEssential.length === 0) return 'unmet';
    floor = Math.max(floor, Math.min(...knownEssential.map(acrRank)));
  }
  if (req.clientMinAcr && isAcr(req.clientMinAcr)) floor = Math.max(floor, acrRank(req.clientMinAcr));
  return floor === 0 ? undefined : ACR_VALUES[floor - 1];
}

/** How long (seconds) a loa 3 sign-in stays loa 3: DESIGN.md §4's "fresh (≤ 5 min)". */
export const STRICT_MAX_AGE_S = 300;

/**
 * The level a session's sign-in still stands for at `nowS` (seconds since the epoch): loa 3
 * older than STRICT_MAX_AGE_S counts as loa 2 — everything else it proved still holds, so a
 * stale loa 3 session meets a loa 2 requirement but a new loa 3 requirement asks for the face
 * again. A missing sign-in time counts as stale. (A request's own `max_age` is oidc-provider's
 * max_age check, which runs too: loa 3 thus behaves as max_age = min(max_age, 300).)
 */
export function sessionAcr(acr: string | undefined, authTimeS: number | undefined, nowS: number): string | undefined {
  if (acr !== LOA.faceStrict) return acr;
  return authTimeS !== undefined && nowS - authTimeS <= STRICT_MAX_AGE_S ? acr : LOA.face;
}

/** Whether an achieved level meets the requirement. */
export function satisfies(achieved: string | undefined, required: Acr | undefined): boolean {
  return required === undefined || acrRank(achieved) >= acrRank(required);
}

/** What a user has in place for face sign-in (read by faceLogin/faceReadiness.ts). */
export type FaceReadiness = {
  /** A passkey that can sign face sign-ins (for an enrolled face: one registered before it). */
  passkey: boolean;
  template: boolean;
  consent: boolean;
  faceDisabled: boolean;
};

/**
 * The highest level this user can prove now: loa 3 with a passkey, an enrolled template, a
 * biometric consent in force and face not disabled — loa 3 needs nothing loa 2 does not, only
 * a stricter capture (head turns, strict threshold); otherwise loa 1 (PIN or TOTP). Without
 * face sign-in in this deployment (`undefined`), loa 1.
 */
export function achievableAcr(face: FaceReadiness | undefined): Acr {
  const ready = face !== undefined && face.passkey && face.template && face.consent && !face.faceDisabled;
  return ready ? LOA.faceStrict : LOA.pinOrOtp;
}
