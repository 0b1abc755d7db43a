/**
 * Tenant → provider instance. Instances are built on first use and rebuilt after `ttlMs` so
 * that a key rotation done by another process reaches this one without a restart.
 */
import type Provider from 'oidc-provider';
import { NotFoundError } from '../errors.ts';
import { createTenantProvider, type ProviderDeps } from './provider.ts';

export type ProviderRegistry = { get(tenantId: string): Promise<Provider> };

export function providerRegistry(deps: ProviderDeps, ttlMs = 60_000): ProviderRegistry {
  const cache = new Map<string, { provider: Promise<Provider>; builtAt: number }>();
  return {
    async get(tenantId) {
      const hit = cache.get(tenantId);
      if (hit && Date.now() - hit.builtAt < ttlMs) return hit.provider;
      const { rows } = await deps.db.transaction((sql) => sql.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId]));
      if (rows.length === 0) throw new NotFoundError('tenant.not_found', `no tenant "${tenantId}"`);
      const provider = createTenantProvider(deps, tenantId);
      cache.set(tenantId, { provider, builtAt: Date.now() });
      provider.catch(() => cache.delete(tenantId));
      return provider;
    },
  };
}
