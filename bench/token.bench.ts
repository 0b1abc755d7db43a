/**
 * Token endpoint throughput on Postgres + Redis: the provider runs as its own process (as in
 * production), autocannon drives it over loopback. Codes are minted beforehand through the
 * real authorization endpoint (prompt=none on a signed-in session), then exchanged under load;
 * refresh reuses one refresh token (confidential clients' tokens are not rotated). Bare
 * oidc-provider (bareProvider.ts) is measured in the same run under the same load generator, so
 * the ratio to it holds on a noisy machine where the absolute figures do not.
 * Env: TOKEN_BENCH_WORKERS (default `1,2`) picks the provider process counts, TOKEN_BENCH_CODES
 * (default 3000) the codes exchanged;
 * PROVIDER_NODE_OPTIONS is passed to the provider as NODE_OPTIONS (e.g. `--cpu-prof`).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
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
import pg from 'pg';
import { backendCpuSecondsSince, postgresCpuByPid, postgresCpuSeconds, providerCpuSeconds, providerMainThreadCpuSeconds, round, type BenchPart } from './harness.ts';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIRECT = 'http://127.0.0.1:1/cb';
const CODES = Number(process.env.TOKEN_BENCH_CODES ?? 3000);
/** Codes exchanged before the timed run: the token endpoint's code path is cold after minting
 *  (the first second of a 3,000-code run is JIT warm-up), unlike the 15 s refresh runs. */
const WARM_CODES = 1000;
const CONNECTIONS = 16;
const REFRESH_SECONDS = 15;

type Load = { rps: number; p50: number; p99: number; non2xx: number; errors: number; total: number; serverCpu: number; mainThreadCpu: number; pgCpu: number; dbCpuSeconds?: number; seconds: number };

/** Provider CPU per request: unlike req/s, barely moved by other work on a shared machine. */
const cpuMsPerRequest = (l: Load) => (l.serverCpu * l.seconds * 1000) / l.total;
/** Of that, its main thread's (providerMainThreadCpuSeconds): the part one process cannot spread over cores. */
const mainThreadCpuMsPerRequest = (l: Load) => (l.mainThreadCpu * l.seconds * 1000) / l.total;
/** CPU per request of the provider's database connections (their Postgres backends) alone. */
const pgCpuMsPerRequest = (l: Load) => ((l.dbCpuSeconds ?? 0) * 1000) / l.total;

/** The pids of the Postgres backends connected to the database at `url` (the provider's pool). */
async function backendPids(url: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    return rows.map((r) => r.pid);
  } finally {
    await c.end();
  }
}

/** `load`, also counting the CPU of the database's own backends (see pgCpuMsPerRequest). */
async function loadOnDatabase(serverPid: number, dbUrl: string, opts: autocannon.Options): Promise<Load> {
  const before = postgresCpuByPid();
  const l = await load(serverPid, opts);
  return { ...l, dbCpuSeconds: backendCpuSecondsSince(before, await backendPids(dbUrl)) };
}

async function load(serverPid: number, opts: autocannon.Options): Promise<Load> {
  const cpu0 = providerCpuSeconds(serverPid);
  const main0 = providerMainThreadCpuSeconds(serverPid);
  const pg0 = postgresCpuSeconds();
  const t0 = performance.now();
  // Timed to the last response: with `amount`, autocannon resolves only at its next one-second
  // tick (measured here: 3,000 responses by 0.31 s, resolved at 1.03 s), which made a 3,000-code
  // run read as 3000/4 or 3000/5 requests a second whatever its real rate.
  let last = t0;
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const run = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
    run.on('response', () => (last = performance.now()));
  });
  const seconds = (last - t0) / 1000;
  return {
    rps: r.requests.total / seconds,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    total: r.requests.total,
    serverCpu: (providerCpuSeconds(serverPid) - cpu0) / seconds,
    mainThreadCpu: (providerMainThreadCpuSeconds(serverPid) - main0) / seconds,
    pgCpu: (postgresCpuSeconds() - pg0) / seconds,
    seconds,
  };
}

/** Written from the provider profiles (PROVIDER_NODE_OPTIONS=--cpu-prof) and the CPU columns. */
const WHERE_TIME_GOES = `Where the time goes: the CPU columns are cores busy on average during the run (2 in all; the load generator, Postgres and Redis use the rest; Postgres CPU counts every database on the server, other work included); the main-thread column is the part of the provider's CPU on its JavaScript thread (without libuv's pool, where RS256 signs, and V8's helper threads): one process serves at most about 1000 / that many requests per second; the last column counts only the backends of the provider's own database (\`pg_stat_activity\`), so other work on the server does not. A code exchange reads the client from process memory (clientCache.ts), the code and its consumed marker from Redis (one MGET), then the session, grant and user from Postgres (three simple statements sent together: one round trip), consumes the code in Redis unless its grant was revoked (one atomic script), writes the access token to Redis, and signs one RS256 ID token. A refresh reads the refresh token from Postgres, then its grant and user together, and writes the access token to Redis: 3 statements in 2 round trips, no database write (a public client's rotation adds one statement that consumes the old token and inserts the new). Statements queued while two batches are in flight go to Postgres as one script and one transaction (\`Database.statement\`), so under load a round trip carries several requests' statements. In the provider profile (\`PROVIDER_NODE_OPTIONS=--cpu-prof\`) the largest items are oidc-provider's own request handling (the bare provider's CPU per request is the floor), socket writes (HTTP replies, pg and Redis requests), the HMAC and AES-GCM of hashed ids and sealed payloads, and the RS256 signature (on libuv's thread pool).`;

type Scenario = { exchange: Load; refresh: Load; mintRps: number };

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; ; i++) {
    if (await fetch(url).then((r) => r.status < 500, () => false)) return;
    if (i > 600) throw new Error(`${url} did not start in 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function refreshLoad(measure: (opts: autocannon.Options) => Promise<Load>, url: string, clientId: string, clientSecret: string, refreshToken: string): Promise<Load> {
  const auth = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
  return measure({
    url,
    connections: CONNECTIONS,
    duration: REFRESH_SECONDS,
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
  });
}

/** Bare oidc-provider, in-memory adapter, one process: refreshes under the same load. */
async function bareRefresh(): Promise<Load> {
  const port = await freePort();
  const server = spawn(process.execPath, [path.join(root, 'bench/bareProvider.ts'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    for await (const chunk of server.stdout!) {
      out += chunk;
      if (out.includes('\n')) break;
    }
    const minted = JSON.parse(out) as { issuer: string; clientId: string; clientSecret: string; refreshToken: string };
    const check = await fetch(`${minted.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${minted.clientId}:${minted.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: minted.refreshToken }),
    }).then((r) => r.json() as Promise<{ id_token?: string }>);
    if (!check.id_token) throw new Error(`bare oidc-provider refresh issued no ID token: ${JSON.stringify(check)}`);
    return await refreshLoad((opts) => load(server.pid!, opts), `${minted.issuer}/token`, minted.clientId, minted.clientSecret, minted.refreshToken);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
}

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
    env: { ...process.env, NODE_OPTIONS: process.env.PROVIDER_NODE_OPTIONS ?? '', PORT: String(port), PUBLIC_URL: base, DATABASE_URL: db.url, REDIS_URL, LOG_LEVEL: 'warn', FACEGATE_DATA_KEY: `bench:${rootKey.toString('base64')}`, FACEGATE_KEK: `bench:${randomBytes(32).toString('base64')}`, CUSTODIAN_KEY_DIR: mkdtempSync(path.join(os.tmpdir(), 'facegate-bench-keys-')), COOKIE_KEYS: randomBytes(32).toString('hex'), WORKERS: String(workers) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitHealthy(`${base}/healthz`);
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
    // A few spare: autocannon may prepare a request per connection beyond `amount`.
    while (codes.length < WARM_CODES + CODES + 2 * CONNECTIONS) {
      const batch = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const res = await driver.get(authUrl({ prompt: 'none' }));
          return new URL(res.location!).searchParams.get('code');
        }),
      );
      for (const code of batch) if (code) codes.push(code);
    }
    const mintRps = codes.length / ((performance.now() - mintStart) / 1000);

    const auth = `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret!)}`).toString('base64')}`;
    const headers = { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' };
    let next = 0;
    const exchangeOptions = (amount: number): autocannon.Options => ({
      url: `${base}/t/default/token`,
      connections: CONNECTIONS,
      amount,
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
    await load(server.pid!, exchangeOptions(WARM_CODES));
    const exchange = await loadOnDatabase(server.pid!, db.url!, exchangeOptions(CODES));
    const refresh = await refreshLoad((opts) => loadOnDatabase(server.pid!, db.url!, opts), `${base}/t/default/token`, client.clientId, client.clientSecret!, refreshToken);

    return { exchange, refresh, mintRps };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await db.close();
  }
}

export default async function run(): Promise<BenchPart> {
  const workerCounts = (process.env.TOKEN_BENCH_WORKERS ?? '1,2').split(',').map(Number);
  const runs: [number, Scenario][] = [];
  const bare = await bareRefresh();
  for (const workers of workerCounts) runs.push([workers, await scenario(workers)]);
  const best = (pick: (s: Scenario) => Load) => runs.reduce((a, b) => (pick(b[1]).rps > pick(a[1]).rps ? b : a));
  const [exWorkers, exBest] = best((s) => s.exchange);
  const [rfWorkers, rfBest] = best((s) => s.refresh);
  const row = (name: string, workers: number, l: Load) =>
    `| ${name} | ${workers} | ${l.total} | ${round(l.rps, 0)} | ${l.p50} | ${l.p99} | ${l.non2xx + l.errors} | ${round(l.serverCpu, 2)} | ${round(l.pgCpu, 2)} | ${round(cpuMsPerRequest(l), 2)} | ${round(mainThreadCpuMsPerRequest(l), 2)} | ${round(pgCpuMsPerRequest(l), 2)} |`;
  const rows = [
    ...runs.flatMap(([w, s]) => [row('authorization_code', w, s.exchange), row('refresh_token', w, s.refresh)]),
    row('refresh_token, bare oidc-provider', 1, bare),
  ].join('\n');
  const first = runs[0][1];
  const ratio = (l: Load) => round(l.rps / bare.rps, 2);
  return {
    title: 'Token endpoint (Postgres + Redis)',
    results: {
      'token.code_exchange_rps': { value: round(exBest.exchange.rps, 1), unit: 'req/s' },
      'token.code_exchange_p99_ms': { value: exBest.exchange.p99, unit: 'ms' },
      'token.refresh_rps': { value: round(rfBest.refresh.rps, 1), unit: 'req/s' },
      'token.refresh_p99_ms': { value: rfBest.refresh.p99, unit: 'ms' },
      [`token.code_exchange_rps_${workerCounts[0]}proc`]: { value: round(first.exchange.rps, 1), unit: 'req/s' },
      [`token.refresh_rps_${workerCounts[0]}proc`]: { value: round(first.refresh.rps, 1), unit: 'req/s' },
      'token.authorize_prompt_none_rps': { value: round(first.mintRps, 1), unit: 'req/s' },
      'token.bare_oidc_provider_refresh_rps': { value: round(bare.rps, 1), unit: 'req/s' },
      'token.bare_oidc_provider_refresh_cpu_ms': { value: round(cpuMsPerRequest(bare), 2), unit: 'ms' },
      'token.code_exchange_cpu_ms': { value: round(cpuMsPerRequest(exBest.exchange), 2), unit: 'ms' },
      'token.refresh_cpu_ms': { value: round(cpuMsPerRequest(rfBest.refresh), 2), unit: 'ms' },
      'token.code_exchange_main_thread_cpu_ms': { value: round(mainThreadCpuMsPerRequest(exBest.exchange), 2), unit: 'ms' },
      'token.refresh_main_thread_cpu_ms': { value: round(mainThreadCpuMsPerRequest(rfBest.refresh), 2), unit: 'ms' },
      'token.code_exchange_pg_cpu_ms': { value: round(pgCpuMsPerRequest(exBest.exchange), 2), unit: 'ms' },
      'token.refresh_pg_cpu_ms': { value: round(pgCpuMsPerRequest(rfBest.refresh), 2), unit: 'ms' },
      'token.refresh_ratio_to_bare': { value: ratio(rfBest.refresh), unit: '×' },
      'token.code_exchange_ratio_to_bare_refresh': { value: ratio(exBest.exchange), unit: '×' },
    },
    markdown: `The provider runs as its own process tree (\`WORKERS\` = ${workerCounts.join(' or ')} processes sharing the port through node:cluster), Postgres and Redis on the same 2-core machine, autocannon with ${CONNECTIONS} connections in the bench process (which takes CPU too). Code exchange: ${WARM_CODES + CODES} codes minted beforehand through \`/auth?prompt=none\` on a signed-in session (${round(first.mintRps, 0)} req/s with ${workerCounts[0]} process(es)), each exchanged once with PKCE and client_secret_basic, RS256 ID token issued; the first ${WARM_CODES} warm the endpoint up, the next ${CODES} are timed. Refresh: ${REFRESH_SECONDS} s on one refresh token (confidential client, not rotated). Target ≥ 800 token requests/s per grant. Headline figures in results.json are the better of the process counts (code exchange: ${exWorkers}, refresh: ${rfWorkers}).

Yardstick, same run, same load generator and connections: bare oidc-provider (same version, in-memory adapter, one process, confidential client, RS256 ID token; \`bench/bareProvider.ts\`) answered **${round(bare.rps, 0)} refreshes/s**. Facegate: refresh **${ratio(rfBest.refresh)}×** of it, code exchange **${ratio(exBest.exchange)}×** of it. The ratio is the figure to compare across runs on a shared machine: load from other work lowers both sides.

| grant | processes | requests | req/s | p50 ms | p99 ms | failed | provider CPU (cores) | Postgres CPU (cores) | provider CPU ms / request | of which main thread | its database's Postgres backends, CPU ms / request |
|---|---|---|---|---|---|---|---|---|---|---|---|
${rows}

${WHERE_TIME_GOES}`,
  };
}
