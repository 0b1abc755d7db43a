/** Validation of the tenant and user ids the custodian is asked about. */
import { InputError } from '../errors.ts';
import { isTenantId, isUuid } from '../ids.ts';

export function checkIds(tenantId: unknown, userId: unknown): asserts tenantId is string {
  if (!isTenantId(tenantId)) throw new InputError('custodian.bad_tenant', 'tenant id is invalid');
  if (!isUuid(userId)) throw new InputError('custodian.bad_user', 'user id must be a lowercase UUID');
}
