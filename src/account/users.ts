/** Users of a tenant. Usernames are case-insensitive: stored and looked up in lower case. */
import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/log.ts';
import { ConflictError, InputError } from '../errors.ts';
import type { Database } from '../store/db.ts';
import { isUuid } from '../ids.ts';
import { inTenant, validateTenantId } from './tenants.ts';

export type User = { id: string; username: string; email: string | null; createdAt: Date };

const USERNAME = /^[a-z0-9._@-]{1,128}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}$/;

/** Lower-cases and checks a username; throws InputError `user.invalid_username`. */
export function normalizeUsername(username: string): string {
  const u = username.trim().toLowerCase();
  if (!USERNAME.test(u)) throw new InputError('user.invalid_username', "username must be 1–128 characters of a–z, 0–9, '.', '_', '@', '-'");
  return u;
}


type UserRow = { id: string; username: string; email: string | null; created_at: Date };
const toUser = (r: UserRow): User => ({ id: r.id, username: r.username, email: r.email, createdAt: new Date(r.created_at) });

export async function createUser(db: Database, tenantId: string, input: { username: string; email?: string }, actor: string): Promise<User> {
  const username = normalizeUsername(input.username);
  const email = input.email?.trim() || null;
  if (email !== null && !EMAIL.test(email)) throw new InputError('user.invalid_email', 'email must look like name@domain');
  return inTenant(db, tenantId, async (sql) => {
    const { rows } = await sql.query<UserRow>(
      `INSERT INTO users (tenant_id, id, username, email) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, username) DO NOTHING RETURNING id, username, email, created_at`,
      [tenantId, randomUUID(), username, email],
    );
    if (!rows[0]) throw new ConflictError('user.exists', `user "${username}" already exists in tenant "${tenantId}"`);
    await appendAudit(sql, tenantId, { type: 'user.created', actor, subject: rows[0].id, data: { username } });
    return toUser(rows[0]);
  });
}

/** The user with this username, or undefined (also for a malformed username). */
export async function findUserByUsername(db: Database, tenantId: string, username: string): Promise<User | undefined> {
  validateTenantId(tenantId);
  const u = username.trim().toLowerCase();
  if (!USERNAME.test(u)) return undefined;
  const { rows } = await db.withTenant(tenantId, (sql) =>
    sql.query<UserRow>('SELECT id, username, email, created_at FROM users WHERE tenant_id = $1 AND username = $2', [tenantId, u]),
  );
  return rows[0] && toUser(rows[0]);
}

/** The user with this id, or undefined (also for a malformed id). */
export async function findUserById(db: Database, tenantId: string, userId: string): Promise<User | undefined> {
  validateTenantId(tenantId);
  if (!isUuid(userId)) return undefined;
  const { rows } = await db.withTenant(tenantId, (sql) =>
    sql.query<UserRow>('SELECT id, username, email, created_at FROM users WHERE tenant_id = $1 AND id = $2', [tenantId, userId]),
  );
  return rows[0] && toUser(rows[0]);
}

export async function listUsers(db: Database, tenantId: string): Promise<User[]> {
  const { rows } = await inTenant(db, tenantId, (sql) =>
    sql.query<UserRow>('SELECT id, username, email, created_at FROM users WHERE tenant_id = $1 ORDER BY username', [tenantId]),
  );
  return rows.map(toUser);
}
