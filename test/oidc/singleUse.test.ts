/**
 * Authorization codes and rotated refresh tokens are single-use even when one is presented
 * several times at once: of parallel requests exactly one gets tokens, the rest invalid_grant.
 * Each trial is repeated, since a race that is lost only sometimes must still never be won twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createUser } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';
import type { RunningServer } from '../../src/main.ts';
import { startTestServer } from '../support/server.ts';
import { authorize, exchangeCode, registerRp, tokenRequest, type Rp, type TokenResponse } from '../support/oidcFlow.ts';

const TENANT = 'default';
const USER = { username: 'dana', pin: '615283' };
const PARALLEL = 5;
const TRIALS = 5;

let server: RunningServer;
let rp: Rp;
/** Public: oidc-provider rotates its refresh tokens on every use. */
let publicRp: Rp;

before(async () => {
  server = await startTestServer();
  const dana = await createUser(server.db, TENANT, { username: USER.username }, 'test');
  await setPin(server.db, TENANT, dana.id, USER.pin, 'test');
  rp = await registerRp(server, TENANT, 'Race App');
  publicRp = await registerRp(server, TENANT, 'Race SPA', { public: true });
});

after(async () => {
  await server?.close();
});

function assertExactlyOneWins(results: TokenResponse[], trial: number) {
  const won = results.filter((r) => r.status === 200);
  assert.equal(won.length, 1, `trial ${trial}: ${won.length} of ${PARALLEL} parallel requests got tokens`);
  for (const r of results.filter((x) => x.status !== 200)) {
    assert.equal(r.status, 400, `trial ${trial}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error, 'invalid_grant');
  }
}

describe('single-use artifacts under parallel use', () => {
  test('one authorization code exchanged in parallel yields exactly one token response', async () => {
    const first = await authorize(rp, USER);
    for (let trial = 0; trial < TRIALS; trial++) {
      const authorized = trial === 0 ? first : await authorize(rp, USER, { driver: first.driver, prompt: '', scope: 'openid' });
      assertExactlyOneWins(await Promise.all(Array.from({ length: PARALLEL }, () => exchangeCode(rp, authorized))), trial);
    }
  });

  test('one rotated refresh token used in parallel yields exactly one new token family', async () => {
    const first = await authorize(publicRp, USER);
    for (let trial = 0; trial < TRIALS; trial++) {
      const tokens = await exchangeCode(publicRp, trial === 0 ? first : await authorize(publicRp, USER, { driver: first.driver }));
      const refreshToken = tokens.body.refresh_token;
      assert.equal(typeof refreshToken, 'string', 'offline_access with consent gives a refresh token');
      const results = await Promise.all(
        Array.from({ length: PARALLEL }, () => tokenRequest(publicRp, { grant_type: 'refresh_token', refresh_token: refreshToken as string })),
      );
      assertExactlyOneWins(results, trial);
    }
  });
});
