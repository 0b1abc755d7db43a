/**
 * Tenants: each has its own issuer, clients, users, keys and audit chain. The app role may add
 * tenants but never rename or delete them (a deletion would cascade to the audit log).
 */
import { appendAudit } from '../audit/log.ts';
import { ConflictError, InputError, NotFoundError } from '../errors.ts';
import type { Database, Sql } from '../store/db.ts';
import { isTenantId } from '../ids.ts';

export type Tenant = { id: string; name: string; createdAt: Date };

export function validateTenantId(id: string): string {
  if (!isTenantId(id)) throw new InputError('tenant.invalid_id', `tenant id must be 1–63 lowercase letters, digits or '-', starting with a letter or digit; got "${id}"`);
  return id;
}

function validateName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 200 || /[\p{Cc}]/u.test(trimmed)) {
    throw new InputError('tenant.invalid_name', 'tenant name must be 1–200 printable characters');
  }
  return trimmed;
}

type TenantRow = { id: string; name: string; created_at: Date };
const toTenant = (r: TenantRow): Tenant => ({ id: r.id, name: r.name, createdAt: new Date(r.created_at) });

async function insertTenant(sql: Sql, id: string, name: string, actor: string): Promise<Tenant | undefined> {
  const { rows } = await sql.query<TenantRow>(
    'INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id, name, created_at',
    [id, name],
  );
  if (!rows[0]) return undefined;
  await appendAudit(sql, id, { type: 'tenant.created', actor, subject: id, data: { name } });
  return toTenant(rows[0]);
}

export async function createTenant(db: Database, input: { id: string; name: string }, actor: string): Promise<Tenant> {
  const id = validateTenantId(input.id);
  const name = validateName(input.name);
  const tenant = await db.withTenant(id, (sql) => insertTenant(sql, id, name, actor));
  if (!tenant) throw new ConflictError('tenant.exists', `tenant "${id}" already exists`);
  return tenant;
}

/** Creates the tenant unless it exists (the quick-start default tenant); true when created. */
export async function ensureTenant(db: Database, input: { id: string; name: string }, actor: string): Promise<boolean> {
  const id = validateTenantId(input.id);
  const name = validateName(input.name);
  return Boolean(await db.withTenant(id, (sql) => insertTenant(sql, id, name, actor)));
}

export async function listTenants(db: Database): Promise<Tenant[]> {
  const { rows } = await db.transaction((sql) => sql.query<TenantRow>('SELECT id, name, created_at FROM tenants ORDER BY id'));
  return rows.map(toTenant);
}

/**
 * Runs `fn` in a transaction scoped to an existing tenant: a malformed id is an InputError and
 * an unknown one NotFoundError `tenant.not_found`, instead of a foreign-key failure later.
 */
export async function inTenant<T>(db: Database, tenantId: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
  validateTenantId(tenantId);
  return db.withTenant(tenantId, async (sql) => {
    const { rows } = await sql.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId]);
    if (!rows.length) throw new NotFoundError('tenant.not_found', `tenant "${tenantId}" does not exist`);
    return fn(sql);
  });
}
