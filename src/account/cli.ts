/**
 * Admin CLI for tenants, clients, resource servers and users (`facegate tenant|client|resource|user
 * <command>`). Every
 * command validates its flags, writes through the account functions (which audit), and prints
 * a short result. `--tenant` defaults to the configured default tenant.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import QRCode from 'qrcode';
import type { CliIo } from '../../bin/facegate.ts';
import { loadConfig, type Config } from '../config.ts';
import { InputError, NotFoundError } from '../errors.ts';
import { openConfiguredDatabase, type Database } from '../store/db.ts';
import { openKeyValueStore } from '../store/kv.ts';
import { migrate } from '../store/migrate.ts';
import { resolveDataKey, type DataKey } from '../store/dataKey.ts';
import { sealLegacyRows } from '../store/sealLegacyRows.ts';
import { createClient, listClients, setClientMinAcr } from './clients.ts';
import { setPin } from './pin.ts';
import { createTenant, ensureTenant, listTenants } from './tenants.ts';
import { beginTotpEnrollment, confirmTotpEnrollment } from './totp.ts';
import { createUser, findUserByUsername, listUsers, type User } from './users.ts';
import { listConsents, revokeConsent } from './consents.ts';
import { createResourceServer, listResourceServers } from './resourceServers.ts';

export type AccountCliOptions = {
  /** Environment for loadConfig; defaults to the process environment. */
  env?: Record<string, string | undefined>;
  /** Reads the first line of standard input (for `user set-pin` without `--pin`). */
  readLine?: () => Promise<string>;
};

const ACTOR = 'cli';

const USAGE: Record<string, string[]> = {
  tenant: ['tenant create --id <id> --name <name>', 'tenant list'],
  client: [
    'client create [--tenant T] --redirect-uri URL [--redirect-uri URL …] [--post-logout-redirect-uri URL …]',
    '              [--auth-method client_secret_basic|client_secret_post|private_key_jwt|none] [--jwks-uri URL] [--public]',
    '              [--grant-types authorization_code,refresh_token] [--min-acr urn:facegate:loa:N] [--name N] [--client-id ID]',
    '              (--public is --auth-method none; private_key_jwt needs --jwks-uri)',
    'client list [--tenant T]',
    'client set-min-acr [--tenant T] --client-id ID --min-acr urn:facegate:loa:N|none',
  ],
  resource: [
    'resource create [--tenant T] --uri https://api.example.com [--scope read …] [--audience AUD] [--token-format jwt|opaque]',
    'resource list [--tenant T]',
  ],
  user: [
    'user create [--tenant T] --username U [--email E]',
    'user list [--tenant T]',
    'user set-pin [--tenant T] --username U [--pin P]   (without --pin, the PIN is read from stdin)',
    'user enroll-totp [--tenant T] --username U [--replace] [--issuer NAME]',
    'user confirm-totp [--tenant T] --username U --code 123456',
    'user consents [--tenant T] --username U',
    'user revoke-consent [--tenant T] --username U --client-id ID',
  ],
};

type Flags = Record<string, string | boolean | string[] | undefined>;
type Context = { db: Database; dataKey: DataKey; config: Config; io: CliIo; flags: Flags; options: AccountCliOptions };
type Command = { flags: NonNullable<ParseArgsConfig['options']>; run: (c: Context) => Promise<number> };

const str = (name: string) => ({ [name]: { type: 'string' as const } });
const many = (name: string) => ({ [name]: { type: 'string' as const, multiple: true } });
const bool = (name: string) => ({ [name]: { type: 'boolean' as const } });

function required(flags: Flags, name: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw new InputError('cli.missing_argument', `--${name} is required`);
  return v;
}

const tenantOf = (c: Context) => (c.flags.tenant as string | undefined) ?? c.config.defaultTenant;

async function userNamed(c: Context): Promise<User> {
  const tenant = tenantOf(c);
  const username = required(c.flags, 'username');
  const user = await findUserByUsername(c.db, tenant, username);
  if (!user) throw new NotFoundError('user.not_found', `user "${username}" does not exist in tenant "${tenant}"`);
  return user;
}

/** The PIN's line: from the caller's standard input (`io.readLine`) unless a test gives its own. */
function readLineOf(c: Context): Promise<string> {
  const readLine = c.options.readLine ?? c.io.readLine;
  if (!readLine) throw new InputError('cli.missing_argument', '--pin is required where there is no standard input');
  return readLine();
}

const COMMANDS: Record<string, Record<string, Command>> = {
  tenant: {
    create: {
      flags: { ...str('id'), ...str('name') },
      async run(c) {
        const t = await createTenant(c.db, { id: required(c.flags, 'id'), name: required(c.flags, 'name') }, ACTOR);
        c.io.out(`created tenant ${t.id} (${t.name})`);
        return 0;
      },
    },
    list: {
      flags: {},
      async run(c) {
        for (const t of await listTenants(c.db)) c.io.out(`${t.id}\t${t.name}\t${t.createdAt.toISOString()}`);
        return 0;
      },
    },
  },
  client: {
    create: {
      flags: { ...str('tenant'), ...many('redirect-uri'), ...many('post-logout-redirect-uri'), ...bool('public'), ...str('auth-method'), ...str('jwks-uri'), ...str('grant-types'), ...str('min-acr'), ...str('name'), ...str('client-id') },
      async run(c) {
        const f = c.flags;
        const grants = f['grant-types'] as string | undefined;
        const created = await createClient(
          c,
          tenantOf(c),
          {
            clientId: f['client-id'] as string | undefined,
            name: f.name as string | undefined,
            redirectUris: (f['redirect-uri'] as string[] | undefined) ?? [],
            postLogoutRedirectUris: f['post-logout-redirect-uri'] as string[] | undefined,
            public: f.public === true,
            authMethod: f['auth-method'] as string | undefined,
            jwksUri: f['jwks-uri'] as string | undefined,
            grantTypes: grants === undefined ? undefined : grants.split(',').map((g) => g.trim()).filter(Boolean),
            minAcr: f['min-acr'] as string | undefined,
          },
          ACTOR,
        );
        c.io.out(`client_id: ${created.clientId}`);
        if (created.clientSecret) {
          c.io.out(`client_secret: ${created.clientSecret}`);
          c.io.out('(the secret is shown only now: store it in the client application)');
        }
        return 0;
      },
    },
    list: {
      flags: str('tenant'),
      async run(c) {
        for (const cl of await listClients(c.db, tenantOf(c))) {
          c.io.out([cl.clientId, cl.public ? 'public' : 'confidential', cl.name ?? '-', cl.minAcr ?? '-', cl.grantTypes.join(','), cl.redirectUris.join(' ')].join('\t'));
        }
        return 0;
      },
    },
    'set-min-acr': {
      flags: { ...str('tenant'), ...str('client-id'), ...str('min-acr') },
      async run(c) {
        const raw = required(c.flags, 'min-acr');
        const value = await setClientMinAcr(c.db, tenantOf(c), required(c.flags, 'client-id'), raw === 'none' ? null : raw, ACTOR);
        c.io.out(`min_acr of ${c.flags['client-id']}: ${value ?? 'none'}`);
        return 0;
      },
    },
  },
  resource: {
    create: {
      flags: { ...str('tenant'), ...str('uri'), ...many('scope'), ...str('audience'), ...str('token-format') },
      async run(c) {
        const f = c.flags;
        const { resourceServer: rs, clientSecret } = await createResourceServer(
          c,
          tenantOf(c),
          {
            uri: required(f, 'uri'),
            audience: f.audience as string | undefined,
            scopes: f.scope as string[] | undefined,
            tokenFormat: f['token-format'] as string | undefined,
          },
          ACTOR,
        );
        c.io.out(`resource server ${rs.uri} (audience ${rs.audience}, ${rs.tokenFormat} access tokens, scopes: ${rs.scopes.join(' ') || '-'})`);
        c.io.out(`introspection client_id: ${rs.clientId}`);
        c.io.out(`introspection client_secret: ${clientSecret}`);
        c.io.out('(the secret is shown only now: it lets the resource server introspect its own tokens, nothing else)');
        return 0;
      },
    },
    list: {
      flags: str('tenant'),
      async run(c) {
        for (const rs of await listResourceServers(c.db, tenantOf(c))) {
          c.io.out([rs.uri, rs.audience, rs.tokenFormat, rs.scopes.join(' ') || '-', rs.clientId].join('\t'));
        }
        return 0;
      },
    },
  },
  user: {
    create: {
      flags: { ...str('tenant'), ...str('username'), ...str('email') },
      async run(c) {
        const u = await createUser(c.db, tenantOf(c), { username: required(c.flags, 'username'), email: c.flags.email as string | undefined }, ACTOR);
        c.io.out(`created user ${u.username} (${u.id})`);
        return 0;
      },
    },
    list: {
      flags: str('tenant'),
      async run(c) {
        for (const u of await listUsers(c.db, tenantOf(c))) c.io.out(`${u.username}\t${u.id}\t${u.email ?? '-'}`);
        return 0;
      },
    },
    'set-pin': {
      flags: { ...str('tenant'), ...str('username'), ...str('pin') },
      async run(c) {
        const user = await userNamed(c);
        const pin = (c.flags.pin as string | undefined) ?? (await readLineOf(c)).trim();
        if (!pin) throw new InputError('cli.missing_argument', 'give the PIN with --pin or on standard input');
        await setPin(c.db, tenantOf(c), user.id, pin, ACTOR);
        c.io.out(`PIN set for ${user.username}`);
        return 0;
      },
    },
    'enroll-totp': {
      flags: { ...str('tenant'), ...str('username'), ...bool('replace'), ...str('issuer') },
      async run(c) {
        const user = await userNamed(c);
        const e = await beginTotpEnrollment(c, tenantOf(c), user.id, {
          issuer: c.flags.issuer as string | undefined,
          replace: c.flags.replace === true,
          actor: ACTOR,
        });
        c.io.out(`scan with an authenticator app, or enter the secret ${e.secret}`);
        c.io.out(e.uri);
        c.io.out(await QRCode.toString(e.uri, { type: 'terminal', small: true }));
        c.io.out(`then confirm: facegate user confirm-totp --tenant ${tenantOf(c)} --username ${user.username} --code <6 digits>`);
        return 0;
      },
    },
    'confirm-totp': {
      flags: { ...str('tenant'), ...str('username'), ...str('code') },
      async run(c) {
        const user = await userNamed(c);
        const kv = openKeyValueStore(c.config.redisUrl);
        try {
          await confirmTotpEnrollment({ db: c.db, kv, dataKey: c.dataKey }, tenantOf(c), user.id, required(c.flags, 'code'), ACTOR);
        } finally {
          await kv.close();
        }
        c.io.out(`TOTP enrolled for ${user.username}`);
        return 0;
      },
    },
    consents: {
      flags: { ...str('tenant'), ...str('username') },
      async run(c) {
        const user = await userNamed(c);
        for (const consent of await listConsents(c.db, tenantOf(c), user.id)) c.io.out(`${consent.clientId}\t${consent.scopes.join(' ')}`);
        return 0;
      },
    },
    'revoke-consent': {
      flags: { ...str('tenant'), ...str('username'), ...str('client-id') },
      async run(c) {
        const user = await userNamed(c);
        const clientId = required(c.flags, 'client-id');
        const removed = await revokeConsent(c.db, tenantOf(c), user.id, clientId, ACTOR);
        if (removed === 0) throw new NotFoundError('consent.not_found', `${user.username} has no consent for client "${clientId}"`);
        c.io.out(`consent of ${user.username} to ${clientId} revoked; its tokens no longer work`);
        return 0;
      },
    },
  },
};

/** `args[0]` is the group (tenant | client | resource | user), `args[1]` the command. */
export async function run(args: string[], io: CliIo, options: AccountCliOptions = {}): Promise<number> {
  const [group = '', name = '', ...rest] = args;
  const command = COMMANDS[group]?.[name];
  if (!command) {
    io.err(`usage:\n${(USAGE[group] ?? Object.values(USAGE).flat()).map((l) => `  facegate ${l}`).join('\n')}`);
    return 2;
  }
  let flags: Flags;
  try {
    flags = parseArgs({ args: rest, options: command.flags, strict: true, allowPositionals: false }).values as Flags;
  } catch (e) {
    throw new InputError('cli.invalid_arguments', `${(e as Error).message}\nusage:\n${USAGE[group].map((l) => `  facegate ${l}`).join('\n')}`);
  }
  const config = loadConfig(options.env);
  const db = openConfiguredDatabase(config);
  const dataKey = resolveDataKey(config);
  try {
    await migrate(db);
    await sealLegacyRows(db, dataKey);
    // The quick start's first command may run before the server's first start made the default tenant.
    if (db.kind === 'pglite') await ensureTenant(db, { id: config.defaultTenant, name: 'Default tenant' }, 'system');
    return await command.run({ db, dataKey, config, io, flags, options });
  } finally {
    await db.close();
  }
}
