/** `facegate custodian rotate-kek | shred-orphans` as an operator runs it: the custodian's own login on Postgres when DATABASE_URL is set, else PGlite in a temporary directory. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../bin/facegate.ts';
import { createTenant } from '../../src/account/tenants.ts';
import { loadConfig } from '../../src/config.ts';
import { openKekRing } from '../../src/custodian/kek.ts';
import { createLocalCustodian } from '../../src/custodian/localCustodian.ts';
import { CUSTODIAN_ROLE, openConfiguredDatabase } from '../../src/store/db.ts';
import { memoryStore } from '../../src/store/kv.ts';
import { migrate } from '../../src/store/migrate.ts';
import { TEST_RP } from '../support/liveAttempt.ts';
import { freshDatabase, type TestDatabase } from '../support/services.ts';

let pg: TestDatabase | undefined;
const dir = mkdtempSync(path.join(tmpdir(), 'fg-custodian-cli-'));
let env: Record<string, string | undefined>;
const userId = randomUUID();

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['custodian', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The database as the test's owner sees it, for seeding and checking. */
async function withDb<T>(fn: (db: ReturnType<typeof openConfiguredDatabase>) => Promise<T>): Promise<T> {
  const db = openConfiguredDatabase(loadConfig({ ...env, DATABASE_URL: pg?.url }));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const kekIdOf = () => withDb(async (db) => (await db.asOwner((sql) => sql.query<{ kek_id: string }>('SELECT kek_id FROM custodian_keys WHERE user_id = $1', [userId]))).rows[0].kek_id);

before(async () => {
  pg = process.env.DATABASE_URL ? await freshDatabase() : undefined;
  // The custodian's own login where there is one: the commands need no more than its role.
  env = { CUSTODIAN_DATABASE_URL: pg?.custodianUrl, DATA_DIR: dir, CUSTODIAN_KEY_DIR: path.join(dir, 'keys'), FACEGATE_DATA_KEY: `k1:${randomBytes(32).toString('base64')}`, FACEGATE_KEK: `k1:${randomBytes(32).toString('base64')}` };
  await withDb(async (db) => {
    await migrate(db);
    await createTenant(db, { id: 'acme', name: 'Acme' }, 'test');
    await db.withTenant('acme', (sql) => sql.query("INSERT INTO users (tenant_id, id, username) VALUES ('acme', $1, 'alice')", [userId]));
    const custodian = createLocalCustodian({ db: db.forRole(CUSTODIAN_ROLE), kv: memoryStore(), keks: openKekRing(loadConfig(env)), rp: TEST_RP });
    await custodian.createUserKey('acme', userId);
  });
});
after(async () => {
  await pg?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('rotate-kek starts a new epoch now, rewraps the keys and destroys the old epoch; shred-orphans reports what it found', async () => {
  const saved = { ...process.env };
  for (const [name, value] of Object.entries(env)) if (value !== undefined) process.env[name] = value;
  if (!pg) delete process.env.DATABASE_URL;
  try {
    const first = await kekIdOf();
    const rotated = await cli('rotate-kek');
    assert.equal(rotated.code, 0, rotated.err);
    const now = await kekIdOf();
    assert.notEqual(now, first);
    assert.match(rotated.out, new RegExp(`KEK epoch ${now} is current \\(new\\); rewrapped 1 keys; destroyed ${first}`));
    assert.doesNotMatch(rotated.out, /[A-Za-z0-9+/]{43}=/, 'no key material printed');
    const orphans = await cli('shred-orphans');
    assert.equal(orphans.code, 0, orphans.err);
    assert.match(orphans.out, /^shredded 0 keys, 0 passkeys, 0 nonces of deleted users; 0 keys of destroyed KEK epochs; 0 rows of deleted tenants$/);
    assert.equal((await cli('rotate')).code, 2);
    const usage: string[] = [];
    assert.equal(await main([], { out: () => {}, err: (l) => usage.push(l) }), 2);
    assert.ok(usage.some((l) => l.includes('rotate-kek')), 'listed in facegate usage');
  } finally {
    process.env = saved;
  }
});
