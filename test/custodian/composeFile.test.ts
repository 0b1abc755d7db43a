/**
 * docker-compose.yml cannot run here; this checks what it promises about the custodian: its own
 * build (not the provider's image, no `npm ci` at start, no writable bind mount of the checkout),
 * its own database login in facegate_custodian, production mode, a private network with no
 * published port that only the provider shares, and mutual TLS on it with each side's own
 * certificate (the services' environments pass production's configuration checks).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { makeDevCerts } from '../../src/custodian/devCerts.ts';
import { checkCustodianListen } from '../../src/custodian/listen.ts';
import { parseComposeYaml } from '../support/composeYaml.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const compose = parseComposeYaml(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as Record<string, any>;
const services = compose.services as Record<string, any>;
const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

test('the custodian runs from its own build target, not a shared writable checkout', () => {
  const c = services.custodian;
  assert.deepEqual(c.build, { context: '.', target: 'custodian' });
  assert.equal(c.image, undefined, 'built here, not a generic node image running the mounted checkout');
  assert.ok(!/npm (ci|install)/.test(JSON.stringify(c.command ?? '')), 'nothing installed at start');
  assert.equal(c.read_only, 'true');
  for (const [name, s] of Object.entries(services)) {
    for (const v of (s.volumes ?? []) as string[]) {
      const [source, , mode] = v.split(':');
      const bind = source.startsWith('.') || source.startsWith('/');
      if (bind) assert.equal(mode, 'ro', `${name}: bind mount ${v} must be read-only`);
      if (name === 'custodian') assert.ok(!bind, `the custodian mounts no host directory (${v})`);
    }
  }
  const shared = ((c.volumes ?? []) as string[]).map((v) => v.split(':')[0]).filter((vol) => services.facegate.volumes.some((f: string) => f.split(':')[0] === vol));
  assert.deepEqual(shared, [], 'no volume shared with the provider');
  assert.match(dockerfile, /^FROM \S+ AS custodian$/m);
  assert.match(dockerfile, /^RUN npm ci --omit=dev$/m, 'dependencies are installed into the image at build time');
  const custodianStage = dockerfile.slice(dockerfile.indexOf('AS custodian'), dockerfile.indexOf('AS app'));
  assert.match(custodianStage, /USER node/);
  assert.doesNotMatch(custodianStage, /COPY (views|models)/, 'no views or face models in the custodian image');
});

test('the custodian has its own database login and runs in production', () => {
  const env = services.custodian.environment;
  assert.equal(env.NODE_ENV, 'production');
  assert.equal(env.DATABASE_URL, undefined, 'not the provider’s DSN');
  const own = new URL(env.CUSTODIAN_DATABASE_URL);
  const provider = new URL(services.facegate.environment.DATABASE_URL);
  assert.notEqual(own.username, provider.username);
  assert.match(compose.configs['db-logins'].content, new RegExp(`CREATE ROLE ${own.username} LOGIN .*IN ROLE facegate_custodian;`));
  assert.doesNotMatch(compose.configs['db-logins'].content, new RegExp(`CREATE ROLE ${provider.username} .*facegate_custodian`));
  assert.equal(services.facegate.environment.FACEGATE_KEK, undefined, 'the provider holds no KEK');
  assert.match(services.facegate.environment.CUSTODIAN_URL, /^https:\/\/custodian:/);
});

test('the custodian is on private networks only and publishes no port', () => {
  const c = services.custodian;
  assert.equal(c.ports, undefined);
  assert.ok(c.networks.length > 0);
  for (const n of c.networks as string[]) assert.equal(compose.networks[n].internal, 'true', `${n} is internal`);
  const reach = Object.entries(services).filter(([name, s]) => name !== 'custodian' && (s.networks as string[]).includes('custodian')).map(([name]) => name);
  assert.deepEqual(reach, ['facegate'], 'only the provider shares the custodian’s network');
});

const secretFile = (name: string) => path.basename(compose.secrets[name].file as string);
const secretsOf = (service: string) => new Map(((services[service].secrets ?? []) as string[]).map((name) => [`/run/secrets/${name}`, secretFile(name)]));

test('mutual TLS: each side is given its own certificate and key and the CA, read-only; no service gets the CA key', () => {
  const custodian = secretsOf('custodian');
  const provider = secretsOf('facegate');
  const env = (service: string, name: string) => services[service].environment[name] as string;
  assert.deepEqual(['CUSTODIAN_TLS_CERT', 'CUSTODIAN_TLS_KEY', 'CUSTODIAN_TLS_CA'].map((n) => custodian.get(env('custodian', n))), ['custodian.crt', 'custodian.key', 'ca.crt']);
  assert.deepEqual(['CUSTODIAN_CLIENT_CERT', 'CUSTODIAN_CLIENT_KEY', 'CUSTODIAN_TLS_CA'].map((n) => provider.get(env('facegate', n))), ['provider.crt', 'provider.key', 'ca.crt']);
  for (const [name, s] of Object.entries(services)) {
    const files = ((s.secrets ?? []) as string[]).map(secretFile);
    assert.ok(!files.includes('ca.key'), `${name} holds no CA key`);
    if (name !== 'custodian') assert.ok(!files.includes('custodian.key'), `${name} cannot pose as the custodian`);
    if (name !== 'facegate') assert.ok(!files.includes('provider.key'), `${name} cannot pose as the provider`);
  }
});

const certsDir = mkdtempSync(path.join(tmpdir(), 'facegate-compose-'));
after(() => rmSync(certsDir, { recursive: true, force: true }));

test('both services’ environments pass production’s checks: https with a client certificate, TLS when listening off loopback', async () => {
  await makeDevCerts(certsDir, ['custodian']);
  const given: Record<string, string> = {
    FACEGATE_KEK: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
    FACEGATE_DATA_KEY: `d1:${Buffer.alloc(32, 2).toString('base64')}`,
    CUSTODIAN_TOKEN: 't'.repeat(32),
    COOKIE_KEYS: 'c'.repeat(32),
  };
  // Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?message}`; /run/secrets/<name> as the made file.
  const resolve = (service: string) => {
    const secrets = secretsOf(service);
    return Object.fromEntries(Object.entries(services[service].environment as Record<string, string>).map(([k, v]) => {
      const value = v.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op: string, rest: string) => given[name] ?? (op === '-' ? rest : ''));
      return [k, secrets.has(value) ? path.join(certsDir, secrets.get(value)!) : value];
    }));
  };
  const provider = loadConfig(resolve('facegate'));
  assert.equal(provider.production, true);
  assert.ok(provider.custodian.mode === 'remote' && 'url' in provider.custodian.endpoint && provider.custodian.endpoint.tls);
  assert.equal(services.custodian.environment.COOKIE_KEYS, undefined, 'the custodian holds none of the provider’s cookie keys');
  const custodian = loadConfig(resolve('custodian'), 'custodian');
  assert.ok(custodian.custodianTls);
  checkCustodianListen(custodian);
  assert.throws(() => checkCustodianListen({ ...custodian, custodianTls: undefined }), /plain HTTP on 0\.0\.0\.0/, 'without its TLS files it would be refused');
});

test('the custodian keeps its KEK epochs in a volume of its own, created owner-only in its image', () => {
  const c = services.custodian;
  const dir = c.environment.CUSTODIAN_KEY_DIR;
  assert.ok(dir, 'CUSTODIAN_KEY_DIR is set (production requires it)');
  const mount = ((c.volumes ?? []) as string[]).find((v) => v.split(':')[1] === dir);
  assert.ok(mount, 'the key directory is a mounted volume (the container is read-only)');
  const volume = mount.split(':')[0];
  assert.ok(Object.hasOwn(compose.volumes, volume), 'a named volume, not a host directory');
  for (const [name, s] of Object.entries(services)) {
    if (name !== 'custodian') assert.ok(!((s.volumes ?? []) as string[]).some((v) => v.split(':')[0] === volume), `${name} does not mount the key volume`);
  }
  const custodianStage = dockerfile.slice(dockerfile.indexOf('AS custodian'), dockerfile.indexOf('AS app'));
  assert.match(custodianStage, new RegExp(`install -d -o node -g node -m 700 ${dir}`));
});
