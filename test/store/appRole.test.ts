/**
 * The server connected exactly as production's is: a login role with only facegate_app's
 * privileges (DATABASE_URL), the owner only for migrations. It runs everything the server does
 * (tenant creation, the expired-row sweep, a full start in production mode), and cannot delete,
 * rewrite or unprotect audit rows, nor see past row-level security. Postgres only: PGlite is
 * single-user.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readdirSync, copyFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { appendAudit } from '../../src/audit/log.ts';
import type { AuditHead } from '../../src/audit/chain.ts';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import { createTenant, ensureTenant } from '../../src/account/tenants.ts';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/main.ts';
import { sweepExpiredPayloads } from '../../src/oidc/adapter.ts';
import { auditRewritePowers } from '../../src/store/connectionRole.ts';
import { openDatabase, type Database } from '../../src/store/db.ts';
import { migrate, MIGRATIONS_DIR } from '../../src/store/migrate.ts';
import { run as migrateCli } from '../../src/store/cli.ts';
import { freshDatabase, freshKeyValueStore, TEST_APP_LOGIN, type TestDatabase } from '../support/services.ts';
import { freePort } from '../support/server.ts';

const skip = process.env.DATABASE_URL ? false : 'needs Postgres (DATABASE_URL)';

describe('the server as the app login role', { skip }, () => {
  let owner: TestDatabase;
  let app: Database;
  let raw: pg.Client;
  const heads: AuditHead[] = [];

  before(async () => {
    owner = await freshDatabase();
    app = openDatabase({ url: owner.appUrl, dataKey: owner.dataKey });
    app.audit.onHead((h) => heads.push(h));
    raw = new pg.Client({ connectionString: owner.appUrl });
    await raw.connect();
  });
  after(async () => {
    await raw.end();
    await app.close();
    await owner.close();
  });

  it('connects as the login role, which holds only the app role', async () => {
    const { rows } = await raw.query('SELECT current_user AS u, session_user AS s');
    assert.deepEqual(rows[0], { u: TEST_APP_LOGIN, s: TEST_APP_LOGIN });
    assert.deepEqual(await auditRewritePowers(app), []);
    assert.match((await auditRewritePowers(owner)).join(), /superuser/);
  });

  it('finds the schema current, and cannot apply a pending migration', async () => {
    assert.deepEqual(await migrate(app), []);
    const dir = mkdtempSync(path.join(tmpdir(), 'fg-mig-'));
    try {
      for (const f of readdirSync(MIGRATIONS_DIR)) copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
      writeFileSync(path.join(dir, '9999_next.sql'), 'CREATE TABLE next_thing (id int);');
      await assert.rejects(migrate(app, dir), { name: 'ConfigError', message: /npm run migrate.*DATABASE_OWNER_URL/ });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`facegate migrate` applies the schema as DATABASE_OWNER_URL; the app login alone may not', async () => {
    const name = `facegate_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: owner.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const at = (user?: string) => {
      const u = new URL(owner.url!);
      u.pathname = `/${name}`;
      if (user) u.username = user;
      return u.toString();
    };
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
    const env = { DATABASE_URL: at(TEST_APP_LOGIN), FACEGATE_DATA_KEY: `k1:${randomBytes(32).toString('base64')}`, DATA_DIR: '/nonexistent' };
    try {
      await assert.rejects(migrateCli(['migrate'], io, env), { name: 'ConfigError', message: /npm run migrate/ });
      assert.equal(await migrateCli(['migrate'], io, { ...env, DATABASE_OWNER_URL: at() }), 0);
      assert.match(out.join(), /applied 0001_core\.sql, .*0003_/);
      assert.equal(await migrateCli(['migrate'], io, env), 0, 'the app login finds it up to date');
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('creates tenants and appends keyed audit rows, publishing each head', async () => {
    await createTenant(app, { id: 'acme', name: 'Acme' }, 'test');
    assert.equal(await ensureTenant(app, { id: 'globex', name: 'Globex' }, 'test'), true);
    assert.equal(await ensureTenant(app, { id: 'globex', name: 'Globex' }, 'test'), false);
    await app.withTenant('acme', (sql) => appendAudit(sql, 'acme', { type: 'test.event' }));
    assert.deepEqual(heads.map((h) => [h.tenant, h.seq]), [['acme', 1], ['globex', 1], ['acme', 2]]);
    assert.partialDeepStrictEqual(await verifyAuditChain(app, 'acme', [heads[2]]), { ok: true, checked: 2 });
  });

  it('sweeps expired OIDC rows of every tenant', async () => {
    for (const t of ['acme', 'globex']) {
      await app.statement(t, `INSERT INTO oidc_payloads (tenant_id, model, id, payload, expires_at) VALUES ($1, 'Session', 'old', '{}', now() - interval '1 minute'), ($1, 'Session', 'live', '{}', now() + interval '1 hour')`, [t]);
    }
    assert.equal(await sweepExpiredPayloads(app), 2);
    const { rows } = await owner.asOwner((sql) => sql.query('SELECT tenant_id, id FROM oidc_payloads ORDER BY tenant_id'));
    assert.deepEqual(rows, [{ tenant_id: 'acme', id: 'live' }, { tenant_id: 'globex', id: 'live' }]);
  });

  it('cannot delete, rewrite or unprotect audit rows, nor delete a tenant', async () => {
    for (const statement of [
      `DELETE FROM audit_events WHERE tenant_id = 'acme' AND seq = 2`,
      `UPDATE audit_events SET type = 'x' WHERE tenant_id = 'acme'`,
      'TRUNCATE audit_events',
      `DELETE FROM tenants WHERE id = 'acme'`,
      `UPDATE tenants SET name = 'x'`,
      'ALTER TABLE audit_events DISABLE ROW LEVEL SECURITY',
      'DROP POLICY tenant_isolation ON audit_events',
      'DROP TABLE audit_events',
      'SET ROLE root',
    ]) {
      await raw.query('BEGIN');
      await raw.query(`SELECT set_config('app.tenant_id', 'acme', true)`);
      await assert.rejects(raw.query(statement), /permission denied|must be owner|must be member/, statement);
      await raw.query('ROLLBACK');
    }
    assert.partialDeepStrictEqual(await verifyAuditChain(owner, 'acme', [heads[2]]), { ok: true, checked: 2 });
  });

  it('sees and writes only the tenant of its transaction (no bypass of row-level security)', async () => {
    assert.equal((await raw.query('SELECT count(*)::int AS n FROM audit_events')).rows[0].n, 0);
    await raw.query('BEGIN');
    await raw.query(`SELECT set_config('app.tenant_id', 'globex', true)`);
    assert.deepEqual((await raw.query('SELECT DISTINCT tenant_id FROM audit_events')).rows, [{ tenant_id: 'globex' }]);
    await assert.rejects(
      raw.query(`INSERT INTO audit_events (tenant_id, seq, at, type, prev_hash, hash) VALUES ('acme', 3, now(), 'forged', 'x', 'y')`),
      /row-level security/,
    );
    await raw.query('ROLLBACK');
    await raw.query('SET row_security = off');
    await assert.rejects(raw.query('SELECT * FROM audit_events'), /row-level security/);
    await raw.query('RESET row_security');
  });

  it('starts the server in production, which refuses the owner connection', async () => {
    const port = await freePort();
    const env = {
      NODE_ENV: 'production',
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: 'silent',
      DATA_DIR: '/nonexistent',
      COOKIE_KEYS: randomBytes(32).toString('hex'),
      FACEGATE_DATA_KEY: `k1:${randomBytes(32).toString('base64')}`,
      FACEGATE_KEK: `kek1:${randomBytes(32).toString('base64')}`,
      DEFAULT_TENANT: 'initech',
    };
    const config = loadConfig(env);
    const asOwner = openDatabase({ url: owner.url, dataKey: owner.dataKey });
    const kv = freshKeyValueStore();
    await assert.rejects(startServer(config, { db: asOwner, kv, dataKey: owner.dataKey }), {
      name: 'ConfigError',
      message: /DATABASE_URL must connect as a login role in facegate_app.*superuser.*DATABASE_OWNER_URL/,
    });
    await Promise.all([asOwner.close(), kv.close()]);
    const running = await startServer(config, { db: openDatabase({ url: owner.appUrl, dataKey: owner.dataKey }), kv: freshKeyValueStore(), dataKey: owner.dataKey });
    try {
      const res = await fetch(`${running.url}/t/initech/.well-known/openid-configuration`);
      assert.equal(res.status, 200);
      assert.partialDeepStrictEqual(await verifyAuditChain(owner, 'initech'), { ok: true, checked: 1 });
    } finally {
      await running.close();
    }
  });
});
