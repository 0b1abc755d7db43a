/**
 * Setting up face sign-in after a PIN/TOTP sign-in, while that sign-in is held (pendingLogin.ts):
 * the offer ("Set up face sign-in?"), the biometric consent, the passkey registration and the
 * enrollment capture (JSON calls from the capture page), each needing the sign-in to be at most
 * 5 minutes old. Whatever the user chooses, the interaction then finishes with the held loa 1
 * sign-in — enrolling is not verifying — or with `unmet_authentication_requirements` when the
 * request needs more: the next sign-in can use the face.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { findUserById } from '../account/users.ts';
import { assertBiometricConsent, recordBiometricConsent } from '../faceLogin/biometricConsent.ts';
import { parseCaptureJson } from '../faceLogin/captureUpload.ts';
import { CONSENT_TEXT } from '../faceLogin/consentText.ts';
import { listUserCredentials } from '../faceLogin/credentialStore.ts';
import { enrollFace } from '../faceLogin/enrollFace.ts';
import { beginPasskeyRegistration, finishPasskeyRegistration } from '../faceLogin/passkeyRegistration.ts';
import { heldLogin, recentHeldLogin, releaseLogin } from '../faceLogin/pendingLogin.ts';
import { faceReadiness } from '../faceLogin/faceReadiness.ts';
import { faceLoginError } from '../errors.ts';
import { startCapture } from '../faceLogin/startCapture.ts';
import { field } from './body.ts';
import { CAPTURE_BODY_LIMIT_BYTES, requireFace } from './faceRoutes.ts';
import type { InteractionKit } from './kit.ts';

export function enrollRoutes(router: Router, kit: InteractionKit): void {
  const { deps, tenantId } = kit;
  const urls = (uid: string) => {
    const enroll = `${kit.prefix}/${uid}/enroll`;
    return { offerUrl: enroll, consentUrl: `${enroll}/consent`, captureUrl: `${enroll}/capture`, skipUrl: `${enroll}/skip` };
  };

  /**
   * Ends the interaction with the held sign-in (as a redirect, or `{redirect}` for a JSON call),
   * timed when the PIN or code was entered: the minutes spent enrolling do not make it fresher.
   */
  async function finishHeld(ctx: Context, uid: string, params: Record<string, unknown>, json: boolean) {
    const held = await releaseLogin(deps.kv, tenantId, uid);
    const { required } = await kit.requirement(params);
    const login = { accountId: held.accountId, acr: held.acr, amr: held.amr, ts: Math.floor(held.signedInAt / 1000) };
    const result = await kit.loginResult(login, required, String(params.client_id));
    return json ? kit.finishJson(ctx, result) : kit.finish(ctx, result);
  }

  /**
   * The held sign-in, if it may still set up face sign-in: at most 5 minutes old, and only for a
   * user with no face template. Replacing an enrolled face (even one disabled by failures) on the
   * strength of a PIN would let whoever knows the PIN put their own face on the account and then
   * sign in at loa 2; that takes deleting the face data first (a reset, not a PIN sign-in).
   */
  async function enrollableLogin(uid: string) {
    const held = await recentHeldLogin(deps.kv, tenantId, uid);
    if ((await faceReadiness(deps, tenantId, held.accountId)).template) {
      throw faceLoginError('enroll.already_enrolled', 'face sign-in is already set up for this account; delete the face data first to set it up again');
    }
    return held;
  }

  async function pageData(uid: string, params: Record<string, unknown>, accountId: string) {
    const { clientName } = await kit.requirement(params);
    const username = (await findUserById(deps.db, tenantId, accountId))?.username ?? '';
    return { ...kit.base(uid), ...urls(uid), clientName, username };
  }

  router.get('/:uid/enroll', async (ctx) => {
    requireFace(kit);
    const interaction = await kit.loginDetails(ctx);
    const held = await heldLogin(deps.kv, tenantId, interaction.uid);
    return kit.render(ctx, 'face-offer', await pageData(interaction.uid, interaction.params, held.accountId));
  });

  router.post('/:uid/enroll/skip', async (ctx) => {
    const interaction = await kit.loginDetails(ctx);
    await kit.postedForm(ctx, interaction.uid);
    return finishHeld(ctx, interaction.uid, interaction.params, false);
  });

  router.get('/:uid/enroll/consent', async (ctx) => {
    requireFace(kit);
    const interaction = await kit.loginDetails(ctx);
    const held = await enrollableLogin(interaction.uid);
    return kit.render(ctx, 'face-consent', { ...(await pageData(interaction.uid, interaction.params, held.accountId)), text: CONSENT_TEXT, error: '' });
  });

  router.post('/:uid/enroll/consent', async (ctx) => {
    requireFace(kit);
    const interaction = await kit.loginDetails(ctx);
    const form = await kit.postedForm(ctx, interaction.uid);
    const held = await enrollableLogin(interaction.uid);
    if (form.agree !== 'yes') {
      const data = await pageData(interaction.uid, interaction.params, held.accountId);
      return kit.render(ctx, 'face-consent', { ...data, text: CONSENT_TEXT, error: 'Tick the box to agree, or choose "Not now".' }, 400);
    }
    await recordBiometricConsent(deps.db, tenantId, held.accountId, field(form, 'textVersion', 32));
    ctx.status = 303;
    ctx.redirect(urls(interaction.uid).captureUrl);
  });

  router.get('/:uid/enroll/capture', async (ctx) => {
    requireFace(kit);
    const interaction = await kit.loginDetails(ctx);
    const held = await enrollableLogin(interaction.uid);
    await assertBiometricConsent(deps.db, tenantId, held.accountId);
    const passkeys = await deps.db.withTenant(tenantId, (sql) => listUserCredentials(sql, tenantId, held.accountId));
    const action = `${kit.prefix}/${interaction.uid}/enroll`;
    return kit.render(ctx, 'face', {
      ...(await pageData(interaction.uid, interaction.params, held.accountId)),
      stepUp: false,
      purpose: 'enroll',
      startUrl: `${action}/start`,
      uploadUrl: action,
      needsPasskey: passkeys.length === 0,
      passkeyOptionsUrl: `${action}/passkey/options`,
      passkeyVerifyUrl: `${action}/passkey`,
      others: [],
      faceHref: null,
    });
  });

  router.post('/:uid/enroll/passkey/options', async (ctx) => {
    const face = requireFace(kit);
    const interaction = await kit.loginDetails(ctx);
    await kit.postedJson(ctx, interaction.uid);
    const held = await enrollableLogin(interaction.uid);
    const user = await findUserById(deps.db, tenantId, held.accountId);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { options: await beginPasskeyRegistration({ db: deps.db, kv: deps.kv, rp: face.rp, custodian: face.custodian() }, { tenantId, userId: held.accountId, userName: user?.username ?? held.accountId }) };
  });

  router.post('/:uid/enroll/passkey', async (ctx) => {
    const face = requireFace(kit);
    const interaction = await kit.loginDetails(ctx);
    const body = await kit.postedJson(ctx, interaction.uid);
    const held = await enrollableLogin(interaction.uid);
    const registered = await finishPasskeyRegistration({ db: deps.db, kv: deps.kv, rp: face.rp, custodian: face.custodian() }, { tenantId, userId: held.accountId, response: body.credential });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { credentialId: registered.credentialId };
  });

  router.post('/:uid/enroll/start', async (ctx) => {
    const face = requireFace(kit);
    const interaction = await kit.loginDetails(ctx);
    await kit.postedJson(ctx, interaction.uid);
    const held = await enrollableLogin(interaction.uid);
    await assertBiometricConsent(deps.db, tenantId, held.accountId);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await startCapture({ db: deps.db, kv: deps.kv, rp: face.rp, custodian: face.custodian() }, { tenantId, interactionUid: interaction.uid, userId: held.accountId, purpose: 'enroll' });
  });

  router.post('/:uid/enroll', async (ctx) => {
    const face = requireFace(kit);
    const interaction = await kit.loginDetails(ctx);
    const body = await kit.postedJson(ctx, interaction.uid, CAPTURE_BODY_LIMIT_BYTES);
    const held = await enrollableLogin(interaction.uid);
    await assertBiometricConsent(deps.db, tenantId, held.accountId);
    const capture = parseCaptureJson(body);
    await enrollFace({ ...deps, face }, { tenantId, interactionUid: interaction.uid, userId: held.accountId, capture });
    return finishHeld(ctx, interaction.uid, interaction.params, true);
  });
}
