/**
 * The yardstick for the token bench: bare oidc-provider (the version facegate uses) with its
 * in-memory adapter in one process, a confidential client (client_secret_basic), RS256 ID
 * tokens and a non-rotated offline_access refresh token, as facegate serves them. Only the
 * refresh grant is compared: the in-memory adapter is an LRU of 1,000 entries, which would
 * evict thousands of codes minted beforehand.
 * Run as `node bench/bareProvider.ts <port>`: it mints the refresh token through the provider's
 * own models, prints it as one JSON line on stdout, then serves `/token` until killed.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const redirectUri = 'http://127.0.0.1:1/cb';
const clientId = 'bench';
const clientSecret = randomBytes(32).toString('base64url');
const jwk = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'client_secret_basic' }],
  jwks: { keys: [jwk as never] },
  scopes: ['openid', 'offline_access'],
  claims: { openid: ['sub', 'acr', 'amr', 'auth_time'] },
  responseTypes: ['code'],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Grant: 14 * 24 * 3600, RefreshToken: 14 * 24 * 3600 },
});

const client = (await provider.Client.find(clientId))!;
const accountId = 'bench-user';
const grant = new provider.Grant({ accountId, clientId });
grant.addOIDCScope('openid offline_access');
const grantId = await grant.save();
const now = Math.floor(Date.now() / 1000);
const refreshToken = await new provider.RefreshToken({ accountId, client, grantId, scope: 'openid offline_access', gty: 'authorization_code', authTime: now, acr: 'loa1', amr: ['pin'] }).save();

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ issuer, clientId, clientSecret, refreshToken })}\n`);
});
