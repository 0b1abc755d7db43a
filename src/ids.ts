/** The identifier formats every layer checks: tenant ids and user ids (lowercase UUIDs). */

/** Same rule as the tenants.id CHECK: tenant ids appear in issuer URLs (`/t/<id>`). */
export const TENANT_ID_PATTERN = '[a-z0-9][a-z0-9-]{0,62}';
export const TENANT_ID = new RegExp(`^${TENANT_ID_PATTERN}$`);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isTenantId(id: unknown): id is string {
  return typeof id === 'string' && TENANT_ID.test(id);
}

export function isUuid(id: unknown): id is string {
  return typeof id === 'string' && UUID.test(id);
}
