/** Validation of the tenant and user ids the custodian is asked about. */
import { InputError } from '../errors.ts';

const TENANT = /^[a-z0-9][a-z0-9-]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function checkIds(tenantId: unknown, userId: unknown): asserts tenantId is string {
  if (typeof tenantId !== 'string' || !TENANT.test(tenantId)) throw new InputError('custodian.bad_tenant', 'tenant id is invalid');
  if (typeof userId !== 'string' || !UUID.test(userId)) throw new InputError('custodian.bad_user', 'user id must be a lowercase UUID');
}
