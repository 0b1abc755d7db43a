import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError, FACE_LOGIN_ERRORS, InputError, faceLoginError, type FaceLoginCode } from '../../src/errors.ts';

describe('faceLoginError', () => {
  it('gives every face sign-in code its listed 4xx status: AuthError when a check refused, InputError otherwise', () => {
    for (const [code, status] of Object.entries(FACE_LOGIN_ERRORS) as [FaceLoginCode, number][]) {
      const e = faceLoginError(code, 'message');
      assert.equal(e.code, code);
      assert.equal(e.status, status);
      assert.ok(status >= 400 && status < 500);
      assert.ok(status === 401 || status === 403 ? e instanceof AuthError : e instanceof InputError, code);
    }
  });

  it('keeps the underlying reason as the cause, out of the message', () => {
    const reason = new Error('Unexpected authentication response origin "https://evil.example"');
    const e = faceLoginError('webauthn.assertion_invalid', 'the passkey assertion did not verify', reason);
    assert.equal(e.cause, reason);
    assert.doesNotMatch(e.message, /evil/);
  });
});
