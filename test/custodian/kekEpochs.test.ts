/**
 * KEK epochs end what crypto-shredding could not reach: sealed keys in database backups. These
 * tests play the backup thief (a row copied before a rotation, the key store and the wrapping
 * KEK stolen after it), the crash (a rotation failing between batches) and the race (rotations in
 * parallel with each other and with enrollments), and read the key store file itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { scheduleCustodianMaintenance, type MaintenanceReport } from '../../src/custodian/custodianMaintenance.ts';
import { rotateKek } from '../../src/custodian/kekRotation.ts';
import { shredOrphans } from '../../src/custodian/orphanKeys.ts';
import { kekRing } from '../../src/custodian/kek.ts';
import { EPOCH_FILE, openKekStore } from '../../src/custodian/kekStore.ts';
import { createLocalCustodian } from '../../src/custodian/localCustodian.ts';
import { openKey } from '../../src/custodian/sealedKey.ts';
import { CUSTODIAN_ROLE } from '../../src/store/db.ts';
import { makeBlinder } from '../../src/template/blinder.ts';
import { decisionMatch, encryptTemplate } from '../../src/template/matcher.ts';
import { quantize } from '../../src/template/quantize.ts';
import { attemptsFor, TEST_RP } from '../support/liveAttempt.ts';
import { auditTypes, newKek, seedTenant, seedUser, testKekRing, testStores } from '../template/fixtures.ts';
import { dot, randomUnit } from '../template/vectors.ts';

const { db, kv } = await testStores();
await seedTenant(db, 'acme');
await seedTenant(db, 'globex');
const cdb = db.forRole(CUSTODIAN_ROLE);

type Row = { tenant_id: string; user_id: string; kek_id: string; sealed: Uint8Array };
const keyRow = async (tenantId: string, userId: string) =>
  (await cdb.withTenant(tenantId, (sql) => sql.query<Row>('SELECT tenant_id, user_id, kek_id, sealed FROM custodian_keys WHERE user_id = $1', [userId]))).rows[0];
const kekIds = async (tenantId: string) =>
  (await cdb.withTenant(tenantId, (sql) => sql.query<{ kek_id: string }>('SELECT DISTINCT kek_id FROM custodian_keys'))).rows.map((r) => r.kek_id);

/** An enrolled user: key, template, and a live decision maker at θ = score (accept). */
async function enrolled(custodian: ReturnType<typeof createLocalCustodian>, tenantId: string) {
  const userId = await seedUser(db, tenantId);
  // The device before the key, as the real flow registers it (only older passkeys sign attempts).
  const attempts = await attemptsFor(custodian, tenantId, userId);
  const publicKey = await custodian.createUserKey(tenantId, userId);
  const t = quantize(randomUnit(128));
  const template = await encryptTemplate(publicKey, [t]);
  return {
    userId,
    async decide() {
      const p = quantize(randomUnit(128));
      const ciphertext = await decisionMatch({ template, probe: p, threshold: dot(p, t), blinder: await makeBlinder(publicKey) });
      return custodian.decideMatch(tenantId, userId, { ciphertext, attempt: await attempts.next() });
    },
  };
}

test('after rotation and destruction a sealed row from before (a backup) opens under no key anyone holds, while current rows still decide', async () => {
  const wrapping = newKek('prod');
  const ring = testKekRing(wrapping);
  const custodian = createLocalCustodian({ db: cdb, kv, keks: ring, rp: TEST_RP });
  const alice = await enrolled(custodian, 'acme');
  const bob = await enrolled(custodian, 'globex');
  const backup = await keyRow('acme', alice.userId);
  const oldEpoch = ring.current().id;
  assert.equal(backup.kek_id, oldEpoch);

  const report = await rotateKek(cdb, ring, { epochDays: 30, force: true });
  assert.deepEqual(report.destroyed, [oldEpoch]);
  assert.ok(report.rewrapped >= 2);
  assert.notEqual(ring.current().id, oldEpoch);
  assert.deepEqual(await kekIds('acme'), [ring.current().id]);
  assert.equal(await alice.decide(), 'accept', 'rewrapped keys still decide');
  assert.equal(await bob.decide(), 'accept');

  // The thief holds the backup row, the current key store and FACEGATE_KEK: nothing opens it.
  const stolen = openKekStore(ring.dir, [wrapping]).read();
  for (const kek of [...stolen.epochs, wrapping, { id: oldEpoch, key: stolen.epochs[0].key }]) {
    assert.throws(() => openKey(kek, 'acme', alice.userId, backup.sealed), { code: 'custodian.unseal_failed' });
  }
  // Restored into the database, the row is refused as "not enrolled", audited, and shredded as an orphan.
  await cdb.withTenant('acme', (sql) => sql.query('UPDATE custodian_keys SET kek_id = $2, sealed = $3 WHERE user_id = $1', [alice.userId, backup.kek_id, Buffer.from(backup.sealed)]));
  await assert.rejects(alice.decide(), { code: 'custodian.no_key' });
  assert.ok((await auditTypes(db, 'acme', alice.userId)).includes('custodian.unseal_failed'));
  assert.ok((await auditTypes(db, 'acme')).includes('custodian.kek_epoch_destroyed'));
  assert.ok((await auditTypes(db, 'globex')).includes('custodian.kek_epoch_created'));
});

test('the destroyed epoch is physically gone: not in the store, no temporary file left, and the replaced file zeroed', async () => {
  const wrapping = newKek('w2');
  const ring = testKekRing(wrapping);
  const custodian = createLocalCustodian({ db: cdb, kv, keks: ring, rp: TEST_RP });
  await enrolled(custodian, 'acme');
  const old = ring.current();
  const oldKey = Buffer.from(old.key);
  const file = path.join(ring.dir, EPOCH_FILE);
  // A hard link keeps the pre-rotation inode alive (as a careless backup tool or an intruder might).
  linkSync(file, path.join(ring.dir, 'linked-before'));
  const before = readFileSync(path.join(ring.dir, 'linked-before'));
  await rotateKek(cdb, ring, { epochDays: 30, force: true });
  const after = openKekStore(ring.dir, [wrapping]).read();
  assert.deepEqual(after.epochs.map((e) => e.id), [ring.current().id]);
  assert.ok(after.destroyed.some((d) => d.id === old.id), 'only the id is kept, to recognise restored rows');
  assert.ok(after.epochs.every((e) => !e.key.equals(oldKey)));
  assert.deepEqual(readdirSync(ring.dir).sort(), [EPOCH_FILE, 'linked-before']);
  const linked = readFileSync(path.join(ring.dir, 'linked-before'));
  assert.equal(linked.length, before.length);
  assert.ok(linked.every((b) => b === 0), 'the old inode was overwritten with zeros');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(ring.dir).mode & 0o777, 0o700);
  assert.ok(!readFileSync(file).includes(oldKey) && !readFileSync(file, 'utf8').includes(oldKey.toString('base64')));
});

test('a rotation that fails between batches leaves every key openable, and a rerun finishes it with the same epoch', async () => {
  const ring = testKekRing(newKek('w3'));
  const custodian = createLocalCustodian({ db: cdb, kv, keks: ring, rp: TEST_RP });
  await seedTenant(db, 'crashco');
  const users = [];
  for (let i = 0; i < 5; i++) users.push(await enrolled(custodian, 'crashco'));
  const oldEpoch = ring.current().id;
  await assert.rejects(
    rotateKek(cdb, ring, {
      epochDays: 30,
      force: true,
      batchSize: 2,
      onProgress: (n) => {
        if (n >= 2) throw new Error('crash after the first batch');
      },
    }),
    /crash/,
  );
  const newEpoch = ring.current().id;
  assert.notEqual(newEpoch, oldEpoch);
  assert.deepEqual((await kekIds('crashco')).sort(), [newEpoch, oldEpoch].sort(), 'half rewrapped');
  for (const u of users) assert.equal(await u.decide(), 'accept', 'both epochs still open');
  const rerun = await rotateKek(cdb, ring, { epochDays: 30, force: true });
  assert.equal(rerun.created, undefined, 'no second epoch: the interrupted rotation is finished');
  assert.equal(rerun.current, newEpoch);
  assert.deepEqual(rerun.destroyed, [oldEpoch]);
  assert.deepEqual(await kekIds('crashco'), [newEpoch]);
  for (const u of users) assert.equal(await u.decide(), 'accept');
});

test('parallel rotations and enrollments make one epoch and lose no key', async () => {
  const wrapping = newKek('w4');
  const ring = testKekRing(wrapping);
  const custodian = createLocalCustodian({ db: cdb, kv, keks: ring, rp: TEST_RP });
  await seedTenant(db, 'raceco');
  const users = [];
  for (let i = 0; i < 4; i++) users.push(await enrolled(custodian, 'raceco'));
  const oldEpoch = ring.current().id;
  // Other processes' rings over the same store, as a CLI run next to the custodian's timer.
  const others = [0, 1].map(() => kekRing(openKekStore(ring.dir, [wrapping]), [wrapping]));
  const [reports] = await Promise.all([
    Promise.allSettled([ring, ...others].map((r) => rotateKek(cdb, r, { epochDays: 30, force: true, batchSize: 1 }))),
    Promise.all([0, 1, 2].map(async () => users.push(await enrolled(custodian, 'raceco')))),
  ]);
  const created = reports.flatMap((r) => (r.status === 'fulfilled' && r.value.created ? [r.value.created] : []));
  assert.equal(created.length, 1, 'exactly one new epoch');
  assert.deepEqual(reports.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled']);
  const store = openKekStore(ring.dir, [wrapping]).read();
  assert.deepEqual(store.epochs.map((e) => e.id), [created[0]]);
  assert.deepEqual(store.destroyed.map((d) => d.id), [oldEpoch]);
  assert.deepEqual(await kekIds('raceco'), [created[0]]);
  for (const u of users) assert.equal(await u.decide(), 'accept', 'every key, old or enrolled during the race, opens');
});

test('a run asked for before another run rotated joins that rotation, even if it reaches the lock after it finished', async () => {
  const wrapping = newKek('w4b');
  const ring = testKekRing(wrapping);
  const custodian = createLocalCustodian({ db: cdb, kv, keks: ring, rp: TEST_RP });
  await seedTenant(db, 'lateco');
  const users = [await enrolled(custodian, 'lateco'), await enrolled(custodian, 'lateco')];
  const oldEpoch = ring.current().id;
  // The late run's database calls wait until the first run is over (a CLI run that stalled).
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const stalled: typeof cdb = Object.assign(Object.create(cdb) as typeof cdb, {
    transaction: async <T>(fn: Parameters<typeof cdb.transaction<T>>[0]) => {
      await gate;
      return cdb.transaction(fn);
    },
  });
  const late = rotateKek(stalled, kekRing(openKekStore(ring.dir, [wrapping]), [wrapping]), { epochDays: 30, force: true });
  const first = await rotateKek(cdb, ring, { epochDays: 30, force: true });
  open();
  const report = await late;
  assert.ok(first.created);
  assert.deepEqual(first.destroyed, [oldEpoch]);
  assert.equal(report.created, undefined, 'no second epoch');
  assert.equal(report.current, first.created);
  assert.deepEqual(openKekStore(ring.dir, [wrapping]).read().epochs.map((e) => e.id), [first.created]);
  for (const u of users) assert.equal(await u.decide(), 'accept');
});

test('the schedule rotates only an epoch older than KEK_EPOCH_DAYS', async () => {
  const ring = testKekRing(newKek('w5'));
  const epoch = ring.reload().epochs[0];
  assert.equal((await rotateKek(cdb, ring, { epochDays: 30, now: epoch.createdAt + 29 * 86_400_000 })).created, undefined);
  const due = await rotateKek(cdb, ring, { epochDays: 30, now: epoch.createdAt + 30 * 86_400_000 });
  assert.ok(due.created);
  assert.deepEqual(due.destroyed, [epoch.id]);
});

test('orphans the cascades cannot reach — rows restored without foreign-key triggers, keys of destroyed epochs — are shredded and audited', async () => {
  const ring = testKekRing(newKek('w6'));
  const custodian = createLocalCustodian({ db: cdb, kv, keks: ring, rp: TEST_RP });
  await seedTenant(db, 'orphanco');
  await seedTenant(db, 'goneco');
  const kept = await enrolled(custodian, 'orphanco');
  const gone = await enrolled(custodian, 'orphanco');
  const goneTenantUser = await enrolled(custodian, 'goneco');
  const dump = async (tenantId: string, userId: string) =>
    db.asOwner(async (sql) => ({
      keys: (await sql.query('SELECT * FROM custodian_keys WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId])).rows,
      passkeys: (await sql.query('SELECT * FROM custodian_passkeys WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId])).rows,
      nonces: (await sql.query('SELECT * FROM custodian_nonces WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId])).rows,
    }));
  await custodian.issueCaptureNonce('orphanco', gone.userId);
  // A backup of the custodian's tables, then the user and the tenant are deleted (the cascades work)…
  const backups = [await dump('orphanco', gone.userId), await dump('goneco', goneTenantUser.userId)];
  await db.asOwner((sql) => sql.query('DELETE FROM users WHERE tenant_id = $1 AND id = $2', ['orphanco', gone.userId]));
  await db.asOwner((sql) => sql.query("DELETE FROM tenants WHERE id = 'goneco'"));
  assert.deepEqual(await dump('orphanco', gone.userId), { keys: [], passkeys: [], nonces: [] }, 'the cascade deleted them');
  // …and a data-only restore brings the rows back, as pg_restore --disable-triggers does.
  await db.asOwner(async (sql) => {
    await sql.query('SET LOCAL session_replication_role = replica');
    for (const b of backups) {
      for (const [table, rows] of [['custodian_keys', b.keys], ['custodian_passkeys', b.passkeys], ['custodian_nonces', b.nonces]] as const) {
        for (const row of rows) {
          const cols = Object.keys(row);
          await sql.query(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
        }
      }
    }
  });
  assert.equal((await dump('orphanco', gone.userId)).keys.length, 1, 'the orphan is back');
  // A key of a living user restored from before a rotation: its epoch is destroyed.
  const stale = await keyRow('orphanco', kept.userId);
  await rotateKek(cdb, ring, { epochDays: 30, force: true });
  await cdb.withTenant('orphanco', (sql) => sql.query('UPDATE custodian_keys SET kek_id = $2, sealed = $3 WHERE user_id = $1', [kept.userId, stale.kek_id, Buffer.from(stale.sealed)]));

  const report = await shredOrphans(cdb, ring);
  assert.equal(report.keys, 1);
  assert.deepEqual([report.passkeys, report.nonces], [1, 1]);
  assert.equal(report.destroyedEpochKeys, 1);
  assert.equal(report.vanishedTenantRows, 2, 'key and passkey of the deleted tenant');
  assert.deepEqual(await dump('orphanco', gone.userId), { keys: [], passkeys: [], nonces: [] });
  assert.deepEqual(await dump('goneco', goneTenantUser.userId), { keys: [], passkeys: [], nonces: [] });
  assert.equal(await keyRow('orphanco', kept.userId), undefined, 'the unopenable key is gone: the user re-enrolls');
  assert.ok((await auditTypes(db, 'orphanco')).includes('custodian.orphans_shredded'));
  const { rows } = await db.withTenant('orphanco', (sql) => sql.query<{ data: object }>("SELECT data FROM audit_events WHERE type = 'custodian.key_shredded' AND subject = $1 ORDER BY seq DESC LIMIT 1", [kept.userId]));
  assert.deepEqual(rows[0].data, { existed: true, reason: 'kek_epoch_destroyed', kekId: stale.kek_id });
  assert.deepEqual(await shredOrphans(cdb, ring), { keys: 0, passkeys: 0, nonces: 0, destroyedEpochKeys: 0, vanishedTenantRows: 0 }, 'nothing left');
  // The custodian still sees no other tenant's rows without a tenant scope.
  assert.equal((await cdb.transaction((sql) => sql.query('SELECT 1 FROM custodian_keys'))).rowCount, 0);
});

test('the custodian timer rotates an epoch that is due, reports ids and counts only, and stops when asked', async () => {
  const ring = testKekRing(newKek('w7'));
  const custodian = createLocalCustodian({ db: cdb, kv, keks: ring, rp: TEST_RP });
  const user = await enrolled(custodian, 'acme');
  const set = ring.reload();
  const old = { ...set.epochs[0], createdAt: Date.now() - 31 * 86_400_000 };
  ring.write({ epochs: [old], destroyed: set.destroyed });
  const reports: MaintenanceReport[] = [];
  const stop = scheduleCustodianMaintenance({ db: cdb, ring, epochDays: 30 }, { report: (r) => reports.push(r), error: (e) => assert.fail(e as Error) }, { firstMs: 10, intervalMs: 60_000 });
  while (reports.length === 0) await new Promise((r) => setTimeout(r, 50));
  await stop();
  assert.equal(reports.length, 1);
  assert.ok(reports[0].rotation.created);
  assert.deepEqual(reports[0].rotation.destroyed, [old.id]);
  const printed = JSON.stringify(reports[0]);
  assert.ok(!printed.includes(old.key.toString('base64')) && !printed.includes(ring.current().key.toString('base64')), 'no key material in the report');
  assert.equal(await user.decide(), 'accept');
});
