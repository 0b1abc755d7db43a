/**
 * The admin CLI end to end against a fresh database: Postgres when DATABASE_URL is set,
 * otherwise PGlite in a temporary data directory. Errors surface through bin/facegate.ts's
 * `main`, exactly as an operator sees them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'otplib';
import { main } from '../../bin/facegate.ts';
import { run } from '../../src/account/cli.ts';
import { run as runAudit } from '../../src/audit/cli.ts';
import { FacegateError } from '../../src/errors.ts';
import { freshDatabase, type TestDatabase } from '../support/services.ts';

let env: Record<string, string | undefined>;
let pg: TestDatabase | undefined;
let dataDir: string | undefined;

before(async () => {
  if (process.env.DATABASE_URL) {
    pg = await freshDatabase();
    env = { DATABASE_URL: pg.url };
  } else {
    dataDir = mkdtempSync(path.join(tmpdir(), 'facegate-cli-'));
    env = { DATA_DIR: dataDir };
  }
});
after(async () => {
  await pg?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

type Result = { code: number; out: string; err: string; error?: FacegateError };

async function cli(args: string[], readLine?: () => Promise<string>): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  try {
    const code = args[0] === 'audit' ? await runAudit(args, io, env) : await run(args, io, { env, readLine });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } catch (e) {
    if (!(e instanceof FacegateError)) throw e;
    return { code: 1, out: out.join('\n'), err: err.join('\n'), error: e };
  }
}

function expectError(r: Result, code: string) {
  assert.equal(r.code, 1);
  assert.equal(r.error?.code, code, `expected ${code}, got ${r.error?.code ?? 'success'}: ${r.error?.message ?? r.out}`);
}

describe('facegate tenant|client|user', () => {
  let clientId = '';

  it('creates and lists a tenant', async () => {
    assert.equal((await cli(['tenant', 'create', '--id', 'acme', '--name', 'Acme'])).code, 0);
    assert.match((await cli(['tenant', 'list'])).out, /^acme\tAcme\t/m);
  });

  it('creates a confidential client, printing its secret once', async () => {
    const r = await cli(['client', 'create', '--tenant', 'acme', '--redirect-uri', 'https://app.example/cb', '--redirect-uri', 'http://localhost:3000/cb',
      '--post-logout-redirect-uri', 'https://app.example/bye', '--min-acr', 'urn:facegate:loa:2', '--name', 'App']);
    assert.equal(r.code, 0, r.err);
    clientId = /client_id: (\S+)/.exec(r.out)![1];
    const secret = /client_secret: (\S+)/.exec(r.out)![1];
    const list = (await cli(['client', 'list', '--tenant', 'acme'])).out;
    assert.match(list, new RegExp(`^${clientId}\\tconfidential\\tApp\\turn:facegate:loa:2\\tauthorization_code,refresh_token\\thttps://app.example/cb http://localhost:3000/cb$`, 'm'));
    assert.ok(!list.includes(secret));
  });

  it('creates a public client and changes a min_acr', async () => {
    const r = await cli(['client', 'create', '--tenant', 'acme', '--redirect-uri', 'http://127.0.0.1:8080/cb', '--public', '--grant-types', 'authorization_code', '--client-id', 'spa']);
    assert.equal(r.code, 0);
    assert.ok(!r.out.includes('client_secret'));
    assert.equal((await cli(['client', 'set-min-acr', '--tenant', 'acme', '--client-id', 'spa', '--min-acr', 'urn:facegate:loa:3'])).code, 0);
    assert.equal((await cli(['client', 'set-min-acr', '--tenant', 'acme', '--client-id', clientId, '--min-acr', 'none'])).code, 0);
    const list = (await cli(['client', 'list', '--tenant', 'acme'])).out;
    assert.match(list, /^spa\tpublic\t-\turn:facegate:loa:3\t/m);
    assert.match(list, new RegExp(`^${clientId}\\tconfidential\\tApp\\t-\\t`, 'm'));
  });

  it('creates users, sets a PIN from a flag or stdin, enrolls and confirms TOTP', async () => {
    assert.equal((await cli(['user', 'create', '--tenant', 'acme', '--username', 'alice', '--email', 'alice@acme.example'])).code, 0);
    assert.equal((await cli(['user', 'set-pin', '--tenant', 'acme', '--username', 'alice', '--pin', '482913'])).code, 0);
    assert.equal((await cli(['user', 'set-pin', '--tenant', 'acme', '--username', 'alice'], async () => '570126\n')).code, 0);
    const e = await cli(['user', 'enroll-totp', '--tenant', 'acme', '--username', 'alice']);
    assert.equal(e.code, 0);
    const uri = /otpauth:\/\/totp\/\S+/.exec(e.out)![0];
    assert.match(uri, /issuer=facegate%20\(acme\)/);
    const secret = new URL(uri).searchParams.get('secret')!;
    expectError(await cli(['user', 'confirm-totp', '--tenant', 'acme', '--username', 'alice', '--code', '000000']), 'totp.invalid_code');
    assert.equal((await cli(['user', 'confirm-totp', '--tenant', 'acme', '--username', 'alice', '--code', await generate({ secret })])).code, 0);
    expectError(await cli(['user', 'enroll-totp', '--tenant', 'acme', '--username', 'alice']), 'totp.already_enrolled');
    assert.match((await cli(['user', 'list', '--tenant', 'acme'])).out, /^alice\t[0-9a-f-]{36}\talice@acme\.example$/m);
  });

  it('rejects bad input with stable codes', async () => {
    expectError(await cli(['tenant', 'create', '--id', 'acme', '--name', 'Again']), 'tenant.exists');
    expectError(await cli(['tenant', 'create', '--id', 'Bad Id', '--name', 'x']), 'tenant.invalid_id');
    expectError(await cli(['tenant', 'create', '--name', 'x']), 'cli.missing_argument');
    expectError(await cli(['tenant', 'create', '--id', 'x', '--name', 'x', '--bogus']), 'cli.invalid_arguments');
    expectError(await cli(['client', 'create', '--tenant', 'acme', '--redirect-uri', 'http://app.example/cb']), 'client.invalid_redirect_uri');
    expectError(await cli(['client', 'create', '--tenant', 'acme', '--redirect-uri', 'https://app.example/cb', '--grant-types', 'authorization_code,implicit']), 'client.invalid_grant_type');
    expectError(await cli(['client', 'create', '--tenant', 'acme', '--redirect-uri', 'https://app.example/cb', '--min-acr', 'urn:facegate:loa:9']), 'client.invalid_min_acr');
    expectError(await cli(['client', 'create', '--tenant', 'nope', '--redirect-uri', 'https://app.example/cb']), 'tenant.not_found');
    const create = ['client', 'create', '--tenant', 'acme', '--redirect-uri', 'https://app.example/cb'];
    expectError(await cli([...create, '--auth-method', 'client_secret_jwt']), 'client.invalid_auth_method');
    expectError(await cli([...create, '--auth-method', 'private_key_jwt']), 'client.missing_jwks_uri');
    expectError(await cli([...create, '--auth-method', 'private_key_jwt', '--jwks-uri', 'http://127.0.0.1:8080/jwks']), 'client.invalid_jwks_uri');
    expectError(await cli([...create, '--auth-method', 'client_secret_post', '--jwks-uri', 'https://app.example/jwks']), 'client.unexpected_jwks_uri');
    expectError(await cli([...create, '--public', '--auth-method', 'client_secret_basic']), 'client.conflicting_auth_method');
    expectError(await cli(['user', 'create', '--tenant', 'acme', '--username', 'alice']), 'user.exists');
    expectError(await cli(['user', 'create', '--tenant', 'acme', '--username', 'bad name']), 'user.invalid_username');
    expectError(await cli(['user', 'set-pin', '--tenant', 'acme', '--username', 'alice', '--pin', '1234']), 'pin.invalid_format');
    expectError(await cli(['user', 'set-pin', '--tenant', 'acme', '--username', 'ghost', '--pin', '482913']), 'user.not_found');
    const consents = await cli(['user', 'consents', '--tenant', 'acme', '--username', 'alice']);
    assert.deepEqual([consents.code, consents.out], [0, ''], 'no sign-in yet, so no consent');
    expectError(await cli(['user', 'revoke-consent', '--tenant', 'acme', '--username', 'alice', '--client-id', 'spa']), 'consent.not_found');
    expectError(await cli(['user', 'revoke-consent', '--tenant', 'acme', '--username', 'alice']), 'cli.missing_argument');
    assert.equal((await cli(['user', 'frobnicate'])).code, 2);
  });

  it('rejected commands wrote nothing: the audit chain verifies and holds only the successful changes', async () => {
    const r = await cli(['audit', 'verify', '--tenant', 'acme']);
    assert.equal(r.code, 0, r.err);
    // tenant, 2 clients, 2 min_acr changes, user, 2 PINs, TOTP started + enrolled
    assert.match(r.out, /ok \(10 events\)/);
    expectError(await cli(['audit', 'verify', '--tenant', 'nope']), 'tenant.not_found');
  });
});

describe('facegate resource', () => {
  it('creates a resource server, printing its introspection secret once, and lists it', async () => {
    const r = await cli(['resource', 'create', '--tenant', 'acme', '--uri', 'https://api.acme.example', '--scope', 'read', '--scope', 'payments:write']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^resource server https:\/\/api\.acme\.example \(audience https:\/\/api\.acme\.example, jwt access tokens, scopes: read payments:write\)$/m);
    const clientId = /introspection client_id: (\S+)/.exec(r.out)![1];
    const secret = /introspection client_secret: (\S+)/.exec(r.out)![1];
    assert.equal((await cli(['resource', 'create', '--tenant', 'acme', '--uri', 'https://ledger.acme.example', '--audience', 'ledger', '--token-format', 'opaque'])).code, 0);
    const list = (await cli(['resource', 'list', '--tenant', 'acme'])).out;
    assert.equal(list, [`https://api.acme.example\thttps://api.acme.example\tjwt\tread payments:write\t${clientId}`, /^https:\/\/ledger\.acme\.example\tledger\topaque\t-\t\S+$/m.exec(list)![0]].join('\n'));
    assert.ok(!list.includes(secret));
  });

  it('rejects bad input with stable codes', async () => {
    expectError(await cli(['resource', 'create', '--tenant', 'acme']), 'cli.missing_argument');
    expectError(await cli(['resource', 'create', '--tenant', 'acme', '--uri', 'http://api.acme.example']), 'resource.invalid_uri');
    expectError(await cli(['resource', 'create', '--tenant', 'acme', '--uri', 'https://x.acme.example', '--scope', 'openid']), 'resource.invalid_scope');
    expectError(await cli(['resource', 'create', '--tenant', 'acme', '--uri', 'https://x.acme.example', '--token-format', 'paseto']), 'resource.invalid_token_format');
    expectError(await cli(['resource', 'create', '--tenant', 'acme', '--uri', 'https://api.acme.example']), 'resource.exists');
    expectError(await cli(['resource', 'create', '--tenant', 'nope', '--uri', 'https://api.acme.example']), 'tenant.not_found');
    expectError(await cli(['resource', 'list', '--bogus']), 'cli.invalid_arguments');
    assert.equal((await cli(['resource', 'delete'])).code, 2);
  });
});

describe('facegate client create --auth-method', () => {
  it('makes a secret for client_secret_post, none for private_key_jwt (with its jwks_uri) or none', async () => {
    const create = ['client', 'create', '--tenant', 'acme', '--redirect-uri', 'https://app.example/cb'];
    const post = await cli([...create, '--auth-method', 'client_secret_post']);
    assert.equal(post.code, 0, post.error?.message ?? post.err);
    assert.match(post.out, /client_secret: \S{43}/);
    const jwt = await cli([...create, '--auth-method', 'private_key_jwt', '--jwks-uri', 'https://app.example/jwks', '--client-id', 'signer']);
    assert.equal(jwt.code, 0, jwt.error?.message ?? jwt.err);
    assert.ok(!jwt.out.includes('client_secret'));
    const none = await cli([...create, '--auth-method', 'none', '--client-id', 'native']);
    assert.equal(none.code, 0, none.error?.message ?? none.err);
    assert.ok(!none.out.includes('client_secret'));
    assert.match((await cli(['client', 'list', '--tenant', 'acme'])).out, /^native\tpublic\t/m);
  });
});

describe('bin/facegate.ts dispatch', () => {
  it('renders a typed error once as "error <code>: …" with exit code 1', async () => {
    const err: string[] = [];
    const code = await main(['user', 'create', '--username', 'x', '--bogus'], { out: () => {}, err: (l) => err.push(l) });
    assert.equal(code, 1);
    assert.match(err[0], /^error cli\.invalid_arguments: /);
  });
});
