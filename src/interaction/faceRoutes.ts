/**
 * The face step of the login prompt (DESIGN.md §3): the capture page, `POST …/face/start`
 * (JSON: issues the capture nonce for the identified user — the username given in a fresh
 * sign-in, the session's account in a step-up) and `POST …/face` (JSON: the frames and the
 * passkey assertion over them). When the request requires loa 3 the capture is active: the
 * start answers the head turns to make and a prompt per frame. An accepted capture finishes
 * the interaction at loa 2 (loa 3 when active); a rejected one answers 401 `face.rejected`
 * with what failed and what to do next, never a score.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { faceLoginError, InputError } from '../errors.ts';
import { refusalError } from '../account/lockout.ts';
import { findUserById, findUserByUsername } from '../account/users.ts';
import { MAX_CAPTURE_BYTES, parseCaptureJson } from '../faceLogin/captureUpload.ts';
import type { ActiveFaceFailure } from '../faceLogin/decide.ts';
import { faceReadiness, isFaceReady } from '../faceLogin/faceReadiness.ts';
import type { FaceServices } from '../faceLogin/faceServices.ts';
import { signInWithFace } from '../faceLogin/faceSignIn.ts';
import { capturedUser, startCapture } from '../faceLogin/startCapture.ts';
import { acrRank, LOA } from '../oidc/assurance.ts';
import { factorLinks } from './factorRoutes.ts';
import type { Interaction, InteractionKit } from './kit.ts';

/** The capture upload's body limit: 2 MB of frames in base64url (×4/3) plus nonce, assertion and CSRF. */
export const CAPTURE_BODY_LIMIT_BYTES = Math.ceil((MAX_CAPTURE_BYTES * 4) / 3) + 64 * 1024;

const WHAT_FAILED: Record<ActiveFaceFailure, string> = {
  no_match: 'Your face did not match the one set up for this account.',
  not_live: 'The camera did not see a live face: face the camera in good light, with nothing between you and it.',
  too_few_frontal: 'Too few pictures showed you looking straight at the camera: look straight whenever the page says so.',
  wrong_turns: 'The head turns did not follow the prompts: turn your head to the side each prompt names, far enough, and only when asked.',
  no_return_to_frontal: 'Look straight at the camera again after each turn, as the page asks.',
};

export function requireFace(kit: InteractionKit): FaceServices {
  if (!kit.deps.face) throw faceLoginError('face.unavailable', 'face sign-in is not available on this site');
  return kit.deps.face;
}

/** The face capture page; `username` is who signs in (empty in a step-up: the session's account). */
export function renderFaceStep(kit: InteractionKit, ctx: Context, uid: string, view: { username: string; clientName: string; stepUp: boolean }) {
  const action = `${kit.prefix}/${uid}`;
  return kit.render(ctx, 'face', {
    ...kit.base(uid),
    ...view,
    purpose: 'verify',
    startUrl: `${action}/face/start`,
    uploadUrl: `${action}/face`,
    needsPasskey: false,
    passkeyOptionsUrl: '',
    passkeyVerifyUrl: '',
    ...factorLinks(kit, uid, view.username, 'face'),
  });
}

/** Who the face step is for: the session's account in a step-up (no username given), else the named user. */
async function faceUser(kit: InteractionKit, interaction: Interaction, username: unknown): Promise<string> {
  const { deps, tenantId } = kit;
  if (username === undefined || username === '') {
    const account = interaction.session?.accountId;
    if (!account) throw new InputError('request.missing_field', 'missing field "username"');
    return account;
  }
  if (typeof username !== 'string' || username.length > 128) throw new InputError('request.malformed', 'username must be a string of at most 128 characters');
  const user = await findUserByUsername(deps.db, tenantId, username);
  if (!user) throw faceLoginError('face.unavailable', 'face sign-in is not set up for this account; use your PIN or authenticator code');
  return user.id;
}

export function faceRoutes(router: Router, kit: InteractionKit): void {
  const { deps, tenantId } = kit;

  router.post('/:uid/face/start', async (ctx) => {
    const face = requireFace(kit);
    const interaction = await kit.loginDetails(ctx);
    const body = await kit.postedJson(ctx, interaction.uid);
    const userId = await faceUser(kit, interaction, body.username);
    const readiness = await faceReadiness(deps, tenantId, userId);
    if (readiness.faceDisabled) throw refusalError('face', { reason: 'disabled' });
    if (!isFaceReady(readiness)) throw faceLoginError('face.unavailable', 'face sign-in is not set up for this account; use your PIN or authenticator code');
    // loa 3 needs the active challenge; the nonce carries its turns to the upload.
    const { required } = await kit.requirement(interaction.params);
    const active = required !== undefined && required !== 'unmet' && acrRank(required) >= acrRank(LOA.faceStrict);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await startCapture({ db: deps.db, kv: deps.kv, rp: face.rp, custodian: face.custodian() }, { tenantId, interactionUid: interaction.uid, userId, purpose: 'verify' }, { active });
    // The upload follows in seconds: its match's blinder is made now, off its path. A failure only
    // leaves the match to make its own.
    face.templates().prepare(tenantId, userId).catch(() => {});
  });

  router.post('/:uid/face', async (ctx) => {
    const face = requireFace(kit);
    const interaction = await kit.loginDetails(ctx);
    const body = await kit.postedJson(ctx, interaction.uid, CAPTURE_BODY_LIMIT_BYTES);
    const capture = parseCaptureJson(body);
    const userId = await capturedUser(deps.kv, tenantId, interaction.uid);
    const result = await signInWithFace({ ...deps, face }, { tenantId, interactionUid: interaction.uid, userId, capture });
    if (result.accepted) {
      const { required } = await kit.requirement(interaction.params);
      return kit.finishJson(ctx, await kit.loginResult({ accountId: userId, ...result.assurance }, required, String(interaction.params.client_id)));
    }
    ctx.status = 401;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      error: 'face.rejected',
      error_description: `${result.failed.map((f) => WHAT_FAILED[f]).join(' ')} Try again, or use your PIN or authenticator code.`,
      failed: result.failed,
      fallback: true,
    };
  });
}

/** The username of the session's account, for the step-up page's fallback links. */
export async function sessionUsername(kit: InteractionKit, accountId: string): Promise<string> {
  return (await findUserById(kit.deps.db, kit.tenantId, accountId))?.username ?? '';
}
