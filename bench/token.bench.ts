/**
 * Token endpoint throughput on Postgres + Redis: the provider runs as its own process (as in
 * production), autocannon drives it over loopback. Codes are minted beforehand through the
 * real authorization endpoint (prompt=none on a signed-in session), then exchanged under load;
 * refresh reuses one refresh token (confidential clients' tokens are not rotated).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import * as oidc from 'openid-client';
import { ensureTenant } from '../src/account/tenants.ts';
import { createClient } from '../src/account/clients.ts';
import { createUser } from '../src/account/users.ts';
import { setPin } from '../src/account/pin.ts';
import { FormDriver, formOf } from '../test/support/browser-less.ts';
import { freePort } from '../test/support/server.ts';
import { freshDatabase } from '../test/support/services.ts';
import { createDataKey } from '../src/store/dataKey.ts';
import { postgresCpuSeconds, providerCpuSeconds, round, type BenchPart } from './harness.ts';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIRECT = 'http://127.0.0.1:1/cb';
const CODES = 3000;
const CONNECTIONS = 16;
const REFRESH_SECONDS = 15;

type Load = { rps: number; p50: number; p99: number; non2xx: number; errors: number; total: number; serverCpu: number; pgCpu: number; seconds: number };

async function load(serverPid: number, opts: autocannon.Options): Promise<Load> {
  const cpu0 = providerCpuSeconds(serverPid);
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
    serverCpu: (providerCpuSeconds(serverPid) - cpu0) / seconds,
    pgCpu: (postgresCpuSeconds() - pg0) / seconds,
    seconds,
  };
}

type Scenario = { exchange: Load; refresh: Load; mintRps: number };

async function scenario(workers: number): Promise<Scenario> {
  // The database stays open here (idle) while the provider uses it; closing drops it.
  const db = await freshDatabase(ADMIN_URL);
  await ensureTenant(db, { id: 'default', name: 'Bench' }, 'bench');
  // The provider process must open the client secret sealed here: both use this key.
  const rootKey = randomBytes(32);
  const dataKey = createDataKey([{ id: 'bench', key: rootKey }]);
  const client = await createClient({ db, dataKey }, 'default', { name: 'Bench RP', redirectUris: [REDIRECT] }, 'bench');
  const user = await createUser(db, 'default', { username: 'bench' }, 'bench');
  await setPin(db, 'default', user.id, '135790', 'bench');

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, [path.join(root, 'src/main.ts')], {
    env: { ...process.env, PORT: String(port), PUBLIC_URL: base, DATABASE_URL: db.url, REDIS_URL, LOG_LEVEL: 'warn', FACEGATE_DATA_KEY: `bench:${rootKey.toString('base64')}`, COOKIE_KEYS: randomBytes(32).toString('hex'), WORKERS: String(workers) },
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

    return { exchange, refresh, mintRps };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await db.close();
  }
}

export default async function run(): Promise<BenchPart> {
  const runs: [number, Scenario][] = [];
  for (const workers of [1, 2]) runs.push([workers, await scenario(workers)]);
  const best = (pick: (s: Scenario) => Load) => runs.reduce((a, b) => (pick(b[1]).rps > pick(a[1]).rps ? b : a));
  const [exWorkers, exBest] = best((s) => s.exchange);
  const [rfWorkers, rfBest] = best((s) => s.refresh);
  const row = (name: string, workers: number, l: Load) =>
    `| ${name} | ${workers} | ${l.total} | ${round(l.rps, 0)} | ${l.p50} | ${l.p99} | ${l.non2xx + l.errors} | ${round(l.serverCpu, 2)} | ${round(l.pgCpu, 2)} |`;
  const rows = runs.flatMap(([w, s]) => [row('authorization_code', w, s.exchange), row('refresh_token', w, s.refresh)]).join('\n');
  return {
    title: 'Token endpoint (Postgres + Redis)',
    results: {
      'token.code_exchange_rps': { value: round(exBest.exchange.rps, 1), unit: 'req/s' },
      'token.code_exchange_p99_ms': { value: exBest.exchange.p99, unit: 'ms' },
      'token.refresh_rps': { value: round(rfBest.refresh.rps, 1), unit: 'req/s' },
      'token.refresh_p99_ms': { value: rfBest.refresh.p99, unit: 'ms' },
      'token.code_exchange_rps_1proc': { value: round(runs[0][1].exchange.rps, 1), unit: 'req/s' },
      'token.refresh_rps_1proc': { value: round(runs[0][1].refresh.rps, 1), unit: 'req/s' },
      'token.authorize_prompt_none_rps': { value: round(runs[0][1].mintRps, 1), unit: 'req/s' },
    },
    markdown: `The provider runs as its own process tree (\`WORKERS\` = 1 or 2 processes sharing the port through node:cluster), Postgres and Redis on the same 2-core machine, autocannon with ${CONNECTIONS} connections in the bench process (which takes CPU too). Code exchange: ${CODES} codes minted beforehand through \`/auth?prompt=none\` on a signed-in session (${round(runs[0][1].mintRps, 0)} req/s with one process), each exchanged once with PKCE and client_secret_basic, RS256 ID token issued. Refresh: ${REFRESH_SECONDS} s on one refresh token (confidential client, not rotated). Target ≥ 500 token requests/s. Headline figures in results.json are the better of the two process counts (code exchange: ${exWorkers}, refresh: ${rfWorkers}).

| grant | processes | requests | req/s | p50 ms | p99 ms | failed | provider CPU (cores) | Postgres CPU (cores) |
|---|---|---|---|---|---|---|---|---|
${rows}

Where the time goes: the CPU columns are cores busy on average during the run (2 in all; the load generator uses the rest). A code exchange is 7 single-statement transactions (client, code, grant lookups, the consumed flag, account, access and refresh token writes), each one round trip (\`Database.statement\`), then an RS256 ID token signature; a refresh is 5. When provider + Postgres + load generator fill both cores, the machine is the limit, not a lock or a pool.`,
  };
}
