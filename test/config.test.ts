import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.ts';
import { ConfigError } from '../src/errors.ts';

test('embedded defaults: no database or redis URL, in-process custodian', () => {
  const c = loadConfig({});
  assert.equal(c.port, 3000);
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.redisUrl, undefined);
  assert.equal(c.custodian.mode, 'inprocess');
  assert.equal(c.publicUrl, 'http://localhost:3000');
});

test('invalid values fail at startup naming the variable', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'abc' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ DATABASE_URL: 'not a url' }, /DATABASE_URL/],
    [{ COOKIE_KEYS: 'short' }, /COOKIE_KEYS/],
    [{ FACEGATE_KEK: 'k1:AAAA' }, /FACEGATE_KEK/],
    [{ CUSTODIAN_URL: 'http://127.0.0.1:3100' }, /CUSTODIAN_TOKEN/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ DEFAULT_TENANT: 'Bad Tenant' }, /DEFAULT_TENANT/],
    [{ WORKERS: '2' }, /WORKERS > 1 needs DATABASE_URL and REDIS_URL/],
  ];
  for (const [env, message] of cases) assert.throws(() => loadConfig(env), (e) => e instanceof ConfigError && message.test(e.message), JSON.stringify(env));
});

test('production requires explicit secrets', () => {
  assert.throws(() => loadConfig({ NODE_ENV: 'production' }), /COOKIE_KEYS/);
  const keys = 'k'.repeat(40);
  assert.throws(() => loadConfig({ NODE_ENV: 'production', COOKIE_KEYS: keys }), /FACEGATE_DATA_KEY/);
  const dk = `d1:${Buffer.alloc(32, 9).toString('base64')}`;
  assert.throws(() => loadConfig({ NODE_ENV: 'production', COOKIE_KEYS: keys, FACEGATE_DATA_KEY: dk }), /FACEGATE_KEK/);
  const kek = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
  const c = loadConfig({ NODE_ENV: 'production', COOKIE_KEYS: keys, FACEGATE_KEK: kek, FACEGATE_DATA_KEY: dk });
  assert.equal(c.kek[0].id, 'k1');
  assert.equal(c.dataKeys[0].id, 'd1');
  // A provider that uses a separate custodian holds no secret keys, so needs no KEK.
  const remote = loadConfig({ NODE_ENV: 'production', COOKIE_KEYS: keys, FACEGATE_DATA_KEY: dk, CUSTODIAN_URL: 'http://127.0.0.1:3100', CUSTODIAN_TOKEN: 't'.repeat(32) });
  assert.equal(remote.custodian.mode, 'remote');
  assert.deepEqual(remote.kek, []);
});
