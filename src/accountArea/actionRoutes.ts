/**
 * The account area's actions, each a CSRF-checked form POST that is audited and ends on the
 * overview: revoke a grant, rename or remove a device, change the PIN, set up again or remove
 * the authenticator app, delete the face data, withdraw the biometric consent, delete the
 * account (the deletions are account/deletion.ts's). Sensitive ones (CONFIRMABLE) first require
 * a sign-in at most 5 minutes old; without one they go through signing in again to their
 * confirmation page.
 */
import type Router from '@koa/router';
import { deleteAccount, deleteFaceData, revokeBiometricConsent } from '../account/deletion.ts';
import { setPin } from '../account/pin.ts';
import { beginTotpEnrollment, confirmTotpEnrollment, removeTotp } from '../account/totp.ts';
import { InputError, NotFoundError } from '../errors.ts';
import { field } from '../interaction/body.ts';
import { removeDevice, renameDevice } from './devices.ts';
import { revokeGrant } from './grants.ts';
import type { AccountKit } from './kit.ts';

export type Confirmable = { path: string; title: string; text: string; button: string; fields: { name: string; label: string; type: string; autocomplete?: string }[]; danger: boolean };

/** The sensitive actions, with what their confirmation page (after signing in again) shows. */
export const CONFIRMABLE: Record<string, Confirmable> = {
  'device-remove': { path: '/devices/remove', title: 'Remove this device?', text: 'Its passkey will no longer sign you in. Without a passkey, face sign-in is not offered until you register one again.', button: 'Remove device', fields: [], danger: true },
  pin: {
    path: '/pin',
    title: 'Change your PIN',
    text: '6 to 12 digits; not one repeated digit or a straight run like 123456.',
    button: 'Change PIN',
    fields: [
      { name: 'pin', label: 'New PIN', type: 'password', autocomplete: 'new-password' },
      { name: 'pin2', label: 'New PIN again', type: 'password', autocomplete: 'new-password' },
    ],
    danger: false,
  },
  'totp-start': { path: '/totp/start', title: 'Set up an authenticator app', text: 'A new secret replaces the current one: the old app stops working once you confirm the new one.', button: 'Continue', fields: [], danger: false },
  'face-delete': {
    path: '/face/delete',
    title: 'Delete your face data?',
    text: 'Your face template is deleted for good and its key destroyed, so no copy of it can be used. Face sign-in stops; your PIN and authenticator app still work, and you can set face sign-in up again later.',
    button: 'Delete face data',
    fields: [],
    danger: true,
  },
  'consent-revoke': {
    path: '/consent/revoke',
    title: 'Withdraw your biometric consent?',
    text: 'Your face data is deleted with it, for good. Face sign-in needs your consent again before it can be set up.',
    button: 'Withdraw consent',
    fields: [],
    danger: true,
  },
  'delete-account': {
    path: '/delete',
    title: 'Delete your account?',
    text: 'Everything about you is deleted for good: profile, devices, PIN, authenticator app, face data, consents, every application\'s access. Applications you signed in to lose access at once. Only a record that an account was deleted remains, without your name.',
    button: 'Delete my account',
    fields: [{ name: 'confirm', label: 'Type your username to confirm', type: 'text', autocomplete: 'off' }],
    danger: true,
  },
  'totp-remove': { path: '/totp/remove', title: 'Remove the authenticator app?', text: 'Its codes will no longer sign you in.', button: 'Remove authenticator app', fields: [], danger: true },
};

export function actionRoutes(router: Router, kit: AccountKit): void {
  const { deps, tenantId } = kit;

  router.post('/grants/revoke', async (ctx) => {
    const { user, form } = await kit.posted(ctx);
    await revokeGrant(deps.db, tenantId, user.id, field(form, 'client_id', 128));
    return kit.done(ctx, 'grant-revoked', 'consents');
  });

  router.post('/devices/rename', async (ctx) => {
    const { user, form } = await kit.posted(ctx);
    await renameDevice(deps.db, tenantId, user.id, field(form, 'id', 1366), field(form, 'name', 100));
    return kit.done(ctx, 'device-renamed', 'devices');
  });

  router.post('/devices/remove', async (ctx) => {
    const who = await kit.posted(ctx);
    const id = field(who.form, 'id', 1366);
    kit.requireRecent(who, 'device-remove', id);
    await removeDevice(deps.db, tenantId, who.user.id, id);
    return kit.done(ctx, 'device-removed', 'devices');
  });

  router.post('/pin', async (ctx) => {
    const who = await kit.posted(ctx);
    kit.requireRecent(who, 'pin');
    const pin = field(who.form, 'pin', 64);
    if (pin !== who.form.pin2) throw new InputError('pin.mismatch', 'the two PINs differ');
    await setPin(deps.db, tenantId, who.user.id, pin, who.user.id);
    return kit.done(ctx, 'pin-changed', 'factors');
  });

  router.post('/face/delete', async (ctx) => {
    const who = await kit.posted(ctx);
    kit.requireRecent(who, 'face-delete');
    await deleteFaceData(deps, tenantId, who.user.id, who.user.id);
    return kit.done(ctx, 'face-deleted', 'face');
  });

  router.post('/consent/revoke', async (ctx) => {
    const who = await kit.posted(ctx);
    kit.requireRecent(who, 'consent-revoke');
    const { revoked } = await revokeBiometricConsent(deps, tenantId, who.user.id, who.user.id);
    if (!revoked) throw new NotFoundError('consent.not_given', 'no biometric consent is in force');
    return kit.done(ctx, 'consent-revoked', 'consents');
  });

  router.post('/delete', async (ctx) => {
    const who = await kit.posted(ctx);
    kit.requireRecent(who, 'delete-account');
    if (who.form.confirm?.trim().toLowerCase() !== who.user.username) throw new InputError('account.confirmation_mismatch', 'type your username exactly to delete your account');
    await deleteAccount(deps, tenantId, who.user.id, who.user.id);
    kit.cookies.end(ctx);
    return kit.render(ctx, 'deleted', undefined, {});
  });

  router.post('/totp/remove', async (ctx) => {
    const who = await kit.posted(ctx);
    kit.requireRecent(who, 'totp-remove');
    if (!(await removeTotp(deps.db, tenantId, who.user.id, who.user.id))) throw new NotFoundError('totp.not_enrolled', 'no authenticator app is set up');
    return kit.done(ctx, 'totp-removed', 'factors');
  });

  router.post('/totp/start', async (ctx) => {
    const who = await kit.posted(ctx);
    kit.requireRecent(who, 'totp-start');
    const enrollment = await beginTotpEnrollment(deps, tenantId, who.user.id, { replace: true, actor: who.user.id });
    return kit.render(ctx, 'totp', who, { qrSvg: enrollment.qrSvg, secret: enrollment.secret, error: '' });
  });

  router.post('/totp/confirm', async (ctx) => {
    const who = await kit.posted(ctx);
    try {
      await confirmTotpEnrollment(deps, tenantId, who.user.id, field(who.form, 'code', 16));
    } catch (e) {
      if (!(e instanceof InputError) || e.code !== 'totp.invalid_code') throw e;
      // The secret is not shown again: a wrong code means starting over with a new one.
      return kit.render(ctx, 'totp', who, { qrSvg: '', secret: '', error: 'That code did not match. Start again to get a new QR code.' }, 400);
    }
    return kit.done(ctx, 'totp-enrolled', 'factors');
  });
}
