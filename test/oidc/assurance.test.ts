import { test } from 'node:test';
import assert from 'node:assert/strict';
import { achievableAcr, LOA, requiredAcr, satisfies, sessionAcr, STRICT_MAX_AGE_S } from '../../src/oidc/assurance.ts';

test('nothing requested: nothing required', () => {
  assert.equal(requiredAcr({}), undefined);
  assert.equal(requiredAcr({ acrValues: 'urn:other:thing' }), undefined, 'unknown voluntary values are ignored');
});

test('acr_values: any listed level is acceptable, so the lowest is the floor', () => {
  assert.equal(requiredAcr({ acrValues: `${LOA.faceStrict} ${LOA.face}` }), LOA.face);
  assert.equal(requiredAcr({ acrValues: LOA.pinOrOtp }), LOA.pinOrOtp);
});

test('essential acr claim raises the floor; only unknown essential values cannot be met', () => {
  assert.equal(requiredAcr({ essentialAcr: { essential: true, values: [LOA.face] } }), LOA.face);
  assert.equal(requiredAcr({ essentialAcr: { essential: true, value: LOA.faceStrict } }), LOA.faceStrict);
  assert.equal(requiredAcr({ essentialAcr: { essential: false, values: [LOA.face] } }), undefined);
  assert.equal(requiredAcr({ essentialAcr: { essential: true, values: ['urn:x'] } }), 'unmet');
});

test('the client minimum wins over a lower request', () => {
  assert.equal(requiredAcr({ acrValues: LOA.pinOrOtp, clientMinAcr: LOA.face }), LOA.face);
  assert.equal(requiredAcr({ clientMinAcr: LOA.face }), LOA.face);
  assert.equal(requiredAcr({ acrValues: LOA.faceStrict, clientMinAcr: LOA.face }), LOA.faceStrict);
});

test('satisfies orders the levels', () => {
  assert.ok(satisfies(LOA.face, LOA.pinOrOtp));
  assert.ok(!satisfies(LOA.pinOrOtp, LOA.face));
  assert.ok(!satisfies(undefined, LOA.pinOrOtp));
  assert.ok(satisfies(undefined, undefined));
});

test('a user reaches loa 2 and 3 only with a passkey, a template, consent in force and face not disabled', () => {
  const ready = { passkey: true, template: true, consent: true, faceDisabled: false };
  assert.equal(achievableAcr(ready), LOA.faceStrict, 'loa 3 needs the same readiness as loa 2');
  assert.equal(achievableAcr(undefined), LOA.pinOrOtp, 'no face sign-in in this deployment');
  for (const missing of ['passkey', 'template', 'consent'] as const) assert.equal(achievableAcr({ ...ready, [missing]: false }), LOA.pinOrOtp, missing);
  assert.equal(achievableAcr({ ...ready, faceDisabled: true }), LOA.pinOrOtp);
});

test('a loa 3 sign-in stands for loa 3 for 5 minutes, then for loa 2; other levels do not age here', () => {
  const at = 1_700_000_000;
  assert.equal(STRICT_MAX_AGE_S, 300);
  assert.equal(sessionAcr(LOA.faceStrict, at, at + 300), LOA.faceStrict);
  assert.equal(sessionAcr(LOA.faceStrict, at, at + 301), LOA.face);
  assert.ok(!satisfies(sessionAcr(LOA.faceStrict, at, at + 301), LOA.faceStrict));
  assert.ok(satisfies(sessionAcr(LOA.faceStrict, at, at + 301), LOA.face));
  assert.equal(sessionAcr(LOA.faceStrict, undefined, at), LOA.face, 'no sign-in time: stale');
  assert.equal(sessionAcr(LOA.face, at, at + 86_400), LOA.face);
  assert.equal(sessionAcr(undefined, undefined, at), undefined);
});
