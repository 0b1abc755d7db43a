import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run as keys } from '../../src/oidc/cli.ts';
import { run as migrateCli } from '../../src/store/cli.ts';
import { loadSigningKeys } from '../../src/oidc/keys.ts';
import { openDatabase } from '../../src/store/db.ts';
import { freshDatabase } from '../support/services.ts';
import { loadConfig } from '../../src/config.ts';
import { resolveDataKey } from '../../src/store/dataKey.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

test('facegate migrate and keys rotate|prune on the configured database', async () => {
  // Real Postgres when DATABASE_URL is set (a fresh database), else PGlite in a temp DATA_DIR.
  const fresh = process.env.DATABASE_URL ? await freshDatabase() : undefined;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fg-cli-'));
  const env = { DATABASE_URL: fresh?.url, DATA_DIR: dataDir };
  // The CLI's key: generated in DATA_DIR on first use, as in the embedded quick start.
  const dataKey = resolveDataKey(loadConfig(env));
  try {
    const m = capture();
    assert.equal(await migrateCli(['migrate'], m.io, env), 0);
    assert.match(m.out[0], fresh ? /up to date/ : /applied 0001_core\.sql/);

    const missing = capture();
    await assert.rejects(keys(['keys', 'rotate', '--tenant', 'nobody'], missing.io, env), (e: { code?: string }) => e.code === 'tenant.not_found');

    const db = fresh ?? openDatabase({ dataDir: path.join(dataDir, 'pglite') });
    await db.asOwner((sql) => sql.query("INSERT INTO tenants (id, name) VALUES ('acme', 'Acme')"));
    const before = (await loadSigningKeys(db, dataKey, 'acme'))[0].kid;
    if (!fresh) await db.close(); // PGlite is single-process: let the CLI open it

    const rotated = capture();
    assert.equal(await keys(['keys', 'rotate', '--tenant', 'acme'], rotated.io, env), 0);
    const kid = /new signing key (\S+)/.exec(rotated.out[0])![1];

    const check = fresh ?? openDatabase({ dataDir: path.join(dataDir, 'pglite') });
    assert.deepEqual((await loadSigningKeys(check, dataKey, 'acme')).map((k) => k.kid), [kid, before]);
    if (!fresh) await check.close();

    const bad = capture();
    await assert.rejects(keys(['keys', 'prune', '--tenant', 'acme', '--older-than-days', '0'], bad.io, env), (e: { code?: string }) => e.code === 'cli.invalid_arguments');
    const pruned = capture();
    assert.equal(await keys(['keys', 'prune', '--tenant', 'acme', '--older-than-days', '1'], pruned.io, env), 0);
    assert.match(pruned.out[0], /removed 0 retired key/, 'a key retired just now is kept');
    await assert.rejects(keys(['keys', 'rotate', '--tenantt', 'acme'], capture().io, env), (e: { code?: string }) => e.code === 'cli.invalid_arguments');
    const usage = capture();
    assert.equal(await keys(['keys', 'frobnicate'], usage.io, env), 2);
  } finally {
    await fresh?.close();
  }
});
