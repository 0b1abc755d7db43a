/**
 * The tenant admin API, `/t/<tenant>/admin/…`: users (list, search, delete face data, delete),
 * the audit log (read, verify), clients (list). Every route is in one table that also builds the
 * OpenAPI document (`GET …/admin/openapi.json`, public). Each call needs an admin bearer token
 * of this tenant (bearer.ts); every authenticated call is audited `admin.api_call` with its
 * route and status; all data access runs in this tenant's RLS scope.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { appendAudit } from '../audit/log.ts';
import { verifyAuditChain } from '../audit/verify.ts';
import { deleteAccount, deleteFaceData, type DeletionDeps } from '../account/deletion.ts';
import { listClients } from '../account/clients.ts';
import { inTenant } from '../account/tenants.ts';
import { FacegateError, InputError, NotFoundError } from '../errors.ts';
import { isUuid } from '../ids.ts';
import { BearerError, verifyAdminBearer, type AdminCaller } from './bearer.ts';
import { openApiDocument } from './openapi.ts';

export type AdminRoute = {
  method: 'get' | 'delete';
  /** Koa path below `/admin`, `:name` for parameters. */
  path: string;
  summary: string;
  query?: Record<string, string>;
  handle(ctx: Context, env: AdminEnv): Promise<unknown>;
};

type AdminEnv = { deps: DeletionDeps; tenantId: string; caller: AdminCaller };

const MAX_QUERY = 64;
const USERNAME_PREFIX = /^[a-z0-9._@-]*$/;

function userId(ctx: Context): string {
  const id = String(ctx.params.id);
  if (!isUuid(id)) throw new InputError('admin.invalid_id', 'user id must be a lowercase UUID');
  return id;
}

function limit(ctx: Context, fallback: number, max: number): number {
  const raw = ctx.query.limit;
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw new InputError('admin.invalid_query', `limit must be 1–${max}`);
  return Number(raw);
}

function single(ctx: Context, name: string, maxChars: number): string | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length > maxChars) throw new InputError('admin.invalid_query', `${name} must be one value of at most ${maxChars} characters`);
  return raw;
}

export const ADMIN_ROUTES: AdminRoute[] = [
  {
    method: 'get',
    path: '/users',
    summary: 'List users, or search them by username prefix (q)',
    query: { q: 'username prefix, at most 64 characters', limit: '1–100, default 50' },
    async handle(ctx, { deps, tenantId }) {
      const q = (single(ctx, 'q', MAX_QUERY) ?? '').toLowerCase();
      if (!USERNAME_PREFIX.test(q)) throw new InputError('admin.invalid_query', "q may hold only a–z, 0–9, '.', '_', '@', '-'");
      const { rows } = await inTenant(deps.db, tenantId, (sql) =>
        sql.query<{ id: string; username: string; email: string | null; created_at: Date; face: boolean }>(
          `SELECT u.id, u.username, u.email, u.created_at, EXISTS (SELECT 1 FROM face_templates f WHERE f.tenant_id = u.tenant_id AND f.user_id = u.id) AS face
           FROM users u WHERE u.tenant_id = $1 AND starts_with(u.username, $2) ORDER BY u.username LIMIT $3`,
          [tenantId, q, limit(ctx, 50, 100)],
        ),
      );
      return { users: rows.map((r) => ({ id: r.id, username: r.username, email: r.email, createdAt: new Date(r.created_at).toISOString(), faceEnrolled: r.face })) };
    },
  },
  {
    method: 'delete',
    path: '/users/:id/face',
    summary: "Delete a user's face data (template deleted, custodian key shredded)",
    async handle(ctx, { deps, tenantId, caller }) {
      return deleteFaceData(deps, tenantId, userId(ctx), `admin:${caller.clientId}`);
    },
  },
  {
    method: 'delete',
    path: '/users/:id',
    summary: 'Delete a user and everything held about them; answers the pseudonym the audit log keeps',
    async handle(ctx, { deps, tenantId, caller }) {
      return deleteAccount(deps, tenantId, userId(ctx), `admin:${caller.clientId}`);
    },
  },
  {
    method: 'get',
    path: '/audit',
    summary: 'Audit events in order, from seq `after` on',
    query: { after: 'seq to start after, default 0', limit: '1–1000, default 100' },
    async handle(ctx, { deps, tenantId }) {
      const after = single(ctx, 'after', 18) ?? '0';
      if (!/^\d{1,18}$/.test(after)) throw new InputError('admin.invalid_query', 'after must be a sequence number');
      const { rows } = await inTenant(deps.db, tenantId, (sql) =>
        sql.query<{ seq: string; at: Date; type: string; actor: string | null; subject: string | null; data: unknown }>(
          'SELECT seq, at, type, actor, subject, data FROM audit_events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
          [tenantId, after, limit(ctx, 100, 1000)],
        ),
      );
      return { events: rows.map((r) => ({ ...r, seq: Number(r.seq), at: new Date(r.at).toISOString() })) };
    },
  },
  {
    method: 'get',
    path: '/audit/verify',
    summary: "Verify the tenant's audit chain",
    async handle(_ctx, { deps, tenantId }) {
      return verifyAuditChain(deps.db, tenantId);
    },
  },
  {
    method: 'get',
    path: '/clients',
    summary: 'List clients (no secrets)',
    async handle(_ctx, { deps, tenantId }) {
      return { clients: await listClients(deps.db, tenantId) };
    },
  },
];

/** The router for one tenant; `issuer` is the tenant's issuer URL (the tokens' `iss`). */
export function adminRouter(deps: DeletionDeps, tenantId: string, issuer: string): Router {
  const router = new Router({ prefix: `/t/${tenantId}/admin` });
  router.get('/openapi.json', (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = openApiDocument(issuer, ADMIN_ROUTES);
  });
  for (const route of ADMIN_ROUTES) {
    router[route.method](route.path, async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      let caller: AdminCaller;
      try {
        caller = await verifyAdminBearer(deps, tenantId, issuer, ctx.get('authorization') || undefined);
      } catch (e) {
        if (e instanceof BearerError) ctx.set('WWW-Authenticate', e.challenge);
        throw e;
      }
      let status = 200;
      try {
        ctx.body = await route.handle(ctx, { deps, tenantId, caller });
      } catch (e) {
        status = e instanceof FacegateError ? e.status : 500;
        throw e;
      } finally {
        await deps.db.withTenant(tenantId, (sql) =>
          appendAudit(sql, tenantId, { type: 'admin.api_call', actor: `admin:${caller.clientId}`, data: { method: route.method.toUpperCase(), route: route.path, status } }),
        );
      }
    });
  }
  // Anything else under /admin: a JSON 404, not the provider's HTML.
  router.all('/{*rest}', () => {
    throw new NotFoundError('admin.no_route', 'no such admin API route');
  });
  return router;
}
