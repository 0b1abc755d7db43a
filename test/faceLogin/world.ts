/** A tenant with two users on real storage, the face-login deps (with an in-process custodian), and passkey registration through the real verifier. */
import { createTenant } from '../../src/account/tenants.ts';
import { createLocalCustodian } from '../../src/custodian/localCustodian.ts';
import { CUSTODIAN_ROLE } from '../../src/store/db.ts';
import { createUser, type User } from '../../src/account/users.ts';
import type { FaceLoginDeps } from '../../src/faceLogin/deps.ts';
import { beginPasskeyRegistration, finishPasskeyRegistration } from '../../src/faceLogin/passkeyRegistration.ts';
import { relyingPartyFrom } from '../../src/faceLogin/relyingParty.ts';
import { freshDatabase, freshKeyValueStore, type TestDatabase } from '../support/services.ts';
import { SoftAuthenticator } from '../support/softAuthenticator.ts';
import { testKekRing } from '../template/fixtures.ts';

export const TENANT = 'acme';

export type World = {
  db: TestDatabase;
  deps: FaceLoginDeps;
  alice: User;
  bob: User;
  /** A new authenticator with a passkey registered to `user`. */
  registerPasskey(user: User): Promise<SoftAuthenticator>;
  close(): Promise<void>;
};

export async function openWorld(): Promise<World> {
  const db = await freshDatabase();
  const kv = freshKeyValueStore();
  await createTenant(db, { id: TENANT, name: 'Acme' }, 'test');
  const alice = await createUser(db, TENANT, { username: 'alice' }, 'test');
  const bob = await createUser(db, TENANT, { username: 'bob' }, 'test');
  const rp = relyingPartyFrom('https://id.acme.example');
  const custodian = createLocalCustodian({ db: db.forRole(CUSTODIAN_ROLE), kv, keks: testKekRing(), rp });
  const deps: FaceLoginDeps = { db, kv, rp, custodian };
  return {
    db,
    deps,
    alice,
    bob,
    async registerPasskey(user) {
      const authenticator = new SoftAuthenticator({ origin: deps.rp.origin, rpID: deps.rp.rpID });
      const options = await beginPasskeyRegistration(deps, { tenantId: TENANT, userId: user.id, userName: user.username });
      await finishPasskeyRegistration(deps, { tenantId: TENANT, userId: user.id, response: authenticator.register(options) });
      return authenticator;
    },
    async close() {
      await kv.close();
      await db.close();
    },
  };
}

/** The audit events of `type`, oldest first. */
export async function auditEvents(db: TestDatabase, type: string): Promise<{ subject: string; data: Record<string, unknown> }[]> {
  const { rows } = await db.withTenant(TENANT, (sql) =>
    sql.query<{ subject: string; data: Record<string, unknown> }>('SELECT subject, data FROM audit_events WHERE type = $1 ORDER BY seq', [type]),
  );
  return rows;
}
