/**
 * Client metadata kept in process memory, so the token endpoint does not read and unseal the
 * client row on every request. It stays exact: every change to `clients` raises a notification
 * (migration 0009), which drops the tenant's entries in every process as soon as it arrives; and
 * while this process is not listening (starting, connection lost) nothing is served from memory.
 * A read that started before a change is not kept after it (generation check), so an operator's
 * `min_acr` floor applies from the next request on.
 */
import type { AdapterPayload } from 'oidc-provider';
import type { Database } from '../store/db.ts';

export const CLIENT_CHANGES_CHANNEL = 'facegate_clients';

export type ClientCache = {
  /**
   * The client's payload from memory, or from `load` (then kept if nothing changed meanwhile).
   * Unknown ids are not kept: made-up ids must not fill memory.
   */
  get(tenantId: string, clientId: string, load: () => Promise<AdapterPayload | undefined>): Promise<AdapterPayload | undefined>;
  close(): Promise<void>;
};

export function clientCache(db: Database): ClientCache {
  const byTenant = new Map<string, Map<string, AdapterPayload>>();
  let listening = false;
  let generation = 0;
  const dropAll = () => {
    generation++;
    byTenant.clear();
  };
  const subscription = db.listen(CLIENT_CHANGES_CHANNEL, {
    notify(tenantId) {
      generation++;
      if (tenantId === '') byTenant.clear();
      else byTenant.delete(tenantId);
    },
    ready() {
      dropAll();
      listening = true;
    },
    lost() {
      listening = false;
      dropAll();
    },
  });
  return {
    async get(tenantId, clientId, load) {
      const tenant = listening ? byTenant.get(tenantId) : undefined;
      const hit = tenant?.get(clientId);
      // A copy: the caller may not change what later requests get.
      if (hit) return { ...hit };
      const startedAt = generation;
      const loaded = await load();
      if (loaded && listening && generation === startedAt) {
        let entries = byTenant.get(tenantId);
        if (!entries) byTenant.set(tenantId, (entries = new Map()));
        entries.set(clientId, loaded);
      }
      return loaded && { ...loaded };
    },
    close: () => subscription.close(),
  };
}
