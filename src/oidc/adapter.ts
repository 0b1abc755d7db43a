/**
 * oidc-provider storage adapter on Postgres/PGlite, one instance per model and tenant.
 * Rows live in `oidc_payloads` (RLS by tenant); clients come from the `clients` table that the
 * admin CLI writes, so they are read-only here. Expired rows are invisible and swept.
 *
 * A database reader must not be able to use what it reads: every bearer value (token, code,
 * session and interaction id, uid, user code) is stored only as a keyed hash, and payloads,
 * which repeat such values, are sealed to their row. Grants are the exception: their ids are
 * not bearer values, tokens reference them in `grant_id`, and consents (account/consents.ts)
 * read their payloads. Single-use rows are consumed with a conditional UPDATE, so of parallel
 * uses exactly one wins. Client rows are read through `clients` (clientCache.ts) when given.
 *
 * Authorization codes and access tokens live in the key-value store instead (Redis, or in process
 * on the embedded defaults), as oidc-provider's adapter guidance has short-lived artifacts: a code
 * at most a minute old, read and consumed once; an access token at most an hour old, written on
 * every token request and read by userinfo and introspection, which both also check its grant in
 * the database (so revoking a grant there ends them at once). The same protections hold there:
 * the key is the keyed hash, the value sealed, and consuming is one atomic SET-if-absent of a
 * marker, so of parallel uses exactly one wins. Revoking a grant through the adapter leaves a
 * marker under the grant's hash that the model's entries are checked against: when read, or, for a
 * code found unconsumed in a token request, when consumed, in the same atomic step (one Redis
 * request fewer per code exchange; a code of a revoked grant is still never exchanged, since every
 * exchange consumes it before issuing anything). A code exchange thus makes two Redis requests
 * (read the code and its consumed marker; consume it unless its grant is revoked) and writes its
 * access token.
 * Refresh tokens, grants and sessions stay in the database: durable, and revoked at once.
 *
 * A token request reads its refresh token (or code), then the grant, the session and the user it
 * names, one after the other. As soon as the refresh token or code is read, the adapter starts the
 * reads of the others at once (`readAhead`), so they go to Postgres together (one round trip and
 * one transaction in the statement batcher) and the lookups of the same request take them
 * (requestReads.ts). They stay separate simple statements: one statement joining them cost
 * Postgres 3–4× the CPU of the three (planning; measured per backend over 2,000 reads).
 */
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Database, Sql } from '../store/db.ts';
import type { DataKey } from '../store/dataKey.ts';
import { clientSecretContext } from '../account/clients.ts';
import type { ClientCache } from './clientCache.ts';
import type { KeyValueStore } from '../store/kv.ts';
import { accountReadKey, readAccountRow } from './account.ts';
import { forgetForRequest, inRequest, keepForRequest, takeFromRequest } from './requestReads.ts';
import { isUuid } from '../ids.ts';

type PayloadRow = { id: string; payload: AdapterPayload | string; consumed_at: Date | null; grant_id: string | null; account_id: string | null };

const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/** Models stored in clear: ids referenced by other rows, payloads with no bearer value. */
const CLEAR_MODELS = new Set(['Grant']);

/** The error a request gets when it loses the race to consume a single-use row. */
function alreadyConsumed(model: string): Error {
  return model === 'PushedAuthorizationRequest'
    ? new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used')
    : new errors.InvalidGrant(`${model} already consumed`);
}

/**
 * The account a payload belongs to, stored in clear in `account_id` so deleting a user finds its
 * rows (account/deletion.ts): sessions, grants and tokens name it, an interaction once signed in.
 * '' for a row of no account (client credentials, an interaction before sign-in).
 */
export function payloadAccountId(payload: AdapterPayload): string {
  const p = payload as { accountId?: unknown; session?: { accountId?: unknown }; result?: { login?: { accountId?: unknown } } };
  const id = p.accountId ?? p.session?.accountId ?? p.result?.login?.accountId;
  return typeof id === 'string' ? id : '';
}

/**
 * Models kept in the key-value store, and how long (s) each may live there: at least the ttl the
 * provider gives it (provider.ts: codes 60 s, access tokens 3600 s); an entry asking for longer
 * is refused, since its consumed and revoked-grant markers live this long.
 */
const KV_MAX_TTL_S = new Map([
  ['AuthorizationCode', 600],
  ['AccessToken', 3600],
]);

const live = (t: string) => `(${t}.expires_at IS NULL OR ${t}.expires_at > now())`;

const PAYLOAD_COLUMNS = '(tenant_id, model, id, payload, grant_id, user_code, uid, expires_at, account_id)';
const ON_CONFLICT_REPLACE = `ON CONFLICT (tenant_id, model, id) DO UPDATE
  SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, user_code = EXCLUDED.user_code,
      uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at, account_id = EXCLUDED.account_id`;

/**
 * Where a refresh token consumed in a request waits for the request's next refresh token write
 * (its rotation), which consumes it in the same statement: a request that fails in between
 * consumed nothing and issued nothing.
 */
const rotationKey = (tenantId: string) => `Rotation:${tenantId}`;

/**
 * Where the grant of a code found unconsumed in a request waits for the code's consumption, which
 * checks that grant's revoked marker (null: the code names no grant).
 */
const codeGrantKey = (tenantId: string, key: string) => `CodeGrant:${tenantId}:${key}`;

/** Where a row read ahead is kept for the request (requestReads.ts). */
const readKey = (tenantId: string, model: string, column: 'id' | 'uid' | 'user_code', key: string) => `${model}:${tenantId}:${column}:${key}`;

function payloadContext(tenantId: string, model: string, key: string): string {
  return `oidc:${tenantId}:${model}:${key}`;
}

/** The stored form of an id, uid or user code: a keyed hash, or the value itself for clear models. */
function storedKey(dataKey: DataKey, model: string, value: string): string | null {
  if (!CLEAR_MODELS.has(model)) return dataKey.mac('oidc-id', value);
  // A NUL cannot be a stored id (Postgres text has none): not found, not a database error.
  return value.includes('\0') ? null : value;
}

export function adapterFactory(db: Database, dataKey: DataKey, tenantId: string, options: { clients?: ClientCache; kv?: KeyValueStore } = {}) {
  const { clients, kv } = options;

  /** A live row of `model` by one of its keys, or null. */
  async function readRow(model: string, column: 'id' | 'uid' | 'user_code', key: string): Promise<PayloadRow | null> {
    const { rows } = await db.statement<PayloadRow>(
      tenantId,
      `SELECT id, payload, consumed_at, grant_id, account_id FROM oidc_payloads o WHERE model = $1 AND ${column} = $2 AND ${live('o')}`,
      [model, key],
    );
    return rows[0] ?? null;
  }

  return class TenantAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    private key(value: string): string | null {
      return storedKey(dataKey, this.model, value);
    }

    /** The key-value store when this model lives there. */
    private get store(): KeyValueStore | undefined {
      return kv && KV_MAX_TTL_S.has(this.model) ? kv : undefined;
    }

    private get storeMaxTtlS(): number {
      return KV_MAX_TTL_S.get(this.model)!;
    }

    /** Rows of this model read ahead for the request are about to change: read them again. */
    private forgetReads(): void {
      forgetForRequest(`${this.model}:${tenantId}:`);
    }

    private storeKey(key: string): string {
      return `oidc:${tenantId}:${this.model}:${key}`;
    }

    private revokedGrantKey(grantId: string): string {
      return `oidc:${tenantId}:${this.model}:revoked-grant:${dataKey.mac('oidc-id', grantId)}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are managed by the admin CLI');
      const key = this.key(id);
      if (key === null) throw new Error(`unusable ${this.model} id`);
      const rotated = this.model === 'RefreshToken' ? takeFromRequest<string>(rotationKey(tenantId)) : undefined;
      this.forgetReads();
      const store = this.store;
      if (store) {
        // The consumed marker outlives the value by construction (consume below).
        if (!(expiresIn > 0 && expiresIn <= this.storeMaxTtlS)) throw new Error(`${this.model} must expire within ${this.storeMaxTtlS} s`);
        await store.set(this.storeKey(key), dataKey.seal(JSON.stringify(payload), payloadContext(tenantId, this.model, key)), expiresIn * 1000);
        return;
      }
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      const stored = CLEAR_MODELS.has(this.model) ? payload : dataKey.seal(JSON.stringify(payload), payloadContext(tenantId, this.model, key));
      const hashed = (v: string | undefined) => (v === undefined ? null : dataKey.mac('oidc-id', v));
      const values = [tenantId, this.model, key, JSON.stringify(stored), payload.grantId ?? null, hashed(payload.userCode), hashed(payload.uid), expiresAt, payloadAccountId(payload)];
      if (rotated) {
        // The rotated token is consumed in the same statement: of parallel rotations one inserts.
        const { rowCount } = await db.statement(
          tenantId,
          `WITH consumed AS (
             UPDATE oidc_payloads SET consumed_at = now() WHERE model = $2 AND id = $10 AND consumed_at IS NULL RETURNING 1)
           INSERT INTO oidc_payloads ${PAYLOAD_COLUMNS}
           SELECT $1, $2, $3, $4::jsonb, $5, $6, $7, $8::timestamptz, $9 FROM consumed ${ON_CONFLICT_REPLACE}`,
          [...values, rotated],
        );
        if (rowCount !== 1) throw alreadyConsumed(this.model);
        return;
      }
      await db.statement(tenantId, `INSERT INTO oidc_payloads ${PAYLOAD_COLUMNS} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ${ON_CONFLICT_REPLACE}`, values);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return this.findClient(id);
      if (this.store) return this.findInStore(this.store, this.key(id));
      if (this.model === 'RefreshToken') return this.findRefreshToken(this.key(id));
      return this.findBy('id', this.key(id));
    }

    findByUid(uid: string) {
      return this.findBy('uid', dataKey.mac('oidc-id', uid));
    }

    findByUserCode(userCode: string) {
      return this.findBy('user_code', dataKey.mac('oidc-id', userCode));
    }

    private findClient(clientId: string): Promise<AdapterPayload | undefined> {
      if (clientId.includes('\0')) return Promise.resolve(undefined);
      return clients ? clients.get(tenantId, clientId, () => this.readClient(clientId)) : this.readClient(clientId);
    }

    private async readClient(clientId: string): Promise<AdapterPayload | undefined> {
      const { rows } = await db.statement<{ metadata: AdapterPayload; min_acr: string | null }>(
        tenantId,
        'SELECT metadata, min_acr FROM clients WHERE client_id = $1',
        [clientId],
      );
      const row = rows[0];
      if (!row) return undefined;
      const { client_secret: sealed, ...metadata } = row.metadata;
      return {
        ...metadata,
        ...(typeof sealed === 'string' ? { client_secret: dataKey.open(sealed, clientSecretContext(tenantId, clientId)).toString('utf8') } : {}),
        // The operator's floor lives in its own column so the CLI can change it alone.
        ...(row.min_acr ? { facegate_min_acr: row.min_acr } : {}),
      };
    }

    private async findInStore(store: KeyValueStore, key: string | null): Promise<AdapterPayload | undefined> {
      if (key === null) return undefined;
      const [sealed, consumed] = await store.getMany([this.storeKey(key), `${this.storeKey(key)}:consumed`]);
      if (sealed === null) return undefined;
      const payload: AdapterPayload = JSON.parse(dataKey.open(sealed, payloadContext(tenantId, this.model, key)).toString('utf8'));
      if (this.model === 'AuthorizationCode' && consumed === null && inRequest()) {
        // Its grant's revoked marker is checked when it is consumed (consume), atomically with that.
        keepForRequest(codeGrantKey(tenantId, key), payload.grantId ?? null);
        this.readAhead(payload);
        return payload;
      }
      if (payload.grantId && (await store.get(this.revokedGrantKey(payload.grantId))) !== null) return undefined;
      return consumed === null ? payload : { ...payload, consumed: Number(consumed) };
    }

    /**
     * The revoked markers that forbid consuming entry `key`: its grant's, as found in this request
     * (findInStore), or else as its entry names it.
     */
    private async revokedMarkersOf(store: KeyValueStore, key: string): Promise<string[]> {
      let grantId = takeFromRequest<string>(codeGrantKey(tenantId, key));
      if (grantId === undefined) {
        const sealed = await store.get(this.storeKey(key));
        grantId = sealed === null ? null : (JSON.parse(dataKey.open(sealed, payloadContext(tenantId, this.model, key)).toString('utf8')) as AdapterPayload).grantId ?? null;
      }
      return grantId ? [this.revokedGrantKey(grantId)] : [];
    }

    private async findBy(column: 'id' | 'uid' | 'user_code', key: string | null): Promise<AdapterPayload | undefined> {
      if (key === null) return undefined;
      const kept = takeFromRequest<Promise<PayloadRow | null>>(readKey(tenantId, this.model, column, key));
      const row = kept === undefined ? await readRow(this.model, column, key) : await kept;
      return row ? this.fromRow(row) : undefined;
    }

    private fromRow(row: PayloadRow): AdapterPayload {
      const payload: AdapterPayload = typeof row.payload === 'string'
        ? JSON.parse(dataKey.open(row.payload, payloadContext(tenantId, this.model, row.id)).toString('utf8'))
        : row.payload;
      return row.consumed_at ? { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : payload;
    }

    /** A refresh token by id; the reads of its grant and user start as soon as it is found. */
    private async findRefreshToken(key: string | null): Promise<AdapterPayload | undefined> {
      if (key === null) return undefined;
      const row = await readRow(this.model, 'id', key);
      if (!row) return undefined;
      this.readAhead({ grantId: row.grant_id, accountId: row.account_id });
      return this.fromRow(row);
    }

    /**
     * Starts reading the grant, user and (for a token that expires with it) session that `payload`
     * names, for the lookups that follow in the same token request; outside a request nothing would
     * take them. Started together, they share a round trip and a transaction.
     */
    private readAhead(payload: { grantId?: unknown; accountId?: unknown; sessionUid?: unknown; expiresWithSession?: unknown }): void {
      if (!inRequest()) return;
      const keep = (key: string, read: Promise<unknown>) => {
        // Taken or not, a failed read must not be an unhandled rejection; the taker sees it.
        read.catch(() => {});
        keepForRequest(key, read);
      };
      const grantId = usableId(payload.grantId);
      if (grantId !== null) keep(readKey(tenantId, 'Grant', 'id', grantId), readRow('Grant', 'id', grantId));
      if (isUuid(payload.accountId)) keep(accountReadKey(tenantId, payload.accountId), readAccountRow(db, tenantId, payload.accountId));
      // oidc-provider looks the session up only for a token that expires with it.
      const sessionUid = payload.expiresWithSession ? usableId(payload.sessionUid) : null;
      if (sessionUid !== null) {
        const uid = dataKey.mac('oidc-id', sessionUid);
        keep(readKey(tenantId, 'Session', 'uid', uid), readRow('Session', 'uid', uid));
      }
    }

    /** Marks a single-use row used; a second (or concurrent) use fails instead of succeeding again. */
    async consume(id: string): Promise<void> {
      const key = this.key(id);
      this.forgetReads();
      if (this.model === 'RefreshToken' && key !== null && inRequest()) {
        // Rotation: oidc-provider saves the new token next, and that statement consumes this one.
        keepForRequest(rotationKey(tenantId), key);
        return;
      }
      const store = this.store;
      if (store) {
        if (key === null) throw alreadyConsumed(this.model);
        // Kept as long as the value may live, so a replay always finds it.
        const marker = `${this.storeKey(key)}:consumed`;
        const revoked = await this.revokedMarkersOf(store, key);
        const first = await store.setIfAbsentUnless(marker, String(Math.floor(Date.now() / 1000)), this.storeMaxTtlS * 1000, revoked);
        if (!first) throw revoked.length ? new errors.InvalidGrant(`${this.model} already consumed, or its grant revoked`) : alreadyConsumed(this.model);
        return;
      }
      const { rowCount } = key === null ? { rowCount: 0 } : await db.statement(
        tenantId,
        'UPDATE oidc_payloads SET consumed_at = now() WHERE model = $1 AND id = $2 AND consumed_at IS NULL',
        [this.model, key],
      );
      if (rowCount !== 1) throw alreadyConsumed(this.model);
    }

    async destroy(id: string): Promise<void> {
      const key = this.key(id);
      if (key === null) return;
      this.forgetReads();
      if (this.store) return this.store.delete(this.storeKey(key));
      await db.statement(tenantId, 'DELETE FROM oidc_payloads WHERE model = $1 AND id = $2', [this.model, key]);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      if (grantId.includes('\0')) return;
      this.forgetReads();
      // Entries in the store are not indexed by grant: a marker, kept as long as they may live, revokes them.
      if (this.store) return this.store.set(this.revokedGrantKey(grantId), '1', this.storeMaxTtlS * 1000);
      await db.statement(tenantId, 'DELETE FROM oidc_payloads WHERE grant_id = $1 AND model = ANY($2)', [grantId, [...GRANTABLE]]);
    }
  };
}

/** An id a payload names, usable in a statement (a NUL cannot be stored), or null. */
function usableId(value: unknown): string | null {
  return typeof value === 'string' && value !== '' && !value.includes('\0') ? value : null;
}

/**
 * Deletes every OIDC row of one account in the caller's tenant transaction: rows naming it,
 * rows of its grants (tokens, codes), and rows written before `account_id` existed whose
 * opened payload names it. Returns how many.
 */
export async function deleteAccountPayloads(sql: Sql, dataKey: DataKey, tenantId: string, accountId: string): Promise<number> {
  const legacy = await sql.query<{ model: string; id: string; payload: AdapterPayload | string }>(
    'SELECT model, id, payload FROM oidc_payloads WHERE tenant_id = $1 AND account_id IS NULL',
    [tenantId],
  );
  for (const r of legacy.rows) {
    let payload: AdapterPayload;
    try {
      payload = typeof r.payload === 'string' ? JSON.parse(dataKey.open(r.payload, payloadContext(tenantId, r.model, r.id)).toString('utf8')) : r.payload;
    } catch {
      continue; // sealed under a key no longer configured: unreadable by anyone, swept when it expires
    }
    await sql.query('UPDATE oidc_payloads SET account_id = $4 WHERE tenant_id = $1 AND model = $2 AND id = $3', [tenantId, r.model, r.id, payloadAccountId(payload)]);
  }
  const { rowCount } = await sql.query(
    `DELETE FROM oidc_payloads WHERE tenant_id = $1 AND (account_id = $2
       OR grant_id IN (SELECT id FROM oidc_payloads WHERE tenant_id = $1 AND model = 'Grant' AND account_id = $2))`,
    [tenantId, accountId],
  );
  return rowCount;
}

/**
 * Deletes the key-value entries (codes, access tokens) of one account in a tenant: their keys are
 * hashes and their values sealed, so each is opened to see whom it names. Returns how many. A scan
 * of the tenant's entries: for rare maintenance (deleting a user), never a hot path.
 */
export async function deleteAccountStoreEntries(kv: KeyValueStore, dataKey: DataKey, tenantId: string, accountId: string): Promise<number> {
  let deleted = 0;
  for (const model of KV_MAX_TTL_S.keys()) {
    const prefix = payloadContext(tenantId, model, '');
    for (const storeKey of await kv.keys(prefix)) {
      const key = storeKey.slice(prefix.length);
      if (key.includes(':')) continue; // a consumed or revoked-grant marker, naming no one
      const sealed = await kv.get(storeKey);
      if (sealed === null) continue;
      let payload: AdapterPayload;
      try {
        payload = JSON.parse(dataKey.open(sealed, payloadContext(tenantId, model, key)).toString('utf8'));
      } catch {
        continue; // sealed under a key no longer configured: unreadable by anyone, gone when it expires
      }
      if (payloadAccountId(payload) === accountId) {
        await kv.delete(storeKey);
        deleted++;
      }
    }
  }
  return deleted;
}

/** Deletes expired OIDC rows of every tenant; returns how many. Run periodically. */
export async function sweepExpiredPayloads(db: Database): Promise<number> {
  // Tenant by tenant, as the app role: the server's connection cannot see past row-level security.
  const { rows } = await db.transaction((sql) => sql.query<{ id: string }>('SELECT id FROM tenants'));
  let swept = 0;
  for (const { id } of rows) swept += (await db.statement(id, 'DELETE FROM oidc_payloads WHERE expires_at <= now()')).rowCount;
  return swept;
}

/**
 * Upgrades rows written before bearer values were hashed and payloads sealed: rekeys each by
 * the hash of its id (uid, user code) and seals its payload, so sessions and tokens issued
 * before the upgrade keep working. Returns how many rows changed.
 */
export async function sealLegacyPayloads(sql: Sql, dataKey: DataKey, tenantId: string): Promise<number> {
  const { rows } = await sql.query<{ model: string; id: string; payload: AdapterPayload; uid: string | null; user_code: string | null }>(
    "SELECT model, id, payload, uid, user_code FROM oidc_payloads WHERE model <> ALL($1) AND jsonb_typeof(payload) = 'object'",
    [[...CLEAR_MODELS]],
  );
  const hashed = (v: string | null) => (v === null ? null : dataKey.mac('oidc-id', v));
  for (const r of rows) {
    const key = dataKey.mac('oidc-id', r.id);
    await sql.query(
      `UPDATE oidc_payloads SET id = $3, payload = $4, uid = $5, user_code = $6
       WHERE model = $1 AND id = $2 AND jsonb_typeof(payload) = 'object'`,
      [r.model, r.id, key, JSON.stringify(dataKey.seal(JSON.stringify(r.payload), payloadContext(tenantId, r.model, key))), hashed(r.uid), hashed(r.user_code)],
    );
  }
  return rows.length;
}
