/**
 * Token endpoint throughput on Postgres + Redis: the provider runs as its own process (as in
 * production), autocannon drives it over loopback. Codes are minted beforehand through the
 * real authorization endpoint (prompt=none on a signed-in session), then exchanged under load;
 * refresh reuses one refresh token (confidential clients' tokens are not rotated).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import * as oidc from 'openid-client';
import { openDatabase } from '../src/store/db.ts';
import { migrate } from '../src/store/migrate.ts';
import { ensureTenant } from '../src/account/tenants.ts';
import { createClient } from '../src/account/clients.ts';
import { createUser } from '../src/account/users.ts';
import { setPin } from '../src/account/pin.ts';
import { FormDriver, formOf } from '../test/support/browser-less.ts';
import { freePort } from '../test/support/server.ts';
import { round, type BenchPart } from './harness.ts';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIRECT = 'http://127.0.0.1:1/cb';
const CODES = 3000;
const CONNECTIONS = 16;
const REFRESH_SECONDS = 15;

/** CPU seconds (user + system) used so far by one process. */
function cpuSeconds(pid: number | string): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of every postgres process on the machine. */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') total += cpuSeconds(pid);
    } catch {
      // the process exited between listing and reading
    }
  }
  return total;
}

async function freshBenchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `facegate_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

type Load = { rps: number; p50: number; p99: number; non2xx: number; errors: number; total: number; serverCpu: number; pgCpu: number; seconds: number };

async function load(serverPid: number, opts: autocannon.Options): Promise<Load> {
  const cpu0 = cpuSeconds(serverPid);
  const pg0 = postgresCpuSeconds();
  const t0 = performance.now();
  const r = await autocannon(opts);
  const seconds = (performance.now() - t0) / 1000;
  return {
    rps: r.requests.total / seconds,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    total: r.requests.total,
    serverCpu: (cpuSeconds(serverPid) - cpu0) / seconds,
    pgCpu: (postgresCpuSeconds() - pg0) / seconds,
    seconds,
  };
}

export default async function run(): Promise<BenchPart> {
  const database = await freshBenchDatabase();
  const db = openDatabase({ url: database.url });
  await migrate(db);
  await ensureTenant(db, { id: 'default', name: 'Bench' }, 'bench');
  const client = await createClient(db, 'default', { name: 'Bench RP', redirectUris: [REDIRECT] }, 'bench');
  const user = await createUser(db, 'default', { username: 'bench' }, 'bench');
  await setPin(db, 'default', user.id, '135790', 'bench');
  await db.close();

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, [path.join(root, 'src/main.ts')], {
    env: { ...process.env, PORT: String(port), PUBLIC_URL: base, DATABASE_URL: database.url, REDIS_URL, LOG_LEVEL: 'warn', COOKIE_KEYS: randomBytes(32).toString('hex') },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    for (let i = 0; ; i++) {
      if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) break;
      if (i > 100) throw new Error('provider did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const config = await oidc.discovery(new URL(`${base}/t/default`), client.clientId, client.clientSecret!, undefined, { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const challenge = await oidc.calculatePKCECodeChallenge(verifier);
    const authUrl = (extra: Record<string, string>) =>
      oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', ...extra }).toString();

    // One real sign-in and consent, with offline_access for the refresh part.
    const driver = new FormDriver(base);
    let page = await driver.follow(await driver.get(authUrl({ scope: 'openid offline_access', prompt: 'consent' })));
    const identify = formOf(page.html, '/identify');
    page = await driver.post(identify.action, { ...identify.fields, username: 'bench' });
    const pin = formOf(page.html, '/pin');
    page = await driver.follow(await driver.post(pin.action, { ...pin.fields, pin: '135790' }));
    const consent = formOf(page.html, '/consent');
    page = await driver.follow(await driver.post(consent.action, consent.fields));
    const first = await oidc.authorizationCodeGrant(config, new URL(page.location!), { pkceCodeVerifier: verifier, idTokenExpected: true });
    const refreshToken = first.refresh_token!;

    // Mint codes through the authorization endpoint (no interaction: session and grant exist).
    const codes: string[] = [];
    const mintStart = performance.now();
    while (codes.length < CODES) {
      const batch = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const res = await driver.get(authUrl({ prompt: 'none' }));
          return new URL(res.location!).searchParams.get('code');
        }),
      );
      for (const code of batch) if (code) codes.push(code);
    }
    const mintRps = CODES / ((performance.now() - mintStart) / 1000);

    const auth = `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret!)}`).toString('base64')}`;
    const headers = { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' };
    let next = 0;
    const exchange = await load(server.pid!, {
      url: `${base}/t/default/token`,
      connections: CONNECTIONS,
      amount: CODES,
      requests: [
        {
          method: 'POST',
          headers,
          setupRequest: (req) => ({
            ...req,
            body: new URLSearchParams({ grant_type: 'authorization_code', code: codes[next++], redirect_uri: REDIRECT, code_verifier: verifier }).toString(),
          }),
        },
      ],
    });
    const refresh = await load(server.pid!, {
      url: `${base}/t/default/token`,
      connections: CONNECTIONS,
      duration: REFRESH_SECONDS,
      method: 'POST',
      headers,
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
    });

    const row = (name: string, l: Load) =>
      `| ${name} | ${l.total} | ${round(l.rps, 0)} | ${l.p50} | ${l.p99} | ${l.non2xx + l.errors} | ${round(l.serverCpu, 2)} | ${round(l.pgCpu, 2)} |`;
    return {
      title: 'Token endpoint (Postgres + Redis)',
      results: {
        'token.code_exchange_rps': { value: round(exchange.rps, 1), unit: 'req/s' },
        'token.code_exchange_p99_ms': { value: exchange.p99, unit: 'ms' },
        'token.refresh_rps': { value: round(refresh.rps, 1), unit: 'req/s' },
        'token.refresh_p99_ms': { value: refresh.p99, unit: 'ms' },
        'token.authorize_prompt_none_rps': { value: round(mintRps, 1), unit: 'req/s' },
      },
      markdown: `Provider in its own Node process (one event loop), Postgres and Redis on the same 2-core machine, autocannon with ${CONNECTIONS} connections in the bench process. Target ≥ 500 token requests/s.

| grant | requests | req/s | p50 ms | p99 ms | failed | provider CPU (cores) | Postgres CPU (cores) |
|---|---|---|---|---|---|---|---|
${row('authorization_code (+ PKCE, ID token, client_secret_basic)', exchange)}
${row('refresh_token', refresh)}

Codes were minted beforehand through \`/auth?prompt=none\` at ${round(mintRps, 0)} req/s (8 in flight).

Where the time goes: the CPU columns are cores busy on average during the run (2 available; the load generator takes the rest). A code exchange reads the code, client, grant and session and writes the consumed flag and the access token (each a short transaction: one round trip to enter the tenant scope, the statement, COMMIT), then signs an RS256 ID token (~1 ms of CPU). When the provider column is near 1.0, the single Node process is the limit; running one provider process per core behind a load balancer (they are stateless) is how to scale.`,
    };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await database.drop();
  }
}
