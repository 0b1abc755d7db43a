/**
 * A PIN/TOTP sign-in held back while the user sets up face sign-in in the same interaction:
 * kept in the key-value store under the interaction uid for at most 10 minutes, then either
 * finished as the loa 1 login it was (enrollment is not verification) or dropped. Setting up
 * face needs that sign-in to be at most 5 minutes old, so a left-open tab cannot enroll later.
 */
import { faceLoginError } from '../errors.ts';
import type { Acr, Amr } from '../oidc/assurance.ts';
import type { KeyValueStore } from '../store/kv.ts';

export const PENDING_LOGIN_TTL_MS = 10 * 60_000;
/** How recent the sign-in must be for enrollment steps (passkey, consent, capture). */
export const ENROLL_SIGNIN_MAX_AGE_MS = 5 * 60_000;

export type PendingLogin = {
  accountId: string;
  acr: Acr;
  amr: Amr[];
  /** ms since the epoch. */
  signedInAt: number;
};

const keyOf = (tenantId: string, interactionUid: string) => `pending-login:${tenantId}:${interactionUid}`;

export async function holdLogin(kv: KeyValueStore, tenantId: string, interactionUid: string, login: PendingLogin): Promise<void> {
  await kv.set(keyOf(tenantId, interactionUid), JSON.stringify(login), PENDING_LOGIN_TTL_MS);
}

/** The held sign-in of this interaction; `enroll.signin_required` when there is none (or it expired). */
export async function heldLogin(kv: KeyValueStore, tenantId: string, interactionUid: string): Promise<PendingLogin> {
  const raw = await kv.get(keyOf(tenantId, interactionUid));
  if (raw === null) throw faceLoginError('enroll.signin_required', 'sign in with your PIN or authenticator code first');
  return JSON.parse(raw) as PendingLogin;
}

/** The held sign-in, only if it is recent enough to set up face sign-in. */
export async function recentHeldLogin(kv: KeyValueStore, tenantId: string, interactionUid: string, now = Date.now()): Promise<PendingLogin> {
  const login = await heldLogin(kv, tenantId, interactionUid);
  if (now - login.signedInAt > ENROLL_SIGNIN_MAX_AGE_MS) {
    throw faceLoginError('enroll.signin_required', 'your sign-in is more than 5 minutes old; sign in again to set up face sign-in');
  }
  return login;
}

/** Takes the held sign-in to finish the interaction with it (single use). */
export async function releaseLogin(kv: KeyValueStore, tenantId: string, interactionUid: string): Promise<PendingLogin> {
  const raw = await kv.take(keyOf(tenantId, interactionUid));
  if (raw === null) throw faceLoginError('enroll.signin_required', 'sign in with your PIN or authenticator code first');
  return JSON.parse(raw) as PendingLogin;
}
