/**
 * What `npm run demo` needs in its database, created once and found again on every later run of
 * the same data directory: the example RP as a confidential client (fixed id `example-rp`, its
 * redirect URI on the RP's port) and a user `demo` with a PIN. The PIN is random per data
 * directory and kept beside the database (`demo-pin`, mode 0600) so it can be printed on each
 * run: the demo is for one machine, never for production (src/demo.ts refuses NODE_ENV=production).
 * The client secret is read back from the client row (sealed under the data key), not stored twice.
 */
import { randomInt } from 'node:crypto';
import { createClient, clientSecretContext, type ClientMetadata } from './account/clients.ts';
import { setPin, validatePin } from './account/pin.ts';
import { inTenant } from './account/tenants.ts';
import { createUser, findUserByUsername } from './account/users.ts';
import { ConfigError, InputError } from './errors.ts';
import type { DataKey } from './store/dataKey.ts';
import type { Database } from './store/db.ts';
import { readOrCreateLocalSecret } from './store/localSecret.ts';

export const DEMO_CLIENT_ID = 'example-rp';
export const DEMO_USERNAME = 'demo';
/** The file in DATA_DIR holding the demo user's PIN. */
export const DEMO_PIN_FILE = 'demo-pin';
const ACTOR = 'demo';

export type DemoSeed = {
  clientId: string;
  clientSecret: string;
  username: string;
  pin: string;
  /** What this run created (false: found from an earlier run). */
  created: { client: boolean; user: boolean };
};

/** Six random digits the PIN policy accepts (it refuses repeated digits and straight runs). */
function randomDemoPin(): string {
  for (;;) {
    const pin = String(randomInt(0, 1_000_000)).padStart(6, '0');
    try {
      return validatePin(pin);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
    }
  }
}

/** The example RP's client: created with a new secret, or the existing one with its secret opened. */
async function ensureDemoClient(deps: { db: Database; dataKey: DataKey }, tenant: string, rpBaseUrl: string): Promise<{ secret: string; created: boolean }> {
  const redirectUri = `${rpBaseUrl}/callback`;
  const { rows } = await inTenant(deps.db, tenant, (sql) =>
    sql.query<{ metadata: ClientMetadata }>('SELECT metadata FROM clients WHERE tenant_id = $1 AND client_id = $2', [tenant, DEMO_CLIENT_ID]),
  );
  const existing = rows[0]?.metadata;
  if (!existing) {
    const made = await createClient(deps, tenant, {
      clientId: DEMO_CLIENT_ID,
      name: 'Example RP (demo)',
      redirectUris: [redirectUri],
      postLogoutRedirectUris: [`${rpBaseUrl}/`],
    }, ACTOR);
    return { secret: made.clientSecret!, created: true };
  }
  if (!existing.redirect_uris.includes(redirectUri) || !existing.client_secret) {
    const was = existing.redirect_uris.join(', ') || 'none';
    throw new ConfigError(`client "${DEMO_CLIENT_ID}" in this demo's data directory redirects to ${was}, not ${redirectUri}: run with the RP port it was created for (DEMO_RP_PORT), or use a new DEMO_DATA_DIR`);
  }
  return { secret: deps.dataKey.open(existing.client_secret, clientSecretContext(tenant, DEMO_CLIENT_ID)).toString('utf8'), created: false };
}

/** The demo user with the PIN from `<dataDir>/demo-pin`, set when the user is new or has no PIN. */
async function ensureDemoUser(db: Database, tenant: string, pin: string): Promise<boolean> {
  const found = await findUserByUsername(db, tenant, DEMO_USERNAME);
  const user = found ?? (await createUser(db, tenant, { username: DEMO_USERNAME }, ACTOR));
  const { rows } = await db.withTenant(tenant, (sql) => sql.query('SELECT 1 FROM pin_credentials WHERE tenant_id = $1 AND user_id = $2', [tenant, user.id]));
  if (!rows.length) await setPin(db, tenant, user.id, pin, ACTOR);
  return !found;
}

/** Creates what is missing of the demo in `tenant` (which must exist) and returns how to use it. */
export async function seedDemo(deps: { db: Database; dataKey: DataKey }, options: { dataDir: string; tenant: string; rpBaseUrl: string }): Promise<DemoSeed> {
  const pin = readOrCreateLocalSecret(options.dataDir, DEMO_PIN_FILE, randomDemoPin);
  const client = await ensureDemoClient(deps, options.tenant, options.rpBaseUrl);
  const userCreated = await ensureDemoUser(deps.db, options.tenant, pin);
  return { clientId: DEMO_CLIENT_ID, clientSecret: client.secret, username: DEMO_USERNAME, pin, created: { client: client.created, user: userCreated } };
}
